"""Parameter solver for mesh parts: strokes around the part, overtravel and speed."""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

from recipes.deposition import deposit
from recipes.finish import Finish
from recipes.gun import GunModel
from recipes.parts.mesh import MeshPart
from recipes.planner.coats import check_fixed_speed, check_speed_range, choose_coats
from recipes.planner.mesh_raster import MeshRasterSpec, plan_mesh_raster
from recipes.planner.params import PlannerParams
from recipes.planner.profile import best_scale_within, choose_overtravel
from recipes.program import Program

SEARCH_SPACING_MM = 8.0
#: gun sampling while searching (the film is smooth at this rate)
SEARCH_HZ = 200.0
_STROKE_COUNTS = (6, 8, 10, 12)
_START_SPEED_MM_S = 300.0


@dataclass(frozen=True)
class MeshPlan:
    program: Program
    spec: MeshRasterSpec
    coats: int
    notes: list[str]

    def chosen(self) -> dict:
        s = self.spec
        return dict(
            n_strokes=s.n_strokes,
            overtravel_mm=round(s.overtravel_mm, 4),
            speed_mm_s=round(s.speed_mm_s, 4),
            standoff_mm=s.standoff_mm,
            coats=self.coats,
        )


def plan_mesh(part: MeshPart, finish: Finish, gun: GunModel, params: PlannerParams) -> MeshPlan:
    standoff = params.standoff_mm or gun.standoff_ref_mm
    gun.check_standoff(standoff, "planner.standoff_mm")
    check_speed_range(gun, params)
    tol = finish.tolerance_pct / 100
    coarse = part.sample_surface(max(SEARCH_SPACING_MM, params.spacing_mm))
    side = coarse.subset(coarse.face_mask("side"))
    vs = finish.paint.volume_solids
    target = finish.target_dft_um

    def evaluate(n: int, ot: float) -> tuple[tuple[float, float], float, np.ndarray, float]:
        spec = MeshRasterSpec(n, ot, _START_SPEED_MM_S, standoff, params.lead_mm)
        traj = plan_mesh_raster(part, spec).sample(min(SEARCH_HZ, params.sample_hz))
        wet = deposit(side, traj, gun)
        scale, within = best_scale_within(wet * vs / target, side.area_mm2, tol)
        capture = float(np.sum(wet * side.area_mm2) / 1000.0) / (
            gun.deposit_rate_mm3_s * traj.spray_time_s
        )
        return (min(100 * within, params.goal_within_pct), capture), scale, wet, within

    ot0 = (
        params.overtravel_mm
        if params.overtravel_mm is not None
        else choose_overtravel(gun, standoff, tol)
    )
    counts = [params.mesh_strokes] if params.mesh_strokes else list(_STROKE_COUNTS)
    ots = [ot0] if params.overtravel_mm is not None else [max(0.0, ot0 + d) for d in (-10, 0, 10)]
    best = None
    for n in counts:
        for ot in ots:
            score, scale, wet, within = evaluate(n, ot)
            # fewer strokes win ties on the capped score: same paint, less path
            if best is None or score > best[0]:
                best = (score, n, ot, scale, wet, within)
    assert best is not None
    score, n, ot, scale, wet, within = best
    # the film scales as 1/speed: this speed lays the whole target in one coat
    one_coat_speed = _START_SPEED_MM_S / scale
    coats, speed = choose_coats(one_coat_speed, gun, finish, params)
    if params.speed_mm_s is not None:
        per_coat = wet * vs * _START_SPEED_MM_S / speed
        rel = per_coat * coats / target
        a = side.area_mm2
        inside = (rel >= 1 - tol) & (rel <= 1 + tol)
        check_fixed_speed(
            speed,
            float(np.clip(one_coat_speed * coats, gun.speed_min_mm_s, gun.speed_max_mm_s)),
            float(100 * a[inside].sum() / a.sum()),
            score[0],
            float(np.sum(per_coat * a) / a.sum()),
            finish,
        )
    spec = MeshRasterSpec(n, ot, float(speed), standoff, params.lead_mm)
    program = Program.concat([plan_mesh_raster(part, spec)] * coats)
    notes = [
        f"{n} strokes around the part, overtravel {ot:.0f} mm, {coats} coat(s) at "
        f"{speed:.0f} mm/s (search: {100 * within:.2f} % within on the sides)"
    ]
    return MeshPlan(program, spec, coats, notes)
