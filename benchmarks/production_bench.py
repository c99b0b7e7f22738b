"""One cell-hour of production in one process: the simulated cell and its controller.

:class:`coatshare.dryrun.DryRunCell` steps the demo world's cell (belt, camera frames,
PyBullet robot and collisions, gun, faults) and the cell controller's own logic
(validation, IK and timing, execution monitoring, trigger schedule) in lock-step at 4 ms,
with no bus between them; every door is sent its approved recipe placed at the part's
true pose (a perfect vision), painted, its film deposited from the robot's actual joints
and judged. This is the whole production loop minus the DDS transport, against the
simulator goal "one cell-hour of production in <= 3 minutes". Wall and process CPU time
are given with the load average.

Run with ``python -m benchmarks.production_bench [--sim-s 3600]``.
"""

from __future__ import annotations

import argparse
import os
import time
from pathlib import Path

os.environ.setdefault("OPENBLAS_NUM_THREADS", "1")

import numpy as np  # noqa: E402

from benchmarks.machine import machine_info  # noqa: E402


def run(sim_s: float) -> dict:
    import yaml

    from coatshare.dryrun import DryRunCell
    from coatshare.pipeline_sim import plan_approved_recipes
    from recipes.approval import generate_key_pair
    from sim.world import parse_world

    worlds = Path(__file__).resolve().parents[1] / "sim" / "worlds"
    data = yaml.safe_load((worlds / "demo_cell.yaml").read_text())
    data["faults"] = []  # production, not fault drills
    feed = data["cells"][0]["feed"]
    feed["p_wrong_part"] = feed["p_damaged"] = 0.0
    world = parse_world(data, base_dir=worlds)
    key = generate_key_pair()
    recipes = plan_approved_recipes(world, "benchmark", None, key)
    doc = recipes["door"]
    cell = DryRunCell(world, recipes, key, parts=10_000)
    within: list[float] = []
    t0, c0 = time.perf_counter(), time.process_time()
    try:
        while cell.now_s < sim_s:
            arrival = cell.next_part()
            if arrival is None:
                break
            ex = cell.run_recipe(doc, arrival.cycle.T_world_part, arrival)
            metrics = ex.outcome.result.get("metrics") or {}
            within.append(float(metrics.get("within_tol_pct", float("nan"))))
    finally:
        cell.close()
    wall, cpu = time.perf_counter() - t0, time.process_time() - c0
    return dict(
        sim_s=round(cell.now_s, 1),
        doors=len(within),
        within_tol_mean=round(float(np.nanmean(within)), 3) if within else None,
        within_tol_min=round(float(np.nanmin(within)), 3) if within else None,
        recipe_within_tol=round(float(doc.metrics["within_tol_pct"]), 3),
        wall_s=round(wall, 1),
        cpu_s=round(cpu, 1),
        load=os.getloadavg(),
    )


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--sim-s", type=float, default=3600.0)
    args = parser.parse_args()
    print(machine_info())
    print(run(args.sim_s))


if __name__ == "__main__":
    main()
