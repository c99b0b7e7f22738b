"""Edge passes: the gun follows a panel's outline at the standoff, aimed at the side face.

The gun path is the outline offset by the (horizontal) standoff with round joins, so at
a convex corner the gun swings around the corner at constant distance. The spray axis
points from the gun to the nearest point of the outline, tilted ``tilt_deg`` below the
horizontal; the fan's major axis runs along the edge. The seam is put in the middle of
the longest straight side. Speeds are set per chunk of the path (<= ``chunk_mm``) and
corrected from the predicted film (see :func:`correct_edge_speeds`).

Hole walls get passes of their own: :mod:`recipes.planner.holes`.
"""

from __future__ import annotations

import math

import numpy as np
import shapely
from shapely.geometry import LinearRing, Polygon

from recipes.program import EDGE, MOVE, Program

CHUNK_MM = 40.0
#: fixed-point steps correcting edge-pass speeds against the predicted film
EDGE_ITERATIONS = 4
_APPROACH_MM = 80.0


def edge_pass(
    ring: LinearRing,
    z_mid_mm: float,
    standoff_mm: float,
    tilt_deg: float,
    speed_mm_s: float,
    chunk_mm: float = CHUNK_MM,
) -> tuple[Program, np.ndarray]:
    """Closed edge pass around ``ring`` (an exterior, CCW).

    Returns
    -------
    program : the pass, with an approach and a retreat move (trigger off).
    aim_s_mm : (W,) arc-length position on the ring of each waypoint's aim point.
    """
    tilt = math.radians(tilt_deg)
    horiz = standoff_mm * math.cos(tilt)
    offset = Polygon(ring).buffer(horiz, quad_segs=8).exterior
    offset = shapely.segmentize(offset, chunk_mm)
    xy = np.asarray(offset.coords)[:-1]
    if shapely.LinearRing(xy).is_ccw is False:
        xy = xy[::-1]
    # start in the middle of the longest straight run
    seg = np.diff(np.vstack([xy, xy[:1]]), axis=0)
    seg_len = np.hypot(seg[:, 0], seg[:, 1])
    start = int(np.argmax(seg_len))
    xy = np.roll(xy, -start, axis=0)
    mid = xy[0] + 0.5 * (xy[1] - xy[0])
    xy = np.vstack([mid, xy[1:], xy[:1], mid])
    aim_s = shapely.line_locate_point(ring, shapely.points(xy))
    aim_xy = np.asarray(shapely.get_coordinates(shapely.line_interpolate_point(ring, aim_s)))
    out_h = xy - aim_xy
    out_h /= np.linalg.norm(out_h, axis=1, keepdims=True)
    w = len(xy)
    up = np.array([0.0, 0.0, 1.0])
    out3 = np.column_stack([out_h, np.zeros(w)])
    direction = out3 * math.cos(tilt) + up * math.sin(tilt)  # from aim point to gun
    aim3 = np.column_stack([aim_xy, np.full(w, z_mid_mm)])
    pos = aim3 + standoff_mm * direction
    axis = -direction
    fan = np.cross(up, out3)
    fan /= np.linalg.norm(fan, axis=1, keepdims=True)
    # approach and retreat along the outward direction, trigger off
    approach = pos[0] + _APPROACH_MM * direction[0]
    retreat = pos[-1] + _APPROACH_MM * direction[-1]
    pos = np.vstack([approach, pos, retreat])
    axis = np.vstack([axis[:1], axis, axis[-1:]])
    fan = np.vstack([fan[:1], fan, fan[-1:]])
    n = len(pos)
    trigger = np.zeros(n, dtype=bool)
    trigger[2:-1] = True
    kind = np.full(n, EDGE, dtype=np.int64)
    kind[[0, 1, -1]] = MOVE
    speed = np.full(n, float(speed_mm_s))
    aim_s = np.concatenate([[aim_s[0]], aim_s, [aim_s[-1]]])
    return Program(pos, axis, fan, speed, trigger, kind), aim_s


def ring_position(ring: LinearRing, points_xy: np.ndarray) -> np.ndarray:
    """Arc-length position (mm) on ``ring`` of the nearest point to each of (N, 2)."""
    return shapely.line_locate_point(ring, shapely.points(points_xy))


def correct_edge_speeds(
    program: Program,
    aim_s_mm: np.ndarray,
    ring_length_mm: float,
    sample_s_mm: np.ndarray,
    own_dry_um: np.ndarray,
    other_dry_um: np.ndarray,
    target_um: float,
    speed_limits: tuple[float, float],
    damping: float = 0.7,
) -> Program:
    """One fixed-point step: scale each trigger-on segment's speed so that the film of the
    samples it aims at reaches ``target_um`` (the pass's own film scales as 1/speed)."""
    speed = program.speed_mm_s.copy()
    on = np.flatnonzero(program.trigger)
    seg_mid = 0.5 * (aim_s_mm[on - 1] + aim_s_mm[on])
    # wrap-aware: the seam segment straddles s = 0
    span = np.abs(aim_s_mm[on] - aim_s_mm[on - 1])
    seg_mid = np.where(
        span > ring_length_mm / 2, (seg_mid + ring_length_mm / 2) % ring_length_mm, seg_mid
    )
    d = np.abs(sample_s_mm[None, :] - seg_mid[:, None])
    d = np.minimum(d, ring_length_mm - d)
    half = np.maximum(0.5 * CHUNK_MM, 0.5 * span)[:, None]
    for j, i in enumerate(on):
        near = d[j] <= np.maximum(half[j], 0.5 * CHUNK_MM)
        if not near.any():
            near = d[j] <= d[j].min() + 1e-6
        own = float(own_dry_um[near].mean())
        other = float(other_dry_um[near].mean())
        need = max(target_um - other, 0.1 * target_um)
        factor = own / need if need > 0 else 1.0
        factor = factor**damping
        speed[i] = float(np.clip(speed[i] * factor, *speed_limits))
    return Program(
        program.position_mm, program.axis, program.fan_x, speed, program.trigger, program.kind
    )
