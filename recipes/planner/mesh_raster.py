"""Plane-slicing raster for mesh parts (chair legs, rails, turned parts).

The part is sliced by a pencil of planes through its principal axis, ``n`` planes at equal
angles. Each plane cuts the side surface along a curve; the stroke follows that curve
with the gun on the surface normal at the standoff (spray axis = -normal), the fan
across the stroke, overtravel past both ends along the axis, and a trigger-off swing
around the part between strokes (zig-zag along the axis). Mesh parts are sprayed hanging
(on a hook), so the gun can reach all round.
"""

from __future__ import annotations

import math
from dataclasses import dataclass

import numpy as np
import trimesh

from recipes.errors import InvalidInputError
from recipes.parts.mesh import END_ANGLE_DEG, MeshPart
from recipes.program import MOVE, STROKE, TURN, Program

_STEP_MM = 5.0
#: straight trigger-off run past a stroke's end before the swing (mm)
_RUN_OUT_MM = 30.0
_SWING_SEGMENTS = 6


@dataclass(frozen=True)
class MeshRasterSpec:
    n_strokes: int
    overtravel_mm: float
    speed_mm_s: float
    standoff_mm: float
    lead_mm: float


def _frame(axis: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    helper = np.array([0.0, 0.0, 1.0]) if abs(axis[2]) < 0.9 else np.array([0.0, 1.0, 0.0])
    e1 = np.cross(axis, helper)
    e1 /= np.linalg.norm(e1)
    return e1, np.cross(axis, e1)


def _slice_curve(
    part: MeshPart, centre: np.ndarray, radial: np.ndarray, axis: np.ndarray
) -> tuple[np.ndarray, np.ndarray]:
    """Side-surface curve of the half plane (centre, axis, +radial): points (K,3) sorted
    along the axis, normals (K,3), resampled every _STEP_MM along the axis."""
    mesh = part.mesh
    plane_normal = np.cross(axis, radial)
    segs, faces = trimesh.intersections.mesh_plane(mesh, plane_normal, centre, return_faces=True)
    if len(segs) == 0:
        return np.zeros((0, 3)), np.zeros((0, 3))
    mid = segs.mean(axis=1)
    fn = np.asarray(mesh.face_normals)[faces]
    side = (np.abs(fn @ axis) < math.cos(math.radians(END_ANGLE_DEG))) & (
        (mid - centre) @ radial > 0
    )
    segs, fn = segs[side], fn[side]
    if len(segs) == 0:
        return np.zeros((0, 3)), np.zeros((0, 3))
    pts = segs.reshape(-1, 3)
    nrm = np.repeat(fn, 2, axis=0)
    t = (pts - centre) @ axis
    order = np.argsort(t)
    t, pts, nrm = t[order], pts[order], nrm[order]
    ts = np.arange(t[0], t[-1] + 1e-9, _STEP_MM)
    if ts[-1] < t[-1] - 1e-9:
        ts = np.append(ts, t[-1])
    p_out = np.column_stack([np.interp(ts, t, pts[:, k]) for k in range(3)])
    n_out = np.column_stack([np.interp(ts, t, nrm[:, k]) for k in range(3)])
    # keep only the normal's component across the axis direction smooth
    n_out /= np.linalg.norm(n_out, axis=1, keepdims=True)
    return p_out, n_out


def plan_mesh_raster(part: MeshPart, spec: MeshRasterSpec) -> Program:
    axis = part.principal_axis
    centre = np.asarray(part.mesh.bounding_box_oriented.centroid, dtype=float)
    e1, e2 = _frame(axis)
    pos_l, axis_l, fan_l, trig_l, kind_l = [], [], [], [], []
    forward = True
    for k in range(spec.n_strokes):
        phi = 2 * math.pi * k / spec.n_strokes
        radial = math.cos(phi) * e1 + math.sin(phi) * e2
        pts, nrm = _slice_curve(part, centre, radial, axis)
        if len(pts) < 2:
            raise InvalidInputError(
                "part.mesh", f"slice {k} at {math.degrees(phi):.0f} deg cuts no side surface"
            )
        if not forward:
            pts, nrm = pts[::-1], nrm[::-1]
        direction = axis if forward else -axis
        gun = pts + spec.standoff_mm * nrm
        spray = -nrm
        fan = np.cross(spray, direction)
        fan /= np.linalg.norm(fan, axis=1, keepdims=True)
        # overtravel: extend straight along the axis past both ends, trigger on
        start = gun[0] - spec.overtravel_mm * direction
        end = gun[-1] + spec.overtravel_mm * direction
        stroke_pos = np.vstack([start, gun, end])
        stroke_axis = np.vstack([spray[:1], spray, spray[-1:]])
        stroke_fan = np.vstack([fan[:1], fan, fan[-1:]])
        if pos_l:
            # run out along the axis, swing round the part, run in: trigger off, and every
            # corner between trigger-off segments
            prev = pos_l[-1][-1]
            run_out = prev - _RUN_OUT_MM * direction  # the previous stroke ran -direction
            run_in = stroke_pos[0] - _RUN_OUT_MM * direction
            swing = np.vstack([run_out, _swing(run_out, run_in, centre, axis)])
            pos_l.append(swing)
            sw_axis = centre + ((swing - centre) @ axis)[:, None] * axis - swing
            sw_axis /= np.linalg.norm(sw_axis, axis=1, keepdims=True)
            sw_axis[0] = axis_l[-1][-1]
            sw_axis[-1] = stroke_axis[0]
            axis_l.append(sw_axis)
            sw_fan = np.cross(sw_axis, np.tile(direction, (len(swing), 1)))
            fan_l.append(sw_fan / np.linalg.norm(sw_fan, axis=1, keepdims=True))
            trig_l.append(np.zeros(len(swing), dtype=bool))
            kind_l.append(np.full(len(swing), TURN))
        else:
            lead = stroke_pos[0] - spec.lead_mm * direction
            pos_l.append(lead[None, :])
            axis_l.append(stroke_axis[:1])
            fan_l.append(stroke_fan[:1])
            trig_l.append(np.array([False]))
            kind_l.append(np.array([MOVE]))
        trig = np.ones(len(stroke_pos), dtype=bool)
        trig[0] = False  # arriving at the stroke start
        pos_l.append(stroke_pos)
        axis_l.append(stroke_axis)
        fan_l.append(stroke_fan)
        trig_l.append(trig)
        kind_l.append(np.full(len(stroke_pos), STROKE))
        forward = not forward
    pos = np.vstack(pos_l)
    n = len(pos)
    return Program(
        pos,
        np.vstack(axis_l),
        np.vstack(fan_l),
        np.full(n, spec.speed_mm_s),
        np.concatenate(trig_l),
        np.concatenate(kind_l).astype(np.int64),
    )


def _swing(a: np.ndarray, b: np.ndarray, centre: np.ndarray, axis: np.ndarray) -> np.ndarray:
    """Points on a helical arc around the axis from a to b (b included, a excluded)."""

    def cyl(p):
        t = (p - centre) @ axis
        r_vec = p - centre - t * axis
        return t, r_vec

    ta, ra = cyl(a)
    tb, rb = cyl(b)
    out = []
    for j in range(1, _SWING_SEGMENTS + 1):
        s = j / _SWING_SEGMENTS
        r = _slerp(ra, rb, s)
        out.append(centre + (ta + (tb - ta) * s) * axis + r)
    return np.array(out)


def _slerp(u: np.ndarray, v: np.ndarray, s: float) -> np.ndarray:
    nu, nv = np.linalg.norm(u), np.linalg.norm(v)
    cu, cv = u / nu, v / nv
    ang = math.acos(float(np.clip(cu @ cv, -1.0, 1.0)))
    if ang < 1e-9:
        d = cu
    else:
        d = (math.sin((1 - s) * ang) * cu + math.sin(s * ang) * cv) / math.sin(ang)
    return d * (nu + (nv - nu) * s)
