"""``coatshare schedule``: plan spray jobs onto cells, or solve a public UPMSP instance."""

from __future__ import annotations

import json
from enum import StrEnum
from pathlib import Path
from typing import Annotated

import typer

schedule_app = typer.Typer(
    help="Schedule spray jobs onto cells (OR-tools CP-SAT).", no_args_is_help=True
)


@schedule_app.callback()
def _schedule() -> None:
    """Schedule spray jobs onto cells (OR-tools CP-SAT)."""


class InputFormat(StrEnum):
    auto = "auto"
    upmsp = "upmsp"
    jobs = "jobs"


def _format_of(path: Path, fmt: InputFormat) -> InputFormat:
    if fmt is not InputFormat.auto:
        return fmt
    return InputFormat.jobs if path.suffix in (".json", ".yaml", ".yml") else InputFormat.upmsp


@schedule_app.command("solve")
def solve(
    instance: Annotated[Path, typer.Argument(exists=True, dir_okay=False, help="instance file")],
    fmt: Annotated[
        InputFormat, typer.Option("--format", help="upmsp, jobs (JSON/YAML) or auto")
    ] = (InputFormat.auto),
    time_limit: Annotated[float, typer.Option("--time-limit", help="wall-clock seconds")] = 30.0,
    as_json: Annotated[bool, typer.Option("--json", help="print the result as JSON")] = False,
    gantt: Annotated[Path | None, typer.Option("--gantt", help="write a Gantt chart PNG")] = None,
    seed: Annotated[int, typer.Option(help="random seed")] = 0,
    workers: Annotated[int, typer.Option(help="CP-SAT workers")] = 2,
) -> None:
    """Solve INSTANCE within the time limit and print the schedule."""
    from edge_gateway import scheduler as sch

    if _format_of(instance, fmt) is InputFormat.upmsp:
        inst = sch.read_upmsp(instance)
        res = sch.solve_upmsp(inst, time_limit, seed=seed, workers=workers)
        if gantt is not None:
            sch.save_gantt(
                _upmsp_plan(inst, res.machines), gantt, title=f"{inst.name}: {res.makespan}"
            )
        if as_json:
            typer.echo(json.dumps({"makespan": res.makespan, "machines": res.machines}))
        else:
            status = "optimal" if res.optimal else "best found"
            typer.echo(f"{inst.name}: makespan {res.makespan} ({status}, {res.elapsed_s:.1f} s)")
            for k, seq in enumerate(res.machines):
                typer.echo(f"  M{k}: {' '.join(map(str, seq))}")
        return
    problem = sch.load_problem(instance)
    result = sch.plan(problem, time_limit_s=time_limit, seed=seed, workers=workers)
    if gantt is not None:
        sch.save_gantt(result, gantt, problem)
    if as_json:
        typer.echo(json.dumps(result.as_dict()))
        return
    f = result.figures
    typer.echo(
        f"{len(problem.jobs)} jobs on {len(problem.cells)} cells: weighted tardiness "
        f"{f.weighted_tardiness:g} ({f.late_jobs} late), {f.changeovers} changeovers "
        f"({f.changeover_time_s / 3600:.1f} h, cost {f.changeover_cost:g}), makespan "
        f"{f.makespan_s / 3600:.1f} h"
    )
    for cell, slots in result.cells.items():
        typer.echo(f"  {cell}: {' '.join(s.task for s in slots)}")


def _upmsp_plan(inst, machines: list[list[int]]):
    """A Plan view of a UPMSP schedule (each job its own 'finish') for the Gantt chart."""
    from edge_gateway.scheduler.plans import Figures, Plan, Slot

    cells = {}
    for k, seq in enumerate(machines):
        t, prev, slots = 0, None, []
        for j in seq:
            su = 0 if prev is None else int(inst.s[k, prev, j])
            start, end = t + su, t + su + int(inst.p[k, j])
            slots.append(Slot(str(j), str(j), f"M{k}", t, start, end, f"M{k}"))
            t, prev = end, j
        cells[f"M{k}"] = slots
    mk = max((s[-1].end_s for s in cells.values() if s), default=0)
    return Plan(cells, Figures(0.0, 0, 0, 0, 0.0, mk, 0, float(mk)))
