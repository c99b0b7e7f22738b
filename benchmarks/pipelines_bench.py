"""Pipeline runner overhead: a 12-block pipeline with trivial blocks, runner vs direct calls.

Usage: ``python benchmarks/pipelines_bench.py [--parts 2000] [--rounds 7] [--json OUT]``

The pipeline is the default spray pipeline plus a second record block (12 blocks; on the
good-part path 11 run and ``operator.ask`` is skipped). Each bound block is a trivial
callable returning fixed values (a 480x640 image and a 100x150 thickness map, so the
trace's thumbnails are part of the measured cost). The baseline calls the same callables
directly, in the same order, with the same inputs, in the same process, interleaved with
the runner rounds. Overhead per part = (runner time - direct time) / parts, median over
rounds, for both isolation modes, with the full trace on. Budget: 2 ms per part.
"""

from __future__ import annotations

import argparse
import json
import statistics
import sys
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
if str(ROOT) not in sys.path:
    sys.path.insert(0, str(ROOT))

import numpy as np  # noqa: E402

from benchmarks.machine import machine_info  # noqa: E402
from pipelines import PipelineDoc, Runner, load_library, standard_catalog  # noqa: E402

BUDGET_MS = 2.0
IMAGE = np.zeros((480, 640), np.uint8)
FILM = np.full((100, 150), 40.0)
PART = {"name": "door", "seen": "door"}
RECIPE = {"id": "door-benchmark"}


def bench_doc() -> PipelineDoc:
    doc = load_library("spray_default")
    data = doc.model_dump(mode="json", by_alias=True)
    data["id"] = "bench-12"
    data["blocks"].append(
        {"id": "record_image", "type": "data.record", "params": {"keep_image": True}}
    )
    data["wires"].append({"from": "capture.image", "to": "record_image.image"})
    return PipelineDoc.model_validate(data)


def implementations() -> dict:
    return {
        "camera.capture": lambda i, p: {"image": IMAGE, "calibration": {"fx": 1000.0}},
        "vision.locate": lambda i, p: {
            "pose": {"x_mm": 1.0},
            "outline": {"w": 600.0},
            "confidence": 0.9,
        },
        "vision.check_part": lambda i, p: {"ok": True, "score": 1.0, "reason": ""},
        "recipe.fit": lambda i, p: {"program": {"n": 10}},
        "sim.predict_thickness": lambda i, p: {"thickness": FILM, "report": {"pct": 99.0}},
        "robot.execute": lambda i, p: {"film": FILM, "cycle_s": 12.5, "completed": True},
        "qc.evaluate": lambda i, p: {"report": {"pct": 98.0}, "passed": True},
        "data.record": lambda i, p: {"record_id": "r-1"},
        "notify": lambda i, p: {},
    }


def direct_calls(impls: dict, params: dict) -> None:
    """The bound blocks of one good part, called by hand in the runner's order."""
    cap = impls["camera.capture"]({}, params["capture"])
    loc = impls["vision.locate"](
        {"image": cap["image"], "calibration": cap["calibration"], "part": PART}, params["locate"]
    )
    impls["vision.check_part"](
        {"outline": loc["outline"], "part": PART, "image": cap["image"]}, params["check"]
    )
    fit = impls["recipe.fit"](
        {"recipe": RECIPE, "pose": loc["pose"], "outline": loc["outline"]}, params["fit"]
    )
    pred = impls["sim.predict_thickness"](
        {"program": fit["program"], "recipe": RECIPE, "outline": loc["outline"]}, params["predict"]
    )
    ex = impls["robot.execute"](
        {"program": fit["program"], "prediction": pred["report"]}, params["execute"]
    )
    qc = impls["qc.evaluate"](
        {"film": ex["film"], "recipe": RECIPE, "predicted": pred["thickness"]}, params["qc"]
    )
    rec = impls["data.record"](
        {
            "report": qc["report"],
            "program": fit["program"],
            "pose": loc["pose"],
            "film": ex["film"],
        },
        params["record"],
    )
    impls["notify"]({"report": qc["report"], "record_id": rec["record_id"]}, params["notify"])
    impls["data.record"]({"image": cap["image"]}, params["record_image"])


def measure(parts: int, rounds: int, isolation: str) -> dict:
    doc = bench_doc()
    catalog = standard_catalog()
    impls = implementations()
    runner = Runner(doc, catalog, impls, dry_run=True, isolation=isolation)
    params = {b.id: catalog.get(b.type).params.model_validate(b.params) for b in doc.blocks}
    inputs = {"part": PART, "recipe": RECIPE}
    for _ in range(200):  # warm up both paths
        runner.run_part(inputs)
        direct_calls(impls, params)
    first = runner.run_part(inputs)
    assert first.status == "completed" and len(first.trace) == 12
    ran = sum(t.status == "ok" for t in first.trace)
    per_round = []
    for _ in range(rounds):
        t0 = time.perf_counter_ns()
        for _ in range(parts):
            direct_calls(impls, params)
        t_direct = time.perf_counter_ns() - t0
        t0 = time.perf_counter_ns()
        for k in range(parts):
            runner.run_part(inputs, str(k))
        t_runner = time.perf_counter_ns() - t0
        per_round.append(
            {
                "direct_ms": t_direct / parts / 1e6,
                "runner_ms": t_runner / parts / 1e6,
                "overhead_ms": (t_runner - t_direct) / parts / 1e6,
            }
        )
    runner.close()
    overhead = [r["overhead_ms"] for r in per_round]
    return {
        "isolation": isolation,
        "blocks": len(doc.blocks),
        "blocks_run": ran,
        "parts_per_round": parts,
        "rounds": rounds,
        "direct_ms_per_part": round(statistics.median(r["direct_ms"] for r in per_round), 4),
        "runner_ms_per_part": round(statistics.median(r["runner_ms"] for r in per_round), 4),
        "overhead_ms_per_part": round(statistics.median(overhead), 4),
        "overhead_ms_per_part_worst_round": round(max(overhead), 4),
    }


def run(parts: int = 2000, rounds: int = 7, out: Path | None = None) -> dict:
    results = {
        "machine": machine_info(),
        "budget_ms_per_part": BUDGET_MS,
        "runs": [measure(parts, rounds, iso) for iso in ("thread", "inline")],
    }
    m = results["machine"]
    print(
        f"pipeline runner overhead — {m['date']} — {m['cpu']} ({m['cores']} cores), "
        f"Python {m['python']}"
    )
    for r in results["runs"]:
        verdict = "within" if r["overhead_ms_per_part"] <= BUDGET_MS else "OVER"
        print(
            f"  {r['isolation']:>6}: {r['blocks']} blocks ({r['blocks_run']} run), "
            f"direct {r['direct_ms_per_part']:.4f} ms, runner {r['runner_ms_per_part']:.4f} ms, "
            f"overhead {r['overhead_ms_per_part']:.4f} ms/part "
            f"(worst round {r['overhead_ms_per_part_worst_round']:.4f}) — {verdict} the "
            f"{BUDGET_MS:g} ms budget"
        )
    if out is not None:
        out.parent.mkdir(parents=True, exist_ok=True)
        out.write_text(json.dumps(results, indent=2) + "\n", encoding="utf-8")
    return results


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--parts", type=int, default=2000)
    ap.add_argument("--rounds", type=int, default=7)
    ap.add_argument("--json", type=Path, default=None, help="write the figures here")
    args = ap.parse_args()
    results = run(args.parts, args.rounds, args.json)
    over = any(r["overhead_ms_per_part"] > BUDGET_MS for r in results["runs"])
    sys.exit(1 if over else 0)


if __name__ == "__main__":
    main()
