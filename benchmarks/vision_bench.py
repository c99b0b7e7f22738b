"""Vision benchmark: locate and check parts on simulator images with ground truth.

Images come from the simulator's dataset generator (``sim.dataset``: the renderer with belt
texture and stains, lighting gradient, vignetting, shadows, sensor noise and blur) on two
worlds derived from the demo cell (camera about 0.5 mm/px, 1280x960):

- ``door``: the demo feed (doors, placement noise 6 mm / 1.5 deg) with more wrong parts
  (cut-out panels, 560x380 rects) and damaged doors (missing corners, notches) than the
  demo, and wider lighting and sensor ranges;
- ``mixed``: cut-out panels, 450x300 rects and 500x350 rects with 20 mm corner radii, each
  the wrong part for the others, placement noise 20 mm / 20 deg.

Every image is located with the expected part of its record; the verdict is compared with
the dataset's label, the pose with the ground truth (position of the reference point,
angle modulo the part's symmetry) on single parts that are wholly in view. Time is the
``Locator.locate`` call on the in-memory frame, one thread (OpenCV and BLAS).

Run with ``python -m benchmarks.vision_bench [--images N] [--out DIR]``; figures are
printed with the machine and date, and written to ``DIR/vision.json`` when asked.
"""

from __future__ import annotations

import argparse
import copy
import json
import math
import os
import time
from pathlib import Path

os.environ.setdefault("OPENBLAS_NUM_THREADS", "1")

import cv2  # noqa: E402
import numpy as np  # noqa: E402
import yaml  # noqa: E402
from rich.console import Console  # noqa: E402

from benchmarks.machine import machine_info  # noqa: E402
from benchmarks.vision_stats import (  # noqa: E402
    GOALS,
    pose_errors,
    print_figures,
    summarise,
    timed_locate,
)
from edge_gateway.vision import CameraModel, Locator  # noqa: E402
from recipes.parts.loader import load_part  # noqa: E402
from sim.dataset import DatasetGenerator, DatasetOptions  # noqa: E402
from sim.world import parse_world  # noqa: E402

WORLDS = Path(__file__).resolve().parents[1] / "sim" / "worlds"
#: shares of the images per scenario
SCENARIOS = {"door": 0.6, "mixed": 0.4}
_LIGHTING = dict(
    ambient=[0.7, 1.25],
    gradient_strength=[0.0, 0.35],
    gradient_direction_deg=[0, 360],
    vignetting=[0.05, 0.25],
    light_elevation_deg=[40, 75],
    shadow_strength=[0.3, 0.6],
    shadow_softness_mm=[1, 8],
)


def world(name: str, seed: int):
    """The demo world with the benchmark's feed, lighting and sensor ranges."""
    data = yaml.safe_load((WORLDS / "demo_cell.yaml").read_text())
    data = copy.deepcopy(data)
    data["seed"] = seed
    data["faults"] = []
    cell = data["cells"][0]
    cell["lighting"] = _LIGHTING
    cell["camera"]["noise_std"] = [0.5, 4.0]
    cell["camera"]["blur_sigma_px"] = [0.3, 1.2]
    feed = cell["feed"]
    feed["p_wrong_part"], feed["p_damaged"] = 0.15, 0.25
    if name == "mixed":
        specs = [
            "cutout_panel",
            "rect:width_mm=450,height_mm=300",
            "rect:width_mm=500,height_mm=350,corner_radius_mm=20",
        ]
        feed["sequence"] = specs
        feed["wrong_parts"] = specs
        feed["pose_noise"] = {"xy_mm": 20.0, "theta_deg": 20.0}
    return parse_world(data, source=f"benchmark:{name}", base_dir=WORLDS)


def _truth_size(outline: np.ndarray, pose: dict) -> tuple[float, float]:
    """Width and height of a world outline in its part frame (bounding box)."""
    th = math.radians(pose["theta_deg"])
    c, s = math.cos(th), math.sin(th)
    rel = np.asarray(outline) - [pose["x_mm"], pose["y_mm"]]
    local = rel @ np.array([[c, -s], [s, c]])
    return tuple(float(v) for v in local.max(axis=0) - local.min(axis=0))


def _nearest_truth(part, truths: list[dict], expected: str) -> float | None:
    """Position error of a located part against the nearest part of the ground truth, or
    None when that part is not of the expected type (another part's reference point)."""
    errors = [
        (math.hypot(part.x_mm - t["pose"]["x_mm"], part.y_mm - t["pose"]["y_mm"]), t["spec"])
        for t in truths
    ]
    error, spec = min(errors)
    return error if spec == expected else None


def run_scenario(name: str, images: int, seed: int) -> list[dict]:
    w = world(name, seed)
    gen = DatasetGenerator(
        w, DatasetOptions(images=images, p_no_part=0.04, p_several=0.05, p_cut_by_border=0.05)
    )
    cam_path = Path(os.environ.get("TMPDIR", "/tmp")) / f"vision_bench_{os.getpid()}.yaml"
    gen.cell.calibration.save(cam_path)
    camera = CameraModel.load(cam_path)  # through the file, as the edge reads it
    cam_path.unlink()
    locators: dict[str, Locator] = {}
    rows = []
    for item in gen:
        rec = item.record
        spec = rec["expected_part"]
        if spec not in locators:
            locators[spec] = Locator(camera, load_part(spec)[0])
        loc = locators[spec]
        res, times = timed_locate(loc, item.image)
        row = dict(
            scenario=name,
            index=rec["index"],
            label=rec["label"],
            verdict=res.verdict,
            expected=spec,
            lighting=rec["lighting"],
            sensor=rec["sensor"],
            **times,
        )
        if rec["label"] in ("cut_by_border", "several") and res.parts:
            errors = [_nearest_truth(p, rec["parts"], spec) for p in res.parts]
            row["cut_pos_err_mm"] = [e for e in errors if e is not None]
        part = res.part
        if part is not None and rec["pose"] is not None:
            t = rec["pose"]
            size = _truth_size(rec["outline"], t)
            row.update(
                pose_errors(part, loc.part.symmetry, t["x_mm"], t["y_mm"], t["theta_deg"], size),
                damage=rec["damage"],
            )
        rows.append(row)
    return rows


def run(images: int = 1000, seed: int = 11, out: Path | None = None) -> dict:
    cv2.setNumThreads(1)
    console = Console(width=170)
    info = machine_info()
    info["opencv"] = cv2.__version__
    info["opencv_threads"] = cv2.getNumThreads()
    info["load_average_before"] = [round(v, 2) for v in os.getloadavg()]
    rows: list[dict] = []
    per: dict[str, dict] = {}
    for name, share in SCENARIOS.items():
        n = int(round(images * share))
        t0 = time.perf_counter()
        part_rows = run_scenario(name, n, seed)
        console.print(f"{name}: {n} images in {time.perf_counter() - t0:.0f} s")
        per[name] = summarise(part_rows)
        rows += part_rows
    info["load_average_after"] = [round(v, 2) for v in os.getloadavg()]
    figures = dict(machine=info, goals=GOALS, all=summarise(rows), scenarios=per)
    print_figures(console, "Vision benchmark", figures)
    if out is not None:
        out.mkdir(parents=True, exist_ok=True)
        (out / "vision.json").write_text(json.dumps(figures, indent=1, default=float))
    return figures


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--images", type=int, default=1000)
    parser.add_argument("--seed", type=int, default=11)
    parser.add_argument("--out", type=Path, default=None)
    args = parser.parse_args()
    run(args.images, args.seed, args.out)


if __name__ == "__main__":
    main()
