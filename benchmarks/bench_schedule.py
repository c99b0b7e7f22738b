"""Scheduler benchmark: public UPMSP instances vs best known, and a shared-factory day.

Usage: ``python benchmarks/bench_schedule.py --out DIR [--time-limit 30] [--only small]``

Writes ``DIR/bench_schedule.json`` (all figures, the machine and the date), a Gantt chart of
the workload plan, and prints Markdown tables.
"""

from __future__ import annotations

import argparse
import csv
import datetime as dt
import json
import os
import platform
import sys
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))

from edge_gateway.scheduler import (  # noqa: E402
    CellFault,
    Job,
    NewJob,
    compile_problem,
    edd_plan,
    fifo_plan,
    generate_workload,
    hard_violations,
    makespan,
    plan,
    read_upmsp,
    replan,
    save_gantt,
    solve_upmsp,
)


def _machine() -> dict:
    cpu = "unknown"
    try:
        for line in Path("/proc/cpuinfo").read_text().splitlines():
            if line.startswith("model name"):
                cpu = line.split(":", 1)[1].strip()
                break
    except OSError:
        pass
    try:
        nproc = len(os.sched_getaffinity(0))
    except AttributeError:
        nproc = os.cpu_count() or 1
    import ortools

    return {
        "nproc": nproc,
        "cpu": cpu,
        "python": platform.python_version(),
        "ortools": ortools.__version__,
        "date": dt.datetime.now(dt.UTC).strftime("%Y-%m-%d %H:%M UTC"),
        # other work on the machine takes cores from the two-process search
        "load_avg_at_start": [round(x, 2) for x in os.getloadavg()],
    }


def _size_class(n: int) -> str:
    return "small (n<=12)" if n <= 12 else ("n=50" if n <= 50 else "n=100..250")


def run_upmsp(bench_dir: Path, time_limit_s: float, only: str | None) -> dict:
    with open(bench_dir / "bks_vallada_ruiz_2011.csv") as fh:
        bks = {r["instance"]: int(r["best_known_ub"]) for r in csv.DictReader(fh)}
    rows = []
    files = sorted(bench_dir.glob("instances/*/*.txt"), key=lambda p: (read_n(p), p.name))
    for path in files:
        if only and only not in str(path):
            continue
        inst = read_upmsp(path)
        res = solve_upmsp(inst, time_limit_s, seed=0, workers=2)
        assert makespan(inst, res.machines) == res.makespan
        best = bks[inst.name]
        row = {
            "instance": inst.name,
            "n": inst.n,
            "m": inst.m,
            "class": _size_class(inst.n),
            "makespan": res.makespan,
            "best_known_ub": best,
            "gap_pct": round(100.0 * (res.makespan - best) / best, 2),
            "optimal": res.optimal,
            "elapsed_s": round(res.elapsed_s, 2),
            "load_avg_1min": round(os.getloadavg()[0], 2),
        }
        rows.append(row)
        print(
            f"  {row['instance']:22s} {row['makespan']:5d} vs {best:5d}"
            f"  gap {row['gap_pct']:6.2f} %  {row['elapsed_s']:5.1f} s"
            f"  load {row['load_avg_1min']:.1f}",
            flush=True,
        )
    classes: dict[str, list[float]] = {}
    for r in rows:
        classes.setdefault(r["class"], []).append(r["gap_pct"])
    summary = {
        k: {"instances": len(v), "mean_gap_pct": round(sum(v) / len(v), 2), "max_gap_pct": max(v)}
        for k, v in classes.items()
    }
    return {"time_limit_s": time_limit_s, "instances": rows, "by_class": summary}


def read_n(path: Path) -> int:
    return int(path.name.split("_")[1])


def result_firms(problem) -> int:
    return len({j.firm for j in problem.jobs})


def run_workload(time_limit_s: float, replan_limit_s: float, out: Path) -> dict:
    problem = generate_workload(seed=0)
    comp = compile_problem(problem)
    t0 = time.perf_counter()
    fifo = fifo_plan(comp)
    edd = edd_plan(comp)
    base_s = time.perf_counter() - t0
    t0 = time.perf_counter()
    best = plan(problem, time_limit_s=time_limit_s, seed=0, workers=2)
    solve_s = time.perf_counter() - t0
    assert hard_violations(comp, best) == []
    save_gantt(
        best,
        out / "workload_plan.png",
        problem,
        title=f"{len(problem.jobs)} jobs, {result_firms(problem)} firms, "
        f"{len(problem.cells)} cells",
    )
    result = {
        "jobs": len(problem.jobs),
        "tasks": len(comp.tasks),
        "firms": result_firms(problem),
        "cells": len(problem.cells),
        "finishes": len(problem.finishes),
        "bookings": sum(len(c.bookings) for c in problem.cells),
        "fifo": fifo.figures.as_dict(),
        "edd": edd.figures.as_dict(),
        "cpsat_plan": best.figures.as_dict(),
        "baselines_s": round(base_s, 2),
        "solve_s": round(solve_s, 2),
        "changeovers_vs_fifo_pct": round(
            100.0
            * (best.figures.changeovers - fifo.figures.changeovers)
            / fifo.figures.changeovers,
            1,
        ),
        "tardiness_vs_edd": [best.figures.weighted_tardiness, edd.figures.weighted_tardiness],
    }
    now = best.figures.makespan_s // 3
    events = {
        "cell_fault": [CellFault("c3", now, now + 4 * 3600)],
        "rush_job": [
            NewJob(
                Job(
                    id="rush",
                    firm="firm07",
                    part_type="door",
                    quantity=30,
                    finish=problem.jobs[0].finish,
                    cycle_time_s=30.0,
                    load_unload_s=180.0,
                    release_s=now,
                    due_s=now + 2 * 3600,
                    weight=3,
                )
            )
        ],
    }
    for name, evs in events.items():
        t0 = time.perf_counter()
        p2, new = replan(problem, best, now, evs, time_limit_s=replan_limit_s, workers=2)
        took = time.perf_counter() - t0
        assert hard_violations(compile_problem(p2), new) == []
        moved = sum(
            1
            for cell, slots in best.cells.items()
            for s in slots
            if s.task in {x.task for sl in new.cells.values() for x in sl}
            and new.slot(s.task).cell != cell
        )
        result[f"replan_{name}"] = {
            "seconds": round(took, 2),
            "figures": new.figures.as_dict(),
            "tasks_changing_cell": moved,
        }
    return result


def _print_tables(report: dict) -> None:
    m = report["machine"]
    print(
        f"\nmachine: {m['nproc']} cores, {m['cpu']}, {m['date']}, OR-tools {m['ortools']}, "
        f"load average at start {m['load_avg_at_start']}"
    )
    if "upmsp" in report:
        up = report["upmsp"]
        print(f"\n### UPMSP-SDST, {up['time_limit_s']:g} s per instance\n")
        print("| instance | n | m | makespan | best known | gap % | time s |")
        print("|---|---|---|---|---|---|---|")
        for r in up["instances"]:
            opt = " (opt)" if r["optimal"] else ""
            print(
                f"| {r['instance']} | {r['n']} | {r['m']} | {r['makespan']}{opt} | "
                f"{r['best_known_ub']} | {r['gap_pct']:.2f} | {r['elapsed_s']:.1f} |"
            )
        print("\n| class | instances | mean gap % | max gap % |\n|---|---|---|---|")
        for k, v in up["by_class"].items():
            print(f"| {k} | {v['instances']} | {v['mean_gap_pct']:.2f} | {v['max_gap_pct']:.2f} |")
    if "workload" in report:
        w = report["workload"]
        print(
            f"\n### Shared-factory day: {w['jobs']} jobs ({w['tasks']} tasks), {w['firms']} firms, "
            f"{w['cells']} cells, {w['finishes']} finishes, {w['bookings']} bookings\n"
        )
        print("| plan | changeovers | changeover h | weighted tardiness | late jobs | makespan h |")
        print("|---|---|---|---|---|---|")
        for key in ("fifo", "edd", "cpsat_plan"):
            f = w[key]
            print(
                f"| {key} | {f['changeovers']} | {f['changeover_time_s'] / 3600:.1f} | "
                f"{f['weighted_tardiness']:.0f} | {f['late_jobs']} | {f['makespan_s'] / 3600:.1f} |"
            )
        print(
            f"\nsolve {w['solve_s']} s; changeovers vs FIFO {w['changeovers_vs_fifo_pct']} %; "
            f"re-plan after cell fault {w['replan_cell_fault']['seconds']} s "
            f"({w['replan_cell_fault']['tasks_changing_cell']} tasks change cell), "
            f"after rush job {w['replan_rush_job']['seconds']} s "
            f"({w['replan_rush_job']['tasks_changing_cell']} tasks change cell)"
        )


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--out", type=Path, required=True)
    ap.add_argument("--time-limit", type=float, default=30.0)
    ap.add_argument("--replan-limit", type=float, default=2.5)
    ap.add_argument(
        "--upmsp-dir", type=Path, default=ROOT.parent / "shared" / "benchmarks" / "upmsp"
    )
    ap.add_argument("--only", help="substring of instance paths to run (e.g. 'small')")
    ap.add_argument("--skip-upmsp", action="store_true")
    ap.add_argument("--skip-workload", action="store_true")
    args = ap.parse_args()
    args.out.mkdir(parents=True, exist_ok=True)
    report: dict = {"machine": _machine()}
    if not args.skip_upmsp:
        print(f"UPMSP instances from {args.upmsp_dir}", flush=True)
        report["upmsp"] = run_upmsp(args.upmsp_dir, args.time_limit, args.only)
    if not args.skip_workload:
        print("shared-factory workload", flush=True)
        report["workload"] = run_workload(args.time_limit, args.replan_limit, args.out)
    (args.out / "bench_schedule.json").write_text(json.dumps(report, indent=2))
    _print_tables(report)


if __name__ == "__main__":
    main()
