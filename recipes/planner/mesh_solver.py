"""Parameter solver for mesh parts: strokes around the part, overtravel and speed."""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

from recipes.deposition import deposit
from recipes.errors import UnreachableTargetError
from recipes.finish import Finish
from recipes.gun import GunModel
from recipes.parts.mesh import MeshPart
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
    tol = finish.tolerance_pct / 100
    coarse = part.sample_surface(max(SEARCH_SPACING_MM, params.spacing_mm))
    side = coarse.subset(coarse.face_mask("side"))
    vs = finish.paint.volume_solids
    target = finish.target_dft_um

    def evaluate(n: int, ot: float) -> tuple[tuple[float, float], float, float]:
        spec = MeshRasterSpec(n, ot, _START_SPEED_MM_S, standoff, params.lead_mm)
        traj = plan_mesh_raster(part, spec).sample(min(SEARCH_HZ, params.sample_hz))
        wet = deposit(side, traj, gun)
        scale, within = best_scale_within(wet * vs / target, side.area_mm2, tol)
        capture = float(np.sum(wet * side.area_mm2) / 1000.0) / (
            gun.deposit_rate_mm3_s * traj.spray_time_s
        )
        return (min(100 * within, params.goal_within_pct), capture), scale, within

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
            score, scale, within = evaluate(n, ot)
            # fewer strokes win ties on the capped score: same paint, less path
            if best is None or score > best[0]:
                best = (score, n, ot, scale, within)
    score, n, ot, scale, within = best
    speed_one_coat = _START_SPEED_MM_S / scale
    coats = 1
    first = max(1, int(np.ceil(target / finish.paint.max_dry_per_coat_um - 1e-9)))
    coats = params.coats or first
    speed = params.speed_mm_s or speed_one_coat * coats
    while speed < gun.speed_min_mm_s and params.coats is None and coats > 1:
        coats -= 1
        speed = speed_one_coat * coats
    while speed > gun.speed_max_mm_s and coats > 1:
        coats -= 1
        speed = speed_one_coat * coats
    if speed < gun.speed_min_mm_s:
        raise UnreachableTargetError(
            "finish.target_dft_um",
            f"{target:g} um on this part needs {speed:.0f} mm/s, below the gun's "
            f"speed_min_mm_s {gun.speed_min_mm_s:g}",
        )
    if speed > gun.speed_max_mm_s:
        while speed > gun.speed_max_mm_s and coats < finish.max_coats:
            coats += 1
            speed = speed_one_coat * coats
        if speed > gun.speed_max_mm_s:
            raise UnreachableTargetError(
                "finish.target_dft_um",
                f"{target:g} um needs {speed:.0f} mm/s, above speed_max_mm_s "
                f"{gun.speed_max_mm_s:g}",
            )
    spec = MeshRasterSpec(n, ot, float(speed), standoff, params.lead_mm)
    program = Program.concat([plan_mesh_raster(part, spec)] * coats)
    notes = [
        f"{n} strokes around the part, overtravel {ot:.0f} mm, {coats} coat(s) at "
        f"{speed:.0f} mm/s (search: {100 * within:.2f} % within on the sides)"
    ]
    return MeshPlan(program, spec, coats, notes)
