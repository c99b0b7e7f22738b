"""The straightforward per-sample loop: one gun sample at a time over all surface points.

Same model as the general path, written as plainly as possible in float64. It is the
oracle the fast paths are tested against and the baseline the benchmarks time.
"""

from __future__ import annotations

import numpy as np

from recipes.gun import GunModel
from recipes.parts.surface import SurfaceSamples
from recipes.program import GunTrajectory


def deposit_reference(samples: SurfaceSamples, traj: GunTrajectory, gun: GunModel) -> np.ndarray:
    """Wet film (µm) at every sample, summed gun sample by gun sample."""
    h = gun.standoff_ref_mm
    film_mm = np.zeros(len(samples))
    P, N = samples.points_mm, samples.normals
    for k in np.flatnonzero(traj.trigger):
        g, z, x = traj.position_mm[k], traj.axis[k], traj.fan_x[k]
        y = np.cross(z, x)
        d = P - g
        dz = d @ z
        dn = -np.einsum("ij,ij->i", d, N)
        ok = (dz > 1e-3) & (dn > 0) & (dz <= gun.standoff_max_mm)
        dz_safe = np.where(ok, dz, 1.0)
        sx = np.where(ok, (d @ x) * h / dz_safe, 0.0)
        sy = np.where(ok, (d @ y) * h / dz_safe, 0.0)
        rate = gun.deposit_rate_mm3_s * gun.density(sx, sy) * h * h * dn / dz_safe**3
        film_mm += np.where(ok, rate, 0.0) * traj.dt_s[k]
    return film_mm * 1000.0
