"""Edge passes for the walls of a panel's holes: the gun stands inside the hole's projection.

A hole's wall is a side face like the outer edge, but the gun cannot stand outside it: it
stands inside the hole and aims across it at the wall, at the standoff, tilted
``planner.edge_tilt_deg`` below the horizontal like the outer pass (at the default 0° the
gun is at the wall's mid-height, so no hole paint lands on the top face). Holes too small
for the gun to stand in at the standoff are skipped with the reason. Speeds per chunk are
solved against the predicted wall film (see :func:`_solve_speeds`).
"""

from __future__ import annotations

import math
from dataclasses import dataclass

import numpy as np
import shapely
from scipy.optimize import lsq_linear
from scipy.spatial import cKDTree
from shapely.geometry import LinearRing, Polygon

from recipes.deposition import deposit
from recipes.finish import Finish
from recipes.gun import GunModel
from recipes.parts.panel import PanelPart
from recipes.parts.surface import SurfaceSamples
from recipes.planner.edges import CHUNK_MM
from recipes.planner.params import PlannerParams
from recipes.program import EDGE, MAX_TURN_RATE_RAD_S, MOVE, Program

#: the gun stays this far inside a hole's outline (room for the nozzle), mm
HOLE_CLEARANCE_MM = 10.0
#: a turn sharper than this between two wall segments is a corner: a hole pass stops there
#: and starts again on the next wall
HOLE_CORNER_DEG = 30.0
#: trigger-off moves into, out of and between hole runs go this high above the top face, mm
HOLE_LIFT_MM = 50.0
#: length of the first and last chunk of a run, whose speed sets the corners' film, mm
_END_CHUNK_MM = 10.0
#: shorter stretches between corners get no run of their own, mm
_MIN_RUN_MM = 20.0
#: wall sampling when finding where the gun can stand, mm
_REACH_STEP_MM = 1.0


@dataclass(frozen=True)
class HolePlan:
    """The passes over a panel's hole walls (``program`` None when no hole gets one)."""

    program: Program | None
    speeds_mm_s: list[float]
    notes: list[str]
    sprayed: list[bool]


def plan_hole_passes(
    part: PanelPart,
    finish: Finish,
    gun: GunModel,
    params: PlannerParams,
    samples: SurfaceSamples,
    before: Program,
    coats: int,
    standoffs_mm: list[float],
) -> HolePlan:
    """A pass per hole at the longest of ``standoffs_mm`` at which the gun fits in it,
    speeds solved against the predicted wall film (``before``'s paint included)."""
    walls = samples.subset(samples.face_mask("hole_edge"))
    rings = list(part.outline.interiors)
    if not rings or len(walls) == 0:
        return HolePlan(None, [], [], [])
    # each wall sample belongs to the nearest hole ring
    xy = shapely.points(walls.points_mm[:, :2])
    ring_of = np.argmin(np.stack([shapely.distance(r, xy) for r in rings]), axis=0)
    other = deposit(walls, before.sample(params.sample_hz), gun) * finish.paint.volume_solids
    programs: list[Program] = []
    speeds: list[float] = []
    notes: list[str] = []
    sprayed: list[bool] = []
    for k, ring in enumerate(rings):
        mine = ring_of == k
        program, note = _plan_hole(
            ring,
            walls.subset(mine),
            other[mine],
            part.thickness_mm,
            finish,
            gun,
            params,
            coats,
            standoffs_mm,
        )
        notes.append(f"hole {k + 1}: {note}")
        sprayed.append(program is not None)
        if program is not None:
            programs.append(program)
            speeds += [float(v) for v in program.speed_mm_s[program.trigger]]
    program = Program.concat(programs) if programs else None
    return HolePlan(program, speeds, notes, sprayed)


def _plan_hole(
    ring: LinearRing,
    wall: SurfaceSamples,
    other_dry_um: np.ndarray,
    thickness_mm: float,
    finish: Finish,
    gun: GunModel,
    params: PlannerParams,
    coats: int,
    standoffs_mm: list[float],
) -> tuple[Program | None, str]:
    """One hole's pass and a note (``"no pass, <reason>"`` when it gets none)."""
    vs = finish.paint.volume_solids
    target = finish.target_dft_um / coats
    tol = finish.edge_tolerance_pct / 100
    limits = (gun.speed_min_mm_s, gun.speed_max_mm_s)
    reason = ""
    for standoff in standoffs_mm:
        # first guess: the pass's centre-line film from the cross profile
        g = float(gun.line_density(np.array([0.0]))[0]) * gun.standoff_ref_mm / standoff
        need = max(target - float(np.median(other_dry_um)), 0.2 * target)
        v0 = float(np.clip(gun.deposit_rate_mm3_s * vs * g / (need / 1000.0), *limits))
        hp = hole_pass(
            ring,
            thickness_mm,
            standoff,
            params.edge_tilt_deg,
            v0,
            gun.speed_max_mm_s,
            gun.half_extent_mm[0] * standoff / gun.standoff_ref_mm,
        )
        if hp.program is not None:
            break
        reason = hp.reason  # the shortest standoff's, the likeliest to fit
    else:
        return None, f"no pass, {reason}"
    program, film = _solve_speeds(
        hp.program, wall, other_dry_um, target, tol, gun, vs, params.sample_hz
    )
    mean_um = float(np.sum(film * wall.area_mm2) / wall.area_mm2.sum())
    if not (1 - tol) * target <= mean_um <= (1 + tol) * target:
        limit = "fastest" if mean_um > target else "slowest"
        return None, (
            f"no pass, from inside the hole the gun lays {mean_um:.0f} um on its wall even at "
            f"the cell's {limit} speed (target {target:g} um per coat)"
        )
    on = program.speed_mm_s[program.trigger]
    c = Polygon(ring).centroid
    return program, (
        f"pass from inside at ({c.x:.0f}, {c.y:.0f}), {standoff:g} mm standoff, "
        f"{hp.runs} run(s), {on.min():.0f}-{on.max():.0f} mm/s"
    )


def lift_link(program: Program, z_mm: float, speed_mm_s: float) -> Program:
    """Trigger-off move straight up from ``program``'s last waypoint to ``z_mm`` (if below)."""
    last = program.position_mm[-1]
    top = np.array([last[0], last[1], max(z_mm, last[2])])
    pick = [-1, -1]
    return Program(
        np.vstack([last, top]),
        program.axis[pick],
        program.fan_x[pick],
        np.full(2, float(speed_mm_s)),
        np.zeros(2, dtype=bool),
        np.full(2, MOVE, dtype=np.int64),
    )


@dataclass(frozen=True)
class HolePass:
    """A hole wall's pass (``program``, in ``runs`` trigger-on runs), or why there is none."""

    program: Program | None
    runs: int = 0
    reason: str = ""


def hole_pass(
    ring: LinearRing,
    thickness_mm: float,
    standoff_mm: float,
    tilt_deg: float,
    speed_mm_s: float,
    move_speed_mm_s: float,
    fan_half_mm: float,
    chunk_mm: float = CHUNK_MM,
) -> HolePass:
    """Pass over a hole's wall with the gun inside the hole's projection.

    The gun aims across the hole: it stands ``standoff·cos(tilt)`` from the wall point
    along the wall's normal (into the hole) and ``standoff·sin(tilt)`` above the wall's
    mid-height, axis on the wall point, fan along the wall. A wall point is *reachable*
    when that gun position lies inside the hole with ``HOLE_CLEARANCE_MM`` to spare and
    the line to the wall stays inside the hole. Walls run corner to corner (a corner turns
    by more than ``HOLE_CORNER_DEG``); each reachable stretch is one trigger-on run,
    entered and left through a point ``HOLE_LIFT_MM`` above the top face.

    The hole is skipped (``reason``) when a wall point lies farther than half the fan's
    reach on the wall (``fan_half_mm / 2``) from every reachable one: the fan's fringe
    alone would have to paint it.
    """
    xy = np.asarray(ring.coords)[:-1, :2]
    if ring.is_ccw:
        xy = xy[::-1]
    hole = Polygon(xy)
    tilt = math.radians(tilt_deg)
    reach_h = standoff_mm * math.cos(tilt)
    z_gun = thickness_mm / 2 + standoff_mm * math.sin(tilt)
    runs = _wall_runs(xy, reach_h / 2)
    room = hole.buffer(-HOLE_CLEARANCE_MM)
    inside = hole.buffer(1e-6)
    pieces: list[np.ndarray] = []  # (k, 4): aim x, y, normal x, y
    reach_xy = [np.zeros((0, 2))]
    for poly, normals in runs:
        r = _arc(poly)
        dense = np.union1d(np.arange(0.0, r[-1], _REACH_STEP_MM), r)
        aim, nrm = _along(poly, normals, r, dense)
        gun = aim + reach_h * nrm
        ok = shapely.contains_xy(room, gun[:, 0], gun[:, 1])
        if ok.any():
            lines = shapely.linestrings(np.stack([aim[ok], gun[ok]], axis=1))
            ok[ok] = shapely.contains(inside, lines)
        reach_xy.append(aim[ok])
        for lo, hi in _true_runs(ok):
            r0, r1 = dense[lo], dense[hi]
            if r1 - r0 < _REACH_STEP_MM:
                continue
            k = max(1, math.ceil((r1 - r0) / chunk_mm))
            rr = np.union1d(np.linspace(r0, r1, k + 1), r[(r > r0) & (r < r1)])
            if r1 - r0 > 4 * _END_CHUNK_MM:  # short end chunks: the corners' speeds
                rr = np.union1d(rr, [r0 + _END_CHUNK_MM, r1 - _END_CHUNK_MM])
            a, n = _along(poly, normals, r, rr)
            pieces.append(np.column_stack([a, n]))
    # every point of the wall, on a run or not, must lie within the fan's reach of an aim
    wall = shapely.LinearRing(xy)
    every = shapely.get_coordinates(
        shapely.line_interpolate_point(wall, np.arange(0.0, wall.length, _REACH_STEP_MM))
    )
    reach = np.concatenate(reach_xy)
    far = np.full(len(every), np.inf) if len(reach) == 0 else cKDTree(reach).query(every)[0]
    worst = int(np.argmax(far))
    limit = fan_half_mm / 2
    if far[worst] > limit or not pieces:
        x, y = every[worst]
        return HolePass(
            None,
            reason=f"hole at ({hole.centroid.x:.0f}, {hole.centroid.y:.0f}) too small: the gun "
            f"cannot aim within {limit:.0f} mm (half its fan's reach on the wall) of the wall "
            f"at ({x:.0f}, {y:.0f}) standing {reach_h:.0f} mm off the wall inside the hole "
            f"with {HOLE_CLEARANCE_MM:g} mm to spare (standoff {standoff_mm:g} mm, tilt "
            f"{tilt_deg:g} deg)",
        )
    program = _hole_program(pieces, reach_h, z_gun, tilt, thickness_mm, speed_mm_s, move_speed_mm_s)
    return HolePass(program, len(pieces))


def _wall_runs(xy: np.ndarray, min_radius_mm: float) -> list[tuple[np.ndarray, np.ndarray]]:
    """Split a clockwise ring (K, 2) into runs the gun can follow: (points (m, 2),
    normals (m, 2) into the hole, averaged at the vertices inside a run).

    A run ends at a corner (a turn of more than ``HOLE_CORNER_DEG``) and where the wall
    bends tighter than ``min_radius_mm``: there the gun, on the wall's normal, would swing
    round faster than its aim point moves. Runs shorter than ``_MIN_RUN_MM`` (the steps of
    a rounded corner) are left to the neighbouring runs' fans. A ring with neither is one
    closed run.
    """
    seg = np.roll(xy, -1, axis=0) - xy
    length = np.hypot(seg[:, 0], seg[:, 1])
    keep = length > 1e-9
    xy, seg, length = xy[keep], seg[keep], length[keep]
    u = seg / length[:, None]
    n = np.column_stack([u[:, 1], -u[:, 0]])  # clockwise ring: into the hole
    prev = np.roll(u, 1, axis=0)
    turn = np.abs(np.arctan2(prev[:, 0] * u[:, 1] - prev[:, 1] * u[:, 0], np.sum(prev * u, 1)))
    radius = 0.5 * (length + np.roll(length, 1)) / np.maximum(turn, 1e-12)
    # a split at the start of each segment
    split = (np.degrees(turn) > HOLE_CORNER_DEG) | (radius < min_radius_mm)
    vertex_n = n + np.roll(n, 1, axis=0)
    vertex_n /= np.linalg.norm(vertex_n, axis=1, keepdims=True)
    if not split.any():
        return [(np.vstack([xy, xy[:1]]), np.vstack([vertex_n, vertex_n[:1]]))]
    order = np.roll(np.arange(len(xy)), -int(np.argmax(split)))
    runs: list[list[int]] = []
    for i in order:
        if split[i] or not runs:
            runs.append([])
        runs[-1].append(int(i))
    out = []
    for segs in runs:
        if length[segs].sum() < _MIN_RUN_MM:
            continue
        pts = np.vstack([xy[segs], xy[(segs[-1] + 1) % len(xy)]])
        nrm = np.vstack([n[segs[0]], vertex_n[segs[1:]], n[segs[-1]]])
        out.append((pts, nrm))
    return out


def _arc(poly: np.ndarray) -> np.ndarray:
    """(m,) arc length at each point of a polyline (m, 2)."""
    d = np.hypot(*np.diff(poly, axis=0).T)
    return np.concatenate([[0.0], np.cumsum(d)])


def _along(
    poly: np.ndarray, normals: np.ndarray, r: np.ndarray, at: np.ndarray
) -> tuple[np.ndarray, np.ndarray]:
    """Points and unit normals (interpolated between the vertices') at arc lengths ``at``."""
    pts = np.column_stack([np.interp(at, r, poly[:, 0]), np.interp(at, r, poly[:, 1])])
    nrm = np.column_stack([np.interp(at, r, normals[:, 0]), np.interp(at, r, normals[:, 1])])
    return pts, nrm / np.linalg.norm(nrm, axis=1, keepdims=True)


def _true_runs(mask: np.ndarray) -> list[tuple[int, int]]:
    """(first, last) index of each run of True in ``mask``."""
    edges = np.diff(np.concatenate([[0], mask.astype(np.int8), [0]]))
    starts = np.flatnonzero(edges == 1)
    ends = np.flatnonzero(edges == -1) - 1
    return list(zip(starts.tolist(), ends.tolist(), strict=True))


def _hole_program(
    pieces: list[np.ndarray],
    reach_h_mm: float,
    z_gun_mm: float,
    tilt: float,
    thickness_mm: float,
    speed_mm_s: float,
    move_speed_mm_s: float,
) -> Program:
    """Waypoints of the runs: lift, down to the first gun position, the run, lift."""
    up = np.array([0.0, 0.0, 1.0])
    z_lift = max(thickness_mm + HOLE_LIFT_MM, z_gun_mm)
    pos, axis, fan, trig = [], [], [], []
    for piece in pieces:
        a_xy, n_xy = piece[:, :2], piece[:, 2:]
        k = len(piece)
        n3 = np.column_stack([n_xy, np.zeros(k)])
        direction = n3 * math.cos(tilt) + up * math.sin(tilt)  # from the wall point to the gun
        gun = (
            np.column_stack([a_xy, np.full(k, thickness_mm / 2)])
            + (reach_h_mm / math.cos(tilt)) * direction
        )
        f = np.cross(up, n3)
        f /= np.linalg.norm(f, axis=1, keepdims=True)
        lift_in = np.array([gun[0, 0], gun[0, 1], z_lift])
        lift_out = np.array([gun[-1, 0], gun[-1, 1], z_lift])
        pos += [lift_in[None], gun, lift_out[None]]
        axis += [-direction[:1], -direction, -direction[-1:]]
        fan += [f[:1], f, f[-1:]]
        trig += [[False, False], [True] * (k - 1), [False]]
    pos_a = np.vstack(pos)
    trigger = np.concatenate([np.asarray(t, dtype=bool) for t in trig])
    kind = np.where(trigger, EDGE, MOVE).astype(np.int64)
    speed = np.where(trigger, float(speed_mm_s), float(move_speed_mm_s))
    return Program(pos_a, np.vstack(axis), np.vstack(fan), speed, trigger, kind)


def _solve_speeds(
    program: Program,
    wall: SurfaceSamples,
    other_dry_um: np.ndarray,
    target_um: float,
    tol_frac: float,
    gun: GunModel,
    vs: float,
    sample_hz: float,
) -> tuple[Program, np.ndarray]:
    """Speeds of the trigger-on segments that bring the wall's film nearest the target;
    returns the program and the wall's predicted dry film (N,) µm.

    Each segment's film scales with its duration, bounded by the cell's speed range and by
    the gun's turn rate (a segment that turns the gun takes at least that long). So the
    film is linear in ``x_j = t_j / t0_j``: an area-weighted least-squares problem with
    bounds. A short wall is narrower than the fan, so the paint laid at its ends may
    already cover its middle: a second solution lets segments whose least-squares dwell
    falls below half the shortest close the trigger. The one with more of the wall inside
    the band is kept.
    """
    on = np.flatnonzero(program.trigger)
    t0 = program.segment_durations_s()[on - 1]
    length = np.linalg.norm(program.position_mm[on] - program.position_mm[on - 1], axis=1)
    cos_turn = np.clip(np.sum(program.axis[on] * program.axis[on - 1], axis=1), -1.0, 1.0)
    turn_s = np.arccos(cos_turn) / MAX_TURN_RATE_RAD_S
    lo = np.maximum(length / gun.speed_max_mm_s, turn_s) / t0
    hi = np.maximum(length / gun.speed_min_mm_s, turn_s) / t0
    columns = []
    for i in on:
        pick = [i - 1, i]
        segment = Program(
            program.position_mm[pick],
            program.axis[pick],
            program.fan_x[pick],
            program.speed_mm_s[pick],
            program.trigger[pick],
            program.kind[pick],
        )
        columns.append(deposit(wall, segment.sample(sample_hz), gun) * vs)
    film = np.column_stack(columns)  # (N, J) dry µm per segment at its present duration
    w = np.sqrt(wall.area_mm2)
    a, b = film * w[:, None], (target_um - other_dry_um) * w

    def within(x: np.ndarray) -> float:
        rel = (film @ x + other_dry_um) / target_um
        return float(wall.area_mm2[np.abs(rel - 1) <= tol_frac].sum())

    x = lsq_linear(a, b, bounds=(lo, hi + 1e-12)).x
    off = lsq_linear(a, b, bounds=(np.zeros_like(lo), hi + 1e-12)).x < 0.5 * lo
    if off.any() and not off.all():
        x_off = np.zeros_like(x)
        x_off[~off] = lsq_linear(a[:, ~off], b, bounds=(lo[~off], hi[~off] + 1e-12)).x
        if within(x_off) > within(x):
            x = x_off
        else:
            off[:] = False
    t = np.maximum(x, lo) * t0
    speed = program.speed_mm_s.copy()
    trigger = program.trigger.copy()
    speed[on] = np.where(off | (length <= 0), gun.speed_max_mm_s, length / t)
    speed[on] = np.clip(speed[on], gun.speed_min_mm_s, gun.speed_max_mm_s)
    trigger[on[off]] = False
    solved = Program(program.position_mm, program.axis, program.fan_x, speed, trigger, program.kind)
    return solved, film @ x + other_dry_um
