"""The parameter solver: from a finish's target film to a complete panel program.

1. Stroke direction, then pitch and inset from the gun's cross profile (1-D, analytic).
2. Coats: the fewest that keep each coat under the paint's sag limit and the stroke speed
   (mass balance, ``v = Q · vs / (pitch · dry_per_coat)``) within the cell's limits.
3. Overtravel: the smallest that keeps the top face inside the band, found by predicting
   the top face (FFT path, coarse grid) for a few candidates around the analytic value.
4. Speed: scaled so the predicted top film sits best inside the band.
5. Edge passes: speed per chunk from the predicted film on the edge band (raster paint
   included), corrected by a few fixed-point steps.
If the target cannot be met within the gun's limits, :class:`UnreachableTargetError`
says which limit and by how much.
"""

from __future__ import annotations

import math
from dataclasses import dataclass

import numpy as np

from recipes.deposition import deposit
from recipes.errors import InvalidInputError, UnreachableTargetError
from recipes.finish import Finish
from recipes.gun import GunModel
from recipes.parts.panel import PanelPart
from recipes.planner.edges import correct_edge_speeds, edge_pass, ring_position
from recipes.planner.params import PlannerParams
from recipes.planner.profile import best_scale_within, choose_layout, choose_overtravel
from recipes.planner.raster import RasterSpec, plan_raster, raster_angle_deg, stroke_frame
from recipes.program import Program

#: coarse grid used while searching (mm)
SEARCH_SPACING_MM = 2.0
FINE_SPACING_MM = 1.0
EDGE_ITERATIONS = 4


@dataclass(frozen=True)
class PanelPlan:
    program: Program
    raster: RasterSpec
    coats: int
    edge_speeds_mm_s: list[float]
    notes: list[str]

    def chosen(self) -> dict:
        r = self.raster
        out = dict(
            angle_deg=r.angle_deg,
            pitch_mm=r.pitch_mm,
            inset_mm=r.inset_mm,
            n_strokes=r.n_strokes,
            overtravel_mm=r.overtravel_mm,
            speed_mm_s=r.speed_mm_s,
            standoff_mm=r.standoff_mm,
            coats=self.coats,
        )
        if self.edge_speeds_mm_s:
            out["edge_speed_min_mm_s"] = min(self.edge_speeds_mm_s)
            out["edge_speed_max_mm_s"] = max(self.edge_speeds_mm_s)
        return {k: (round(v, 4) if isinstance(v, float) else v) for k, v in out.items()}


def mass_balance_speed(gun: GunModel, vs: float, pitch_mm: float, dry_um: float) -> float:
    """Stroke speed (mm/s) giving ``dry_um`` mean dry film between strokes ``pitch_mm`` apart."""
    return gun.deposit_rate_mm3_s * vs / (pitch_mm * dry_um / 1000.0)


def choose_coats(
    gun: GunModel, finish: Finish, pitch_mm: float, params: PlannerParams
) -> tuple[int, float]:
    """Fewest coats whose per-coat film respects the sag limit and the speed limits."""
    vs = finish.paint.volume_solids
    if params.coats is not None:
        coats_range = [params.coats]
    else:
        first = max(1, math.ceil(finish.target_dft_um / finish.paint.max_dry_per_coat_um - 1e-9))
        coats_range = list(range(first, finish.max_coats + 1))
    for coats in coats_range:
        v = params.speed_mm_s or mass_balance_speed(gun, vs, pitch_mm, finish.target_dft_um / coats)
        if v > gun.speed_max_mm_s:
            thinnest = mass_balance_speed(gun, vs, pitch_mm, 1.0) / gun.speed_max_mm_s
            raise UnreachableTargetError(
                "finish.target_dft_um",
                f"{finish.target_dft_um:g} um needs {v:.0f} mm/s, above the cell's "
                f"speed_max_mm_s {gun.speed_max_mm_s:g}; the thinnest film this gun can lay "
                f"is about {thinnest * coats:.1f} um",
            )
        if v >= gun.speed_min_mm_s:
            return coats, v
    thickest = mass_balance_speed(gun, vs, pitch_mm, 1.0) / gun.speed_min_mm_s
    raise UnreachableTargetError(
        "finish.target_dft_um",
        f"{finish.target_dft_um:g} um needs more than max_coats={finish.max_coats} coats at the "
        f"slowest speed {gun.speed_min_mm_s:g} mm/s (at most {thickest * finish.max_coats:.0f} um)",
    )


def plan_panel(part: PanelPart, finish: Finish, gun: GunModel, params: PlannerParams) -> PanelPlan:
    standoff = params.standoff_mm or gun.standoff_ref_mm
    gun.check_standoff(standoff, "planner.standoff_mm")
    if params.speed_mm_s is not None and not (
        gun.speed_min_mm_s <= params.speed_mm_s <= gun.speed_max_mm_s
    ):
        raise InvalidInputError(
            "planner.speed_mm_s",
            f"{params.speed_mm_s:g} is outside the cell's range "
            f"[{gun.speed_min_mm_s:g}, {gun.speed_max_mm_s:g}] mm/s",
        )
    face = part.outline
    tol = finish.tolerance_pct / 100
    angle = raster_angle_deg(face, params.direction)
    _, vmin, vmax = stroke_frame(face, angle)
    layout = choose_layout(
        gun,
        standoff,
        vmax - vmin,
        tol,
        pitch_mm=params.pitch_mm,
        inset_mm=params.inset_mm,
        goal_pct=params.goal_within_pct,
    )
    coats, speed = choose_coats(
        gun, finish, layout.pitch_mm if layout.n_strokes > 1 else 2 * gun.reach_mm, params
    )
    notes: list[str] = [
        f"{layout.n_strokes} strokes at {angle:g} deg, pitch {layout.pitch_mm:.1f} mm, "
        f"inset {layout.inset_mm:.1f} mm (1-D: {layout.within_1d_pct:.1f} % within)"
    ]
    stage = {"top": _top_face(part, SEARCH_SPACING_MM)}
    target = finish.target_dft_um
    width = vmax - vmin

    def evaluate(
        n: int, inset: float, ot: float, gap: float
    ) -> tuple[tuple[float, float], RasterSpec]:
        pitch = (width - 2 * inset) / (n - 1) if n > 1 else 0.0
        spec = RasterSpec(angle, pitch, inset, n, ot, speed, standoff, gap, params.lead_mm)
        top = stage["top"]
        traj = plan_raster(face, part.thickness_mm, spec).sample(params.sample_hz)
        wet = deposit(top, traj, gun)
        dry = wet * finish.paint.volume_solids * coats
        scale, within = best_scale_within(dry / target, top.area_mm2, tol)
        fan = gun.deposit_rate_mm3_s * traj.spray_time_s
        capture = float(np.sum(wet * top.area_mm2) / 1000.0) / fan
        v = float(np.clip(speed / scale, gun.speed_min_mm_s, gun.speed_max_mm_s))
        spec = RasterSpec(angle, pitch, inset, n, ot, v, standoff, gap, params.lead_mm)
        return (min(100 * within, params.goal_within_pct), capture), spec

    n_best, inset_best = layout.n_strokes, layout.inset_mm
    ot_best = (
        params.overtravel_mm
        if params.overtravel_mm is not None
        else choose_overtravel(gun, standoff, tol)
    )
    gap_best = params.hole_gap_mm
    best_score, best_spec = evaluate(n_best, inset_best, ot_best, gap_best)
    seen = {(n_best, round(inset_best, 3), round(ot_best, 3), gap_best)}
    free_ot = params.overtravel_mm is None
    free_layout = params.inset_mm is None and params.pitch_mm is None
    # coordinate descent over overtravel, inset, stroke count and hole handling, judged on
    # the predicted top face: coarse steps on a coarse grid, then fine steps on the fine
    # grid the film is judged on (a coarse grid misses the thin last millimetre at edges)
    for step in (1.0, 1.0, 0.5, "fine", 0.5, 0.25):
        if step == "fine":
            if FINE_SPACING_MM >= SEARCH_SPACING_MM:
                break
            stage["top"] = _top_face(part, FINE_SPACING_MM)
            best_score, best_spec = evaluate(n_best, inset_best, ot_best, gap_best)
            seen = {(n_best, round(inset_best, 3), round(ot_best, 3), gap_best)}
            continue
        improved = True
        while improved:
            improved = False
            moves = []
            if free_ot:
                moves += [
                    (n_best, inset_best, max(0.0, ot_best + d * step), gap_best)
                    for d in (-10, 10, 20)
                ]
            if free_layout:
                moves += [(n_best, inset_best + d * step, ot_best, gap_best) for d in (-8, 8)]
                if step == 1.0:
                    moves += [(n, inset_best, ot_best, gap_best) for n in (n_best - 1, n_best + 1)]
            if part.holes and step == 1.0:
                moves += [(n_best, inset_best, ot_best, g) for g in (0.0, params.hole_gap_mm, 1e9)]
            for n, inset, ot, gap in moves:
                key = (n, round(inset, 3), round(ot, 3), gap)
                if key in seen or n < 1 or 2 * inset >= width:
                    continue
                seen.add(key)
                score, spec = evaluate(n, inset, ot, gap)
                if score > best_score:
                    best_score, best_spec = score, spec
                    n_best, inset_best, ot_best, gap_best = n, inset, ot, gap
                    improved = True
    if params.speed_mm_s is not None:
        best_spec = RasterSpec(**{**best_spec.__dict__, "speed_mm_s": params.speed_mm_s})
    overtravel, speed = best_spec.overtravel_mm, best_spec.speed_mm_s
    layout_note = (
        f"search: {best_spec.n_strokes} strokes, inset {best_spec.inset_mm:.1f} mm, "
        f"overtravel {overtravel:.0f} mm -> {best_score[0]:.2f} % within on the top "
        f"face ({len(seen)} layouts tried)"
    )
    notes.append(layout_note)
    spec = best_spec
    raster = plan_raster(face, part.thickness_mm, spec)
    coat_program = raster
    edge_speeds: list[float] = []
    if params.edge_passes:
        coat_program, edge_speeds = _plan_edges(part, finish, gun, params, raster, coats, standoff)
    program = Program.concat([coat_program] * coats)
    notes.append(f"{coats} coat(s), stroke speed {speed:.0f} mm/s, overtravel {overtravel:.0f} mm")
    return PanelPlan(program, spec, coats, edge_speeds, notes)


def _top_face(part: PanelPart, spacing_mm: float):
    samples = part.sample_surface(spacing_mm)
    top = samples.subset(samples.face_ids == 0)
    return type(top)(
        top.points_mm, top.normals, top.area_mm2, top.face_ids, top.face_names, samples.grid
    )


def _plan_edges(
    part: PanelPart,
    finish: Finish,
    gun: GunModel,
    params: PlannerParams,
    raster: Program,
    coats: int,
    standoff: float,
) -> tuple[Program, list[float]]:
    ring = part.outline.exterior
    samples = part.sample_surface(params.spacing_mm)
    edge = samples.subset(samples.face_mask("edge"))
    vs = finish.paint.volume_solids
    target = finish.target_dft_um / coats
    other = deposit(edge, raster.sample(params.sample_hz), gun) * vs
    # first guess: the pass's centre-line film from the cross profile
    g0 = float(gun.line_density(np.array([0.0]))[0]) * gun.standoff_ref_mm / standoff
    need0 = max(target - float(np.median(other)), 0.2 * target)
    v0 = float(
        np.clip(
            gun.deposit_rate_mm3_s * vs * g0 / (need0 / 1000.0),
            gun.speed_min_mm_s,
            gun.speed_max_mm_s,
        )
    )
    program, aim_s = edge_pass(ring, part.thickness_mm / 2, standoff, params.edge_tilt_deg, v0)
    sample_s = ring_position(ring, edge.points_mm[:, :2])
    for _ in range(EDGE_ITERATIONS):
        own = deposit(edge, program.sample(params.sample_hz), gun) * vs
        program = correct_edge_speeds(
            program,
            aim_s,
            ring.length,
            sample_s,
            own,
            other,
            target,
            (gun.speed_min_mm_s, gun.speed_max_mm_s),
        )
    speeds = [float(v) for v in program.speed_mm_s[program.trigger]]
    # the pass's first segment links from the raster's end, trigger off, at full speed
    program.speed_mm_s[0] = gun.speed_max_mm_s
    return Program.concat([raster, program]), speeds
