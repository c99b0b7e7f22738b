"""Coats and stroke speed from the film one stroke layout lays: the limits that bind them.

Both solvers (panels and meshes) know ``one_coat_speed_mm_s``, the stroke speed at which
their layout would lay the whole target in a single coat; the film scales as 1/speed, so
``c`` coats need ``c · one_coat_speed_mm_s``. Three limits bind: the paint's sag limit
(``finish.paint.max_dry_per_coat_um``), the number of coats the finish allows
(``finish.max_coats``) and the cell's speed range (``gun.speed_min_mm_s`` to
``gun.speed_max_mm_s``). Every refusal names the field and the limit that binds.
"""

from __future__ import annotations

import math

import numpy as np

from recipes.errors import InvalidInputError, UnreachableTargetError
from recipes.finish import Finish
from recipes.gun import GunModel
from recipes.planner.params import PlannerParams

#: a fixed stroke speed may fall this far (percentage points of area) short of the share
#: within the band that the solver's own speed reaches
FIXED_SPEED_SLACK_PCT = 0.5


def check_speed_range(gun: GunModel, params: PlannerParams) -> None:
    """An engineer's stroke speed must lie in the cell's range."""
    v = params.speed_mm_s
    if v is not None and not gun.speed_min_mm_s <= v <= gun.speed_max_mm_s:
        raise InvalidInputError(
            "planner.speed_mm_s",
            f"{v:g} is outside the cell's range "
            f"[{gun.speed_min_mm_s:g}, {gun.speed_max_mm_s:g}] mm/s",
        )


def fewest_coats(finish: Finish) -> int:
    """Fewest coats that keep each coat under the paint's sag limit."""
    return max(1, math.ceil(finish.target_dft_um / finish.paint.max_dry_per_coat_um - 1e-9))


def choose_coats(
    one_coat_speed_mm_s: float, gun: GunModel, finish: Finish, params: PlannerParams
) -> tuple[int, float]:
    """(coats, stroke speed mm/s): the fewest coats within the sag limit whose speed lies in
    the cell's range, or the engineer's coats and speed, checked against the same limits."""
    target = finish.target_dft_um
    sag = finish.paint.max_dry_per_coat_um
    fewest = fewest_coats(finish)
    v_lo, v_hi = gun.speed_min_mm_s, gun.speed_max_mm_s
    # thickest film one coat can lay: the sag limit or the slowest speed, whichever binds
    per_coat_max_um = min(sag, target * one_coat_speed_mm_s / v_lo)
    if params.coats is not None:
        coats = params.coats
        if coats > finish.max_coats:
            raise UnreachableTargetError(
                "planner.coats", f"{coats} is above finish.max_coats={finish.max_coats}"
            )
        if target / coats > sag * (1 + 1e-9):
            raise UnreachableTargetError(
                "planner.coats",
                f"{coats} coat(s) of {target / coats:.1f} um exceed the sag limit "
                f"finish.paint.max_dry_per_coat_um={sag:g} um: {target:g} um needs at least "
                f"{fewest} coats",
            )
        candidates = [coats]
    else:
        if fewest > finish.max_coats:
            raise UnreachableTargetError(
                "finish.target_dft_um",
                f"{target:g} um needs {fewest} coats under the sag limit "
                f"finish.paint.max_dry_per_coat_um={sag:g} um, more than "
                f"finish.max_coats={finish.max_coats}; the thickest reachable film is "
                f"{per_coat_max_um * finish.max_coats:.0f} um",
            )
        candidates = list(range(fewest, finish.max_coats + 1))
    if params.speed_mm_s is not None:
        if params.coats is not None:
            return params.coats, params.speed_mm_s
        # the coats whose mass balance at the fixed speed comes nearest the target
        per_coat_um = target * one_coat_speed_mm_s / params.speed_mm_s
        coats = int(np.clip(round(target / per_coat_um), fewest, finish.max_coats))
        return coats, params.speed_mm_s
    for coats in candidates:
        v = one_coat_speed_mm_s * coats
        if v > v_hi:
            thinnest = target * one_coat_speed_mm_s / v_hi
            raise UnreachableTargetError(
                "finish.target_dft_um",
                f"{target:g} um in {coats} coat(s) needs {v:.0f} mm/s, above the cell's "
                f"speed_max_mm_s {v_hi:g}; the thinnest film this gun can lay is about "
                f"{thinnest * coats:.1f} um",
            )
        if v >= v_lo:
            return coats, v
    last = candidates[-1]
    field = "planner.coats" if params.coats is not None else "finish.target_dft_um"
    limit = f"planner.coats={last}" if params.coats is not None else f"finish.max_coats={last}"
    raise UnreachableTargetError(
        field,
        f"{target:g} um needs a speed below the cell's speed_min_mm_s {v_lo:g} with "
        f"{limit}: each coat lays at most {per_coat_max_um:.1f} um, so at most "
        f"{per_coat_max_um * last:.0f} um",
    )


def check_fixed_speed(
    speed_mm_s: float,
    needed_mm_s: float,
    within_pct: float,
    goal_pct: float,
    per_coat_um: float,
    finish: Finish,
) -> None:
    """Refuse an engineer's fixed stroke speed that misses the target.

    ``within_pct`` is the predicted share of area within the band at ``speed_mm_s``,
    ``goal_pct`` the share the solver reaches with its own speed ``needed_mm_s`` (capped at
    its goal), ``per_coat_um`` the predicted mean dry film per coat.
    """
    sag = finish.paint.max_dry_per_coat_um
    if per_coat_um > sag * (1 + finish.tolerance_pct / 100):
        raise UnreachableTargetError(
            "planner.speed_mm_s",
            f"{speed_mm_s:g} mm/s lays about {per_coat_um:.1f} um per coat, above the sag "
            f"limit finish.paint.max_dry_per_coat_um={sag:g} um; the target "
            f"{finish.target_dft_um:g} um needs about {needed_mm_s:.0f} mm/s",
        )
    if within_pct < goal_pct - FIXED_SPEED_SLACK_PCT:
        raise UnreachableTargetError(
            "planner.speed_mm_s",
            f"{speed_mm_s:g} mm/s puts {within_pct:.1f} % of the area within "
            f"±{finish.tolerance_pct:g} % of {finish.target_dft_um:g} um (the solver's goal: "
            f"{goal_pct:.1f} %); the target needs about {needed_mm_s:.0f} mm/s",
        )
