"""The parameter solver: from a finish's target film to a complete panel program.

1. Stroke direction, then pitch and inset from the gun's cross profile (1-D, analytic).
2. Coats: the fewest that keep each coat under the paint's sag limit and the stroke speed
   (mass balance, ``v = Q · vs / (pitch · dry_per_coat)``) within the cell's limits.
3. Overtravel: the smallest that keeps the top face inside the band, found by predicting
   the top face (FFT path, coarse grid) for a few candidates around the analytic value.
4. Speed: scaled so the predicted top film sits best inside the band.
5. Edge passes: speed per chunk from the predicted film on the edge band (raster paint
   included), corrected by a few fixed-point steps.
6. Hole walls: a pass from inside each hole the gun fits in (:mod:`recipes.planner.holes`).
If the target cannot be met within the gun's limits, or with the engineer's coats or
speed, :class:`UnreachableTargetError` says which limit and by how much
(:mod:`recipes.planner.coats`).
"""

from __future__ import annotations

from dataclasses import dataclass, field

import numpy as np

from recipes.deposition import deposit
from recipes.errors import UnreachableTargetError
from recipes.finish import Finish
from recipes.gun import GunModel
from recipes.parts.panel import PanelPart
from recipes.planner.coats import check_fixed_speed, check_speed_range
from recipes.planner.coats import choose_coats as coats_for
from recipes.planner.edges import (
    EDGE_ITERATIONS,
    correct_edge_speeds,
    edge_pass,
    ring_position,
)
from recipes.planner.holes import HOLE_LIFT_MM, lift_link, plan_hole_passes
from recipes.planner.params import PlannerParams
from recipes.planner.profile import best_scale_within, choose_layout, choose_overtravel
from recipes.planner.raster import RasterSpec, plan_raster, raster_angle_deg, stroke_frame
from recipes.program import Program

#: coarse grid used while searching (mm)
SEARCH_SPACING_MM = 2.0
FINE_SPACING_MM = 1.0


@dataclass(frozen=True)
class PanelPlan:
    program: Program
    raster: RasterSpec
    coats: int
    edge_speeds_mm_s: list[float]
    notes: list[str]
    hole_speeds_mm_s: list[float] = field(default_factory=list)
    #: per hole of the part: whether its wall got a pass
    holes_sprayed: list[bool] = field(default_factory=list)

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
        if self.hole_speeds_mm_s:
            out["hole_speed_min_mm_s"] = min(self.hole_speeds_mm_s)
            out["hole_speed_max_mm_s"] = max(self.hole_speeds_mm_s)
        return {k: (round(v, 4) if isinstance(v, float) else v) for k, v in out.items()}


def mass_balance_speed(gun: GunModel, vs: float, pitch_mm: float, dry_um: float) -> float:
    """Stroke speed (mm/s) giving ``dry_um`` mean dry film between strokes ``pitch_mm`` apart."""
    return gun.deposit_rate_mm3_s * vs / (pitch_mm * dry_um / 1000.0)


def choose_coats(
    gun: GunModel, finish: Finish, pitch_mm: float, params: PlannerParams
) -> tuple[int, float]:
    """Coats and stroke speed for strokes ``pitch_mm`` apart (see :mod:`recipes.planner.coats`)."""
    one_coat = mass_balance_speed(gun, finish.paint.volume_solids, pitch_mm, finish.target_dft_um)
    return coats_for(one_coat, gun, finish, params)


#: standoffs tried (as fractions of the gun's reference) when the engineer sets none
STANDOFF_FRACTIONS = (1.0, 0.8, 0.7, 0.6)


def plan_panel(part: PanelPart, finish: Finish, gun: GunModel, params: PlannerParams) -> PanelPlan:
    if params.standoff_mm is not None:
        gun.check_standoff(params.standoff_mm, "planner.standoff_mm")
    check_speed_range(gun, params)
    angle = raster_angle_deg(part.outline, params.direction)
    if params.standoff_mm is not None:
        standoffs = [params.standoff_mm]
    else:
        standoffs = sorted(
            {
                max(gun.standoff_min_mm, round(f * gun.standoff_ref_mm, 1))
                for f in STANDOFF_FRACTIONS
            },
            reverse=True,
        )
    searches: list[_LayoutSearch] = []
    first_error: UnreachableTargetError | None = None
    coarse = _top_face(part, SEARCH_SPACING_MM)
    for standoff in standoffs:
        try:
            search = _LayoutSearch(part, finish, gun, params, angle, standoff, coarse)
        except UnreachableTargetError as exc:
            first_error = first_error or exc
            continue
        search.descend((1.0, 1.0, 0.5))
        searches.append(search)
    if not searches:
        assert first_error is not None
        raise first_error
    # the best standoff by (uniformity up to the goal, then capture); the fine grid judges
    best = max(searches, key=lambda srch: srch.best_score)
    if FINE_SPACING_MM < SEARCH_SPACING_MM:
        best.use_grid(_top_face(part, FINE_SPACING_MM))
        best.descend((0.5, 0.25))
    spec = best.best_spec
    if params.speed_mm_s is not None:
        best.check_fixed_speed()
        spec = RasterSpec(**{**spec.__dict__, "speed_mm_s": params.speed_mm_s})
    notes = [
        best.layout_note,
        f"search: standoff {spec.standoff_mm:g} mm (tried "
        f"{', '.join(f'{h:g}' for h in standoffs)}), {spec.n_strokes} strokes, "
        f"inset {spec.inset_mm:.1f} mm, overtravel "
        f"{spec.overtravel_mm:.0f} mm -> {best.best_score[0]:.2f} % within on the top face "
        f"({sum(len(x.seen_all) for x in searches)} layouts tried)",
    ]
    raster = plan_raster(part.outline, part.thickness_mm, spec)
    coat_program = raster
    edge_speeds: list[float] = []
    if params.edge_passes:
        # edge passes keep the gun's reference standoff (or the engineer's): at short
        # standoffs the swing round a corner overloads it beyond what the speed limit can cut
        coat_program, edge_speeds = _plan_edges(
            part,
            finish,
            gun,
            params,
            raster,
            best.coats,
            params.standoff_mm or gun.standoff_ref_mm,
        )
    holes = None
    if params.hole_passes and part.holes:
        holes = plan_hole_passes(
            part,
            finish,
            gun,
            params,
            part.sample_surface(params.spacing_mm),
            coat_program,
            best.coats,
            standoffs,
        )
        notes += holes.notes
        if holes.program is not None:
            link = lift_link(coat_program, part.thickness_mm + HOLE_LIFT_MM, gun.speed_max_mm_s)
            coat_program = Program.concat([coat_program, link, holes.program])
    program = Program.concat([coat_program] * best.coats)
    notes.append(
        f"{best.coats} coat(s), stroke speed {spec.speed_mm_s:.0f} mm/s, overtravel "
        f"{spec.overtravel_mm:.0f} mm"
    )
    return PanelPlan(
        program,
        spec,
        best.coats,
        edge_speeds,
        notes,
        holes.speeds_mm_s if holes else [],
        holes.sprayed if holes else [],
    )


class _LayoutSearch:
    """Coordinate descent over overtravel, inset, stroke count and hole handling at one
    standoff, judged on the predicted top face (FFT path). The score is the share of area
    inside the band (capped at the goal), then the capture of the raster's paint."""

    def __init__(self, part, finish, gun, params, angle, standoff, top) -> None:
        gun.check_standoff(standoff, "planner.standoff_mm")
        self.part, self.finish, self.gun, self.params = part, finish, gun, params
        self.angle, self.standoff, self.top = angle, standoff, top
        self.tol = finish.tolerance_pct / 100
        _, vmin, vmax = stroke_frame(part.outline, angle)
        self.width = vmax - vmin
        layout = choose_layout(
            gun,
            standoff,
            self.width,
            self.tol,
            pitch_mm=params.pitch_mm,
            inset_mm=params.inset_mm,
            goal_pct=params.goal_within_pct,
        )
        pitch = layout.pitch_mm if layout.n_strokes > 1 else 2 * gun.reach_mm
        self.coats, self.speed = choose_coats(gun, finish, pitch, params)
        self.layout_note = (
            f"{layout.n_strokes} strokes at {angle:g} deg, pitch {layout.pitch_mm:.1f} mm, "
            f"inset {layout.inset_mm:.1f} mm at {standoff:g} mm standoff "
            f"(1-D: {layout.within_1d_pct:.1f} % within)"
        )
        ot = params.overtravel_mm
        if ot is None:
            ot = choose_overtravel(gun, standoff, self.tol)
        self.state = (layout.n_strokes, layout.inset_mm, ot, params.hole_gap_mm)
        self.seen_all: set = set()
        self.use_grid(top)

    def use_grid(self, top) -> None:
        self.top = top
        self.seen = {self._key(self.state)}
        self.seen_all |= self.seen
        self.best_score, self.best_spec = self.evaluate(*self.state)

    @staticmethod
    def _key(state) -> tuple:
        n, inset, ot, gap = state
        return (n, round(inset, 3), round(ot, 3), gap)

    def film(self, n: int, inset: float, ot: float, gap: float):
        """(RasterSpec at the search speed, wet film µm per coat (K,), spray time s)."""
        p = self.params
        pitch = (self.width - 2 * inset) / (n - 1) if n > 1 else 0.0
        spec = RasterSpec(
            self.angle, pitch, inset, n, ot, self.speed, self.standoff, gap, p.lead_mm
        )
        traj = plan_raster(self.part.outline, self.part.thickness_mm, spec).sample(p.sample_hz)
        return spec, deposit(self.top, traj, self.gun), traj.spray_time_s

    def evaluate(self, n: int, inset: float, ot: float, gap: float):
        p, gun = self.params, self.gun
        spec, wet, spray_s = self.film(n, inset, ot, gap)
        dry = wet * self.finish.paint.volume_solids * self.coats
        scale, within = best_scale_within(
            dry / self.finish.target_dft_um, self.top.area_mm2, self.tol
        )
        capture = float(np.sum(wet * self.top.area_mm2) / 1000.0) / (
            gun.deposit_rate_mm3_s * spray_s
        )
        v = float(np.clip(self.speed / scale, gun.speed_min_mm_s, gun.speed_max_mm_s))
        spec = RasterSpec(**{**spec.__dict__, "speed_mm_s": v})
        return (min(100 * within, p.goal_within_pct), capture), spec

    def check_fixed_speed(self) -> None:
        """Refuse the engineer's stroke speed when the best layout at it misses the band."""
        speed = self.params.speed_mm_s
        assert speed is not None
        _, wet, _ = self.film(*self.state)
        per_coat = wet * self.finish.paint.volume_solids
        rel = per_coat * self.coats / self.finish.target_dft_um
        a = self.top.area_mm2
        inside = (rel >= 1 - self.tol) & (rel <= 1 + self.tol)
        check_fixed_speed(
            speed,
            self.best_spec.speed_mm_s,
            float(100 * a[inside].sum() / a.sum()),
            self.best_score[0],
            float(np.sum(per_coat * a) / a.sum()),
            self.finish,
        )

    def descend(self, steps: tuple[float, ...]) -> None:
        p = self.params
        free_ot = p.overtravel_mm is None
        free_layout = p.inset_mm is None and p.pitch_mm is None
        for step in steps:
            improved = True
            while improved:
                improved = False
                n, inset, ot, gap = self.state
                moves = []
                if free_ot:
                    moves += [(n, inset, max(0.0, ot + d * step), gap) for d in (-10, 10, 20)]
                if free_layout:
                    moves += [(n, inset + d * step, ot, gap) for d in (-8, 8)]
                    if step == 1.0:
                        moves += [(m, inset, ot, gap) for m in (n - 1, n + 1)]
                if self.part.holes and step == 1.0:
                    moves += [(n, inset, ot, g) for g in (0.0, p.hole_gap_mm, 1e9)]
                for move in moves:
                    key = self._key(move)
                    if key in self.seen or move[0] < 1 or 2 * move[1] >= self.width:
                        continue
                    self.seen.add(key)
                    self.seen_all.add(key)
                    score, spec = self.evaluate(*move)
                    if score > self.best_score:
                        self.best_score, self.best_spec = score, spec
                        self.state = move
                        improved = True


def _top_face(part: PanelPart, spacing_mm: float):
    return part.sample_surface(spacing_mm).split_top()[0]


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
