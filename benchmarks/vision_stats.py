"""Figures of the vision benchmarks: one row per located image, summaries, the printed table.

Shared by ``benchmarks.vision_bench`` (the simulator's images) and
``benchmarks.vision_independent`` (images from an independent renderer): both time the
same call, measure the pose the same way and print the same table, so that their figures
compare.

A row (dict) holds at least ``scenario``, ``index``, ``label`` (the ground truth's
verdict), ``verdict``, ``expected`` (the part spec), ``ms``, ``best_ms``, ``cpu_ms``; for a
single part in view also ``pos_err_mm``, ``ang_err_deg``, ``size_err_mm``, ``score``,
``missing_area_mm2``; for parts cut by the border or among several, ``cut_pos_err_mm``.
"""

from __future__ import annotations

import math
import time
from collections import Counter

import numpy as np
from rich.console import Console
from rich.table import Table

from edge_gateway.vision import VERDICTS, LocateResult, Locator, PartLocation

GOALS = dict(
    pos_mean_mm=0.5,
    pos_p95_mm=1.0,
    ang_mean_deg=0.1,
    ang_p95_deg=0.25,
    catch_pct=99.0,
    false_reject_pct=1.0,
    p95_ms=20.0,
)
#: each frame is located this often: the first call is the single-shot time, the fastest
#: the time without interference from other jobs on a shared machine
REPEATS = 3


def timed_locate(locator: Locator, image: np.ndarray) -> tuple[LocateResult, dict]:
    """Locate ``image`` ``REPEATS`` times; the result and the times (ms): ``ms`` (first
    call, wall), ``best_ms`` (fastest, wall), ``cpu_ms`` (least CPU time of the thread)."""
    wall, cpu = [], []
    res = None
    for _ in range(REPEATS):
        t0, c0 = time.perf_counter(), time.thread_time()
        res = locator.locate(image)
        wall.append(1e3 * (time.perf_counter() - t0))
        cpu.append(1e3 * (time.thread_time() - c0))
    assert res is not None
    return res, dict(ms=wall[0], best_ms=min(wall), cpu_ms=min(cpu))


def angle_error_deg(measured_deg: float, truth_deg: float, symmetry: int) -> float:
    """|measured - truth| modulo the part's rotational symmetry (0 for a circle)."""
    if symmetry == 0:
        return 0.0
    period = 360.0 / symmetry
    return abs((measured_deg - truth_deg + period / 2) % period - period / 2)


def pose_errors(
    part: PartLocation,
    symmetry: int,
    x_mm: float,
    y_mm: float,
    theta_deg: float,
    size_mm: tuple[float, float],
) -> dict:
    """Errors of one located part against the truth (reference point, heading, size; a
    part with 4-fold symmetry reported a quarter turn from the truth has its axes
    swapped)."""
    width, height = size_mm
    if symmetry == 4 and round((part.theta_deg - theta_deg) / 90.0) % 2:
        width, height = height, width
    return dict(
        pos_err_mm=math.hypot(part.x_mm - x_mm, part.y_mm - y_mm),
        ang_err_deg=angle_error_deg(part.theta_deg, theta_deg, symmetry),
        size_err_mm=max(abs(part.width_mm - width), abs(part.height_mm - height)),
        score=part.score,
        missing_area_mm2=part.missing_area_mm2,
    )


def stats(a: np.ndarray, p: float = 95) -> dict:
    if len(a) == 0:
        return dict(n=0)
    return dict(n=len(a), mean=float(a.mean()), p95=float(np.percentile(a, p)), max=float(a.max()))


def spread(a: np.ndarray) -> dict:
    if len(a) == 0:
        return dict(p50=math.nan, p95=math.nan, max=math.nan)
    return dict(p50=float(np.median(a)), p95=float(np.percentile(a, 95)), max=float(a.max()))


def summarise(rows: list[dict]) -> dict:
    """The figures of a set of rows (see the module doc)."""
    labels = [r["label"] for r in rows]
    verdicts = [r["verdict"] for r in rows]
    confusion = {a: {b: 0 for b in VERDICTS} for a in VERDICTS}
    for a, b in zip(labels, verdicts, strict=True):
        confusion[a][b] += 1
    bad = [r for r in rows if r["label"] in ("wrong_part", "damaged")]
    ok = [r for r in rows if r["label"] == "ok"]
    caught = [r for r in bad if r["verdict"] in ("wrong_part", "damaged")]
    held = [r for r in bad if r["verdict"] != "ok"]  # not passed on to spraying
    rejected = [r for r in ok if r["verdict"] in ("wrong_part", "damaged")]
    posed = [r for r in rows if r["label"] == "ok" and r["verdict"] == "ok" and "pos_err_mm" in r]
    dam = [
        r
        for r in rows
        if r["label"] == "damaged" and r["verdict"] == "damaged" and "pos_err_mm" in r
    ]

    def col(sel: list[dict], key: str) -> np.ndarray:
        return np.array([r[key] for r in sel], dtype=float)

    cut = np.array([e for r in rows for e in r.get("cut_pos_err_mm", [])])
    correct = sum(a == b for a, b in zip(labels, verdicts, strict=True))
    return dict(
        images=len(rows),
        labels=dict(Counter(labels)),
        verdict_accuracy_pct=100.0 * correct / max(len(rows), 1),
        confusion=confusion,
        position_mm=stats(col(posed, "pos_err_mm")),
        angle_deg=stats(col(posed, "ang_err_deg")),
        size_mm=stats(col(posed, "size_err_mm")),
        damaged_position_mm=stats(col(dam, "pos_err_mm")),
        damaged_angle_deg=stats(col(dam, "ang_err_deg")),
        caught_pct=100.0 * len(caught) / max(len(bad), 1),
        caught=f"{len(caught)}/{len(bad)}",
        not_accepted_pct=100.0 * len(held) / max(len(bad), 1),
        false_reject_pct=100.0 * len(rejected) / max(len(ok), 1),
        false_rejects=f"{len(rejected)}/{len(ok)}",
        time_ms=spread(col(rows, "ms")),
        best_of_3_ms=spread(col(rows, "best_ms")),
        cpu_ms=spread(col(rows, "cpu_ms")),
        cut_or_several_position_mm=dict(
            n=len(cut),
            median=float(np.median(cut)) if len(cut) else math.nan,
            p95=float(np.percentile(cut, 95)) if len(cut) else math.nan,
        ),
        misclassified=[
            dict(
                scenario=r["scenario"],
                index=r["index"],
                label=r["label"],
                verdict=r["verdict"],
                expected=r["expected"],
            )
            for r in rows
            if r["label"] != r["verdict"]
        ],
    )


def print_figures(console: Console, title: str, f: dict) -> None:
    """The machine, the table per set and overall, the confusion matrix, the misses."""
    m = f["machine"]
    console.print(
        f"[bold]{title}[/bold]  {m['date']}  {m['cpu']} ({m['cores']} cores), "
        f"Python {m['python']}, numpy {m['numpy']}, OpenCV {m['opencv']} "
        f"({m['opencv_threads']} thread), BLAS threads {m['blas_threads']}"
    )
    console.print(
        f"load average {m['load_average_before']} before, {m['load_average_after']} after"
    )
    table = Table("set", "images", "verdicts", "position mean / p95 (mm)", "angle mean / p95 (deg)")
    table.add_column("caught")
    table.add_column("false rej.")
    table.add_column("ms p50 / p95: once, best of 3, CPU")
    for name, s in [("all", f["all"]), *f["scenarios"].items()]:
        p, a = s["position_mm"], s["angle_deg"]
        t, b, c = s["time_ms"], s["best_of_3_ms"], s["cpu_ms"]
        table.add_row(
            name,
            str(s["images"]),
            f"{s['verdict_accuracy_pct']:.1f} %",
            f"{p.get('mean', math.nan):.3f} / {p.get('p95', math.nan):.3f} (n={p['n']})",
            f"{a.get('mean', math.nan):.4f} / {a.get('p95', math.nan):.4f}",
            f"{s['caught_pct']:.1f} % ({s['caught']})",
            f"{s['false_reject_pct']:.2f} % ({s['false_rejects']})",
            f"{t['p50']:.1f} / {t['p95']:.1f}, {b['p50']:.1f} / {b['p95']:.1f}, "
            f"{c['p50']:.1f} / {c['p95']:.1f}",
        )
    console.print(table)
    conf = Table("label \\ verdict", *VERDICTS)
    for a, row in f["all"]["confusion"].items():
        conf.add_row(a, *(str(row[b]) for b in VERDICTS))
    console.print(conf)
    a = f["all"]
    console.print(
        f"size error (ok parts) mean {a['size_mm'].get('mean', math.nan):.3f} mm, "
        f"p95 {a['size_mm'].get('p95', math.nan):.3f} mm; damaged parts: position mean "
        f"{a['damaged_position_mm'].get('mean', math.nan):.3f} mm; parts cut by the border or "
        f"among several: position median {a['cut_or_several_position_mm']['median']:.2f} mm, "
        f"p95 {a['cut_or_several_position_mm']['p95']:.2f} mm"
    )
    for r in a["misclassified"][:20]:
        console.print(f"  {r}")
