"""Paint deposition: wet and dry film on a part's surface from a timed gun trajectory."""

from __future__ import annotations

import numpy as np

from recipes.deposition.flat import deposit_flat, flat_eligible
from recipes.deposition.general import deposit_general
from recipes.gun import GunModel
from recipes.parts.surface import SurfaceSamples
from recipes.program import GunTrajectory

__all__ = ["deposit", "deposit_flat", "deposit_general", "flat_eligible"]


def deposit(
    samples: SurfaceSamples, traj: GunTrajectory, gun: GunModel, *, fast: bool = True
) -> np.ndarray:
    """Wet film (µm) at every sample.

    The top face of a panel (samples with a ``grid``) takes the FFT path for gun samples
    normal to it; everything else takes the general path. ``fast=False`` forces the
    general path everywhere (used to check the two agree).
    """
    grid = samples.grid
    if not fast or grid is None:
        return deposit_general(samples, traj, gun)
    k = grid.index.size
    eligible = flat_eligible(traj, grid.z_mm, gun)
    wet = np.zeros(len(samples))
    wet[:k] = deposit_flat(grid, traj.select(eligible), gun).ravel()[grid.index]
    rest = traj.select(~eligible & traj.trigger)
    top, sides = samples.split_top()
    wet[:k] += deposit_general(top, rest, gun)
    wet[k:] += deposit_general(sides, traj, gun)
    return wet
