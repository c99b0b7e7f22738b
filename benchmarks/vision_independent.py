"""Vision benchmark on images the project did not render: PyBullet's TinyRenderer.

The simulator's renderer (``sim.render``) and the locator were written together and share
their picture of a camera: anti-aliased polygons, a linear sensor, Gaussian blur and noise,
a lighting field like the one the locator fits. This benchmark draws its images with
another renderer and another camera model (``benchmarks.vision_gl_*``): solid meshes in
TinyRenderer with its own shading, shadow-mapped soft shadows, lamps at finite places,
glossy highlights, belt textures of other families, four cameras (the cell's and three
other makes and mountings, calibration files in YAML and OpenCV FileStorage), lens
distortion applied by remapping, defocus and motion blur, vignetting, a Bayer sensor with
shot and read noise, demosaicing, tone curves, sharpening and JPEG. The ground truth is the
geometry placed, not anything the project computes.

Every image is located with the job's expected part and the calibration file of its
camera; the verdict is compared with the label, the pose with the truth (reference point,
angle modulo the part's symmetry) on single parts wholly in view. Figures per camera and
per part type, with the same statistics as ``benchmarks.vision_bench``.

Run with ``python -m benchmarks.vision_independent --images N --seed S [--out DIR]
[--cache DIR]``: rendering takes seconds per image, so ``--cache`` keeps the images (PNG,
lossless copies of what the camera delivered) and their truth (JSON) for later runs.
"""

from __future__ import annotations

import argparse
import json
import math
import os
import tempfile
import time
from pathlib import Path

os.environ.setdefault("OPENBLAS_NUM_THREADS", "1")

import cv2  # noqa: E402
from rich.console import Console  # noqa: E402

from benchmarks.machine import machine_info  # noqa: E402
from benchmarks.vision_gl_dataset import KINDS, IndependentImages  # noqa: E402
from benchmarks.vision_gl_truth import Sample  # noqa: E402
from benchmarks.vision_stats import (  # noqa: E402
    GOALS,
    pose_errors,
    print_figures,
    summarise,
    timed_locate,
)
from edge_gateway.vision import CameraModel, LocateResult, Locator  # noqa: E402
from recipes.parts.loader import load_part  # noqa: E402


def samples(images: int, seed: int, cache: Path | None, console: Console | None = None):
    """Yield the ``images`` samples of ``seed`` (from ``cache`` where they are there) and,
    first, the calibration file of every camera."""
    with IndependentImages(seed) as gen, tempfile.TemporaryDirectory() as tmp:
        yield gen.write_calibrations(Path(tmp))
        if cache is not None:
            _check_cache(cache, dict(seed=seed, **gen.settings()))
        t0 = time.perf_counter()
        for i in range(images):
            sample = Sample.load(cache, seed, i) if cache is not None else None
            if sample is None:
                sample = gen.sample(i)
                if cache is not None:
                    sample.save(cache, seed)
            if console is not None and (i + 1) % 50 == 0:
                console.print(f"  {i + 1} images, {time.perf_counter() - t0:.0f} s")
            yield sample


def _check_cache(cache: Path, settings: dict) -> None:
    """The cache folder holds images of these settings only."""
    cache.mkdir(parents=True, exist_ok=True)
    path = cache / "settings.json"
    if path.exists():
        held = json.loads(path.read_text(encoding="utf-8"))
        if held != settings:
            raise SystemExit(f"--cache {cache} holds images of {held}, not {settings}")
    else:
        path.write_text(json.dumps(settings), encoding="utf-8")


def evaluate(sample: Sample, locator: Locator) -> dict:
    """One row of the figures (see ``benchmarks.vision_stats``)."""
    res, times = timed_locate(locator, sample.image)
    row = dict(
        scenario=sample.rig,
        kind=sample.kind,
        index=sample.index,
        label=sample.label,
        verdict=res.verdict,
        expected=sample.spec,
        reasons=[list(p.reasons) for p in res.parts],
        conditions=sample.conditions,
        **times,
    )
    truth = sample.part
    if res.part is not None and truth is not None:
        t = truth.pose
        row.update(
            pose_errors(
                res.part, locator.part.symmetry, t["x_mm"], t["y_mm"], t["theta_deg"], truth.size_mm
            ),
            damage=truth.damage,
            what=truth.what,
        )
    if sample.label in ("cut_by_border", "several") and res.parts:
        row["cut_pos_err_mm"] = _errors_of_expected(res, sample)
    return row


def _errors_of_expected(res: LocateResult, sample: Sample) -> list[float]:
    """Position errors of the located parts against the nearest placed part, where that is
    of the expected type."""
    out = []
    for p in res.parts:
        near = min(
            sample.parts, key=lambda t: math.hypot(p.x_mm - t.pose["x_mm"], p.y_mm - t.pose["y_mm"])
        )
        if near.what == sample.kind:
            out.append(math.hypot(p.x_mm - near.pose["x_mm"], p.y_mm - near.pose["y_mm"]))
    return out


def run(images: int = 600, seed: int = 1, out: Path | None = None, cache: Path | None = None):
    cv2.setNumThreads(1)
    console = Console(width=170)
    info = machine_info()
    info["opencv"] = cv2.__version__
    info["opencv_threads"] = cv2.getNumThreads()
    info["load_average_before"] = [round(v, 2) for v in os.getloadavg()]
    t0 = time.perf_counter()
    stream = samples(images, seed, cache, console)
    cameras = {name: CameraModel.load(path) for name, path in next(stream).items()}
    locators: dict[tuple[str, str], Locator] = {}
    rows = []
    for sample in stream:
        key = (sample.rig, sample.spec)
        if key not in locators:
            locators[key] = Locator(cameras[sample.rig], load_part(sample.spec)[0])
        rows.append(evaluate(sample, locators[key]))
    info["load_average_after"] = [round(v, 2) for v in os.getloadavg()]
    info["seconds"] = round(time.perf_counter() - t0, 1)
    per = {f"camera {n}": summarise([r for r in rows if r["scenario"] == n]) for n in cameras}
    per.update({f"part {k}": summarise([r for r in rows if r["kind"] == k]) for k in KINDS})
    figures = dict(machine=info, goals=GOALS, all=summarise(rows), scenarios=per)
    print_figures(console, f"Vision benchmark, independent images (seed {seed})", figures)
    for r in rows:
        if r["label"] != r["verdict"]:
            console.print(
                f"  {r['scenario']} #{r['index']} {r['kind']}: {r['label']} -> {r['verdict']}"
                f" {r['reasons']} {r.get('damage') or ''}"
            )
    if out is not None:
        out.mkdir(parents=True, exist_ok=True)
        figures["rows"] = rows
        (out / "vision_independent.json").write_text(
            json.dumps(figures, indent=1, default=float), encoding="utf-8"
        )
    return figures


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--images", type=int, default=600)
    parser.add_argument("--seed", type=int, default=1)
    parser.add_argument("--out", type=Path, default=None, help="write vision_independent.json")
    parser.add_argument("--cache", type=Path, default=None, help="keep rendered images here")
    args = parser.parse_args()
    run(args.images, args.seed, args.out, args.cache)


if __name__ == "__main__":
    main()
