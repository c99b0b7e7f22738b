"""Zig-zag raster over a flat face: strokes, trigger points, turnarounds, lead-in/out.

Geometry is worked in the stroke frame (u along the strokes, v across), then turned back
into the part frame. Each stroke's extent is the projection onto u of the face inside the
stroke's band (half a pitch either side; the outer strokes' bands reach the edges), so
curved outlines get strokes as long as the area they paint. Trigger is on from
``overtravel`` before the band's first material to ``overtravel`` after its last, off on
turnarounds and over gaps (holes) wider than ``2 * overtravel + hole_gap``.
"""

from __future__ import annotations

import math
from dataclasses import dataclass

import numpy as np
from shapely import affinity
from shapely.geometry import Polygon, box

from recipes.program import MOVE, STROKE, TURN, Program

_TURN_SEGMENTS = 8
#: straight trigger-off run past a stroke's end before the turn starts (mm)
_RUN_OUT_MM = 30.0
#: half width of the strip around a stroke's centre line whose gaps count as holes (mm)
_LINE_HALF_MM = 1.0


@dataclass(frozen=True)
class RasterSpec:
    angle_deg: float
    pitch_mm: float
    inset_mm: float
    n_strokes: int
    overtravel_mm: float
    speed_mm_s: float
    standoff_mm: float
    hole_gap_mm: float
    lead_mm: float
    hole_overtravel_mm: float | None = None


def raster_angle_deg(face: Polygon, direction: str | float) -> float:
    """Stroke direction: fixed, along the long edge, or the one with the fewest strokes
    (the smallest width across, over the edge directions of the minimum rotated rectangle
    and the axes)."""
    if not isinstance(direction, str):
        return float(direction)
    mrr = face.minimum_rotated_rectangle
    xy = np.asarray(mrr.exterior.coords)[:4]
    edges = np.diff(np.vstack([xy, xy[:1]]), axis=0)
    cand = [0.0, 90.0] + [math.degrees(math.atan2(e[1], e[0])) % 180.0 for e in edges]
    if direction == "long_edge":
        longest = edges[np.argmax(np.hypot(edges[:, 0], edges[:, 1]))]
        return math.degrees(math.atan2(longest[1], longest[0])) % 180.0
    widths = [_width_across(face, a) for a in cand]
    # near-ties (round parts) go to the axes, which come first in the list
    return next(a for a, w in zip(cand, widths, strict=True) if w <= min(widths) * 1.002)


def _width_across(face: Polygon, angle_deg: float) -> float:
    rot = affinity.rotate(face, -angle_deg, origin=(0, 0))
    _, vmin, _, vmax = rot.bounds
    return vmax - vmin


def stroke_frame(face: Polygon, angle_deg: float) -> tuple[Polygon, float, float]:
    rot = affinity.rotate(face, -angle_deg, origin=(0, 0))
    _, vmin, _, vmax = rot.bounds
    return rot, vmin, vmax


def _band_intervals(rot: Polygon, v0: float, v1: float) -> list[tuple[float, float]]:
    """u-intervals of material in the band v0 <= v <= v1 (pieces projected onto u)."""
    umin, _, umax, _ = rot.bounds
    clip = rot.intersection(box(umin - 1, v0, umax + 1, v1))
    geoms = getattr(clip, "geoms", [clip])
    spans = sorted((g.bounds[0], g.bounds[2]) for g in geoms if not g.is_empty and g.area > 0)
    merged: list[list[float]] = []
    for a, b in spans:
        if merged and a <= merged[-1][1]:
            merged[-1][1] = max(merged[-1][1], b)
        else:
            merged.append([a, b])
    return [(a, b) for a, b in merged]


def plan_raster(face: Polygon, z_face_mm: float, spec: RasterSpec) -> Program:
    """The raster program over ``face`` (part frame polygon at height ``z_face_mm``)."""
    rot, vmin, vmax = stroke_frame(face, spec.angle_deg)
    n = spec.n_strokes
    vs = vmin + spec.inset_mm + spec.pitch_mm * np.arange(n)
    half = spec.pitch_mm / 2 if n > 1 else (vmax - vmin) / 2
    ot = spec.overtravel_mm
    # per stroke: the band's extent (curved outlines) and the centre line's gaps (holes)
    strokes: list[list[tuple[float, float]]] = []
    for k, v in enumerate(vs):
        lo = vmin if k == 0 else v - half
        hi = vmax if k == n - 1 else v + half
        band = _band_intervals(rot, max(lo, vmin), min(hi, vmax))
        if not band:
            strokes.append([])
            continue
        line = _band_intervals(rot, v - _LINE_HALF_MM, v + _LINE_HALF_MM) or band
        first, last = band[0][0], band[-1][1]
        spans = [(a, b) for a, b in line if b > first and a < last]
        if spans:
            spans[0] = (min(spans[0][0], first), spans[0][1])
            spans[-1] = (spans[-1][0], max(spans[-1][1], last))
        strokes.append(spans or [(first, last)])
    pts: list[tuple[float, float]] = []
    trig: list[bool] = []
    kinds: list[int] = []
    forward = True
    for k, spans in enumerate(strokes):
        if not spans:
            continue
        hole_ot = ot if spec.hole_overtravel_mm is None else spec.hole_overtravel_mm
        on_runs = _trigger_runs(spans, ot, hole_ot, spec.hole_gap_mm)
        start, end = on_runs[0][0], on_runs[-1][1]
        runs = on_runs if forward else [(b, a) for a, b in reversed(on_runs)]
        s_u, e_u = (start, end) if forward else (end, start)
        v = float(vs[k])
        if not pts:
            lead = -spec.lead_mm if forward else spec.lead_mm
            pts.append((s_u + lead, v))
            trig.append(False)
            kinds.append(MOVE)
        else:
            _turnaround(pts, trig, kinds, s_u, v, forward)
        if pts[-1] != (s_u, v):
            pts.append((s_u, v))
            trig.append(False)
            kinds.append(MOVE if len(pts) == 1 else TURN)
        for i, (a, b) in enumerate(runs):
            if i > 0:
                pts.append((a, v))
                trig.append(False)
                kinds.append(STROKE)
            pts.append((b, v))
            trig.append(True)
            kinds.append(STROKE)
        forward = not forward
    # lead-out
    last_u, last_v = pts[-1]
    direction = 1.0 if not forward else -1.0  # the last stroke ran opposite to `forward` now
    pts.append((last_u + direction * spec.lead_mm, last_v))
    trig.append(False)
    kinds.append(MOVE)
    return _to_program(np.array(pts), np.array(trig), np.array(kinds), spec, z_face_mm)


def _trigger_runs(
    spans: list[tuple[float, float]], ot: float, hole_ot: float, gap: float
) -> list[tuple[float, float]]:
    """Trigger-on runs: outer ends get ``ot``, the sides of a hole ``hole_ot``; a hole
    closes the trigger only where more than ``gap`` of it remains."""
    runs = [[spans[0][0] - ot, spans[0][1] + hole_ot]]
    for a, b in spans[1:]:
        if (a - hole_ot) - runs[-1][1] >= gap:
            runs.append([a - hole_ot, b + hole_ot])
        else:
            runs[-1][1] = b + hole_ot
    runs[-1][1] += ot - hole_ot
    return [(a, b) for a, b in runs]


def _turnaround(
    pts: list, trig: list, kinds: list, next_u: float, next_v: float, forward: bool
) -> None:
    """Trigger-off turn from the end of the previous stroke to the next stroke's start:
    a straight run-out past the farther of the two ends, a semicircle across, a straight
    run-in. The run-out and run-in keep every corner of the turn between trigger-off
    segments, so a controller may round them without touching a spray segment."""
    prev_u, prev_v = pts[-1]
    sign = 1.0 if not forward else -1.0  # the previous stroke ran in direction `sign`
    far = (max(prev_u, next_u) if sign > 0 else min(prev_u, next_u)) + sign * _RUN_OUT_MM
    pts.append((far, prev_v))
    trig.append(False)
    kinds.append(TURN)
    r = (next_v - prev_v) / 2
    centre_v = prev_v + r
    for j in range(1, _TURN_SEGMENTS):
        phi = math.pi * j / _TURN_SEGMENTS
        pts.append((far + sign * abs(r) * math.sin(phi), centre_v - r * math.cos(phi)))
        trig.append(False)
        kinds.append(TURN)
    pts.append((far, next_v))
    trig.append(False)
    kinds.append(TURN)


def _to_program(
    uv: np.ndarray, trig: np.ndarray, kinds: np.ndarray, spec: RasterSpec, z_face_mm: float
) -> Program:
    a = math.radians(spec.angle_deg)
    c, s = math.cos(a), math.sin(a)
    x = c * uv[:, 0] - s * uv[:, 1]
    y = s * uv[:, 0] + c * uv[:, 1]
    w = len(uv)
    pos = np.column_stack([x, y, np.full(w, z_face_mm + spec.standoff_mm)])
    axis = np.tile([0.0, 0.0, -1.0], (w, 1))
    fan = np.tile([-s, c, 0.0], (w, 1))  # fan major axis across the strokes
    speed = np.full(w, spec.speed_mm_s)
    return Program(pos, axis, fan, speed, trig.astype(bool), kinds.astype(np.int64))
