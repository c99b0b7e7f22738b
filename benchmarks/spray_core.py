"""Spray core benchmark: planner vs a naive raster on the standard parts, and the speed of
the deposition paths against the straightforward per-sample loop, in one run.

Run with ``coatshare bench core`` (or ``make bench``); figures go to ``<out>/spray_core.json``
and heat maps to ``<out>/heat_<part>.png``.
"""

from __future__ import annotations

import json
import math
import os
import time
from pathlib import Path

import numpy as np
from rich.console import Console
from rich.progress import Progress
from rich.table import Table

from benchmarks.machine import machine_info
from recipes.deposition import deposit
from recipes.deposition.reference import deposit_reference
from recipes.finish import builtin_finish
from recipes.gun import BENCHMARK_GUN
from recipes.parts.loader import load_part
from recipes.planner import PlannerParams, plan
from recipes.planner.mesh_raster import MeshRasterSpec, plan_mesh_raster
from recipes.planner.profile import best_scale_within
from recipes.planner.raster import RasterSpec, plan_raster, raster_angle_deg, stroke_frame
from recipes.simulate import predict

PARTS = ["door", "tall_panel", "cutout_panel", "round_top", "chair_leg"]
GOALS = {
    "door": dict(top_within=99.0, top_capture=75.0, edge_within=90.0),
    "tall_panel": dict(top_within=99.0, top_capture=88.0, edge_within=90.0),
    "cutout_panel": dict(top_within=99.0, top_capture=68.0, edge_within=90.0),
    "round_top": dict(top_within=97.0, edge_within=90.0),
    "chair_leg": dict(top_within=97.0),
}
EVAL_SPACING_MM = 1.0
NAIVE_OVERTRAVEL_MM = 50.0
NAIVE_LEG_STROKES = 4


def naive_program(part, finish, gun):
    """Strokes edge to edge at pitch = fan radius, 50 mm overtravel, no edge pass; speed
    scaled so its own film sits best in the band (a fair baseline)."""
    tol = finish.tolerance_pct / 100
    r = gun.reach_mm
    if hasattr(part, "outline"):
        angle = raster_angle_deg(part.outline, "auto")
        _, vmin, vmax = stroke_frame(part.outline, angle)
        width = vmax - vmin
        n = math.ceil(width / r) + 1
        spec = RasterSpec(
            angle,
            width / (n - 1),
            0.0,
            n,
            NAIVE_OVERTRAVEL_MM,
            300.0,
            gun.standoff_ref_mm,
            1e9,
            60.0,
        )
        make = lambda s: plan_raster(part.outline, part.thickness_mm, s)  # noqa: E731
        judged = "top"
    else:
        spec = MeshRasterSpec(
            NAIVE_LEG_STROKES, NAIVE_OVERTRAVEL_MM, 300.0, gun.standoff_ref_mm, 60.0
        )
        make = lambda s: plan_mesh_raster(part, s)  # noqa: E731
        judged = "side"
    samples = part.sample_surface(4.0)
    pred = predict(part, make(spec), gun, finish, samples=samples)
    mask = samples.face_mask(judged)
    scale, _ = best_scale_within(
        pred.dry_um[mask] / finish.target_dft_um, samples.area_mm2[mask], tol
    )
    spec = type(spec)(**{**spec.__dict__, "speed_mm_s": spec.speed_mm_s / scale})
    return make(spec)


def _face_figures(pred, face):
    f = pred.metrics.faces.get(face)
    return (
        None
        if f is None
        else dict(
            within_tol_pct=f.within_tol_pct,
            capture_pct=f.capture_pct,
            dft_mean_um=f.dft_mean_um,
            dft_cv_pct=f.dft_cv_pct,
        )
    )


def quality_run(progress, task) -> dict:
    gun, finish = BENCHMARK_GUN, builtin_finish("benchmark")
    rows = {}
    for name in PARTS:
        part, _ = load_part(name)
        t0 = time.perf_counter()
        result = plan(part, finish, gun, PlannerParams())
        plan_s = time.perf_counter() - t0
        main_face = "top" if hasattr(part, "outline") else "side"
        pred = predict(part, result.program, gun, finish, spacing_mm=EVAL_SPACING_MM)
        naive = predict(
            part, naive_program(part, finish, gun), gun, finish, spacing_mm=EVAL_SPACING_MM
        )
        rows[name] = dict(
            plan_s=plan_s,
            chosen=result.chosen(),
            planner=dict(
                top=_face_figures(pred, main_face),
                edge=_face_figures(pred, "edge"),
                part=dict(
                    capture_pct=pred.metrics.capture_pct,
                    paint_ml=pred.metrics.paint_ml,
                    cycle_s=pred.metrics.cycle_s,
                    path_m=pred.metrics.path_m,
                ),
            ),
            naive=dict(
                top=_face_figures(naive, main_face),
                edge=_face_figures(naive, "edge"),
                part=dict(
                    capture_pct=naive.metrics.capture_pct,
                    paint_ml=naive.metrics.paint_ml,
                    cycle_s=naive.metrics.cycle_s,
                ),
            ),
        )
        p, nv = rows[name]["planner"]["top"], rows[name]["naive"]["top"]
        rows[name]["planner_better"] = bool(
            p["within_tol_pct"] > nv["within_tol_pct"] and p["capture_pct"] > nv["capture_pct"]
        )
        goals = GOALS[name]
        met = {"top_within": p["within_tol_pct"] >= goals["top_within"]}
        if "top_capture" in goals:
            met["top_capture"] = p["capture_pct"] >= goals["top_capture"]
        if "edge_within" in goals:
            met["edge_within"] = (
                rows[name]["planner"]["edge"]["within_tol_pct"] >= goals["edge_within"]
            )
        rows[name]["goals"] = goals
        rows[name]["goals_met"] = met
        from recipes.heatmap import render_heatmap

        render_heatmap(
            pred,
            result.program,
            finish,
            progress.out / f"heat_{name}.png",
            f"{name} (planner, {EVAL_SPACING_MM:g} mm grid)",
        )
        progress.advance(task)
    return rows


def _best_of(fn, repeats: int) -> float:
    best = float("inf")
    for _ in range(repeats):
        t0 = time.perf_counter()
        fn()
        best = min(best, time.perf_counter() - t0)
    return best


def _against_loop(samples, traj, gun, repeats: int) -> dict:
    """Best-of time of the product path vs one run of the per-sample loop, same inputs."""
    fast_s = _best_of(lambda: deposit(samples, traj, gun), repeats)
    t0 = time.perf_counter()
    ref = deposit_reference(samples, traj, gun)
    loop_s = time.perf_counter() - t0
    diff = float(np.max(np.abs(deposit(samples, traj, gun) - ref)) / ref.max())
    return dict(
        surface_samples=len(samples),
        gun_samples=len(traj),
        gun_samples_on=int(traj.trigger.sum()),
        fast_s=fast_s,
        loop_s=loop_s,
        speedup=loop_s / fast_s,
        max_rel_diff=diff,
    )


def speed_run(progress, task) -> dict:
    gun, finish = BENCHMARK_GUN, builtin_finish("benchmark")
    out = {}
    # door: top face at 1 mm, the planned program at 1 kHz (FFT path)
    door, _ = load_part("door")
    result = plan(door, finish, gun, PlannerParams())
    s = door.sample_surface(1.0)
    top, _ = s.split_top()
    traj = result.program.sample(1000.0)
    out["door"] = _against_loop(top, traj, gun, 5)
    out["door"]["whole_part_s"] = _best_of(lambda: deposit(s, traj, gun), 3)
    out["door"]["whole_part_samples"] = len(s)
    progress.advance(task)
    # chair leg: >= 50k samples, >= 20k gun samples (general path)
    leg, _ = load_part("chair_leg")
    result = plan(leg, finish, gun, PlannerParams())
    s = leg.sample_surface(4.0)
    hz = max(1000.0, math.ceil(20000 / result.program.cycle_s / 100) * 100)
    out["chair_leg"] = _against_loop(s, result.program.sample(hz), gun, 3)
    out["chair_leg"]["sample_hz"] = hz
    progress.advance(task)
    return out


class _Progress(Progress):
    out: Path


def run(out: Path) -> dict:
    out = Path(out)
    out.mkdir(parents=True, exist_ok=True)
    console = Console()
    with _Progress(console=console) as progress:
        progress.out = out
        q_task = progress.add_task("quality: planner vs naive", total=len(PARTS))
        quality = quality_run(progress, q_task)
        s_task = progress.add_task("speed: fast paths vs per-sample loop", total=2)
        speed = speed_run(progress, s_task)
    figures = dict(machine=machine_info(), quality=quality, speed=speed)
    (out / "spray_core.json").write_text(json.dumps(figures, indent=2, default=float))
    _print(console, figures)
    return figures


def _print(console: Console, figures: dict) -> None:
    t = Table(title="planner vs naive (top face / sides; edges)")
    for col in (
        "part",
        "within ±10 % planner",
        "naive",
        "capture planner",
        "naive",
        "edge within ±15 %",
        "naive",
        "goals met",
    ):
        t.add_column(col)
    for name, row in figures["quality"].items():
        p, n = row["planner"], row["naive"]
        t.add_row(
            name,
            f"{p['top']['within_tol_pct']:.2f}",
            f"{n['top']['within_tol_pct']:.2f}",
            f"{p['top']['capture_pct']:.1f}",
            f"{n['top']['capture_pct']:.1f}",
            f"{p['edge']['within_tol_pct']:.1f}" if p["edge"] else "-",
            f"{n['edge']['within_tol_pct']:.1f}" if n["edge"] else "-",
            " ".join(f"{k}={'yes' if v else 'NO'}" for k, v in row["goals_met"].items()),
        )
    console.print(t)
    for name, row in figures["speed"].items():
        console.print(
            f"{name}: {row['surface_samples']} samples x {row['gun_samples']} gun "
            f"samples: {row['fast_s']:.3f} s vs loop {row['loop_s']:.1f} s "
            f"(x{row['speedup']:.0f}), max diff {row['max_rel_diff']:.1e}"
        )
    console.print(figures["machine"])


if __name__ == "__main__":
    os.environ.setdefault("OPENBLAS_NUM_THREADS", "1")
    run(Path("docs/bench"))
