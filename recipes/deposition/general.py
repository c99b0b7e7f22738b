"""General deposition path: any gun pose, any surface, vectorised over blocks.

For a surface point p with outward normal n and a gun at g with spray axis z and fan
axes x, y, let d = p - g. The point projects onto the reference plane (distance h along
z) at s = (d·x, d·y) h / (d·z), and receives the wet-film rate

    q(s) (h/ℓ)² cosγ / cos³θ  =  Q f(s) h² (-d·n) / (d·z)³,

(ℓ = |d|, cosγ = -d·n/ℓ, cosθ = d·z/ℓ): the rays through an area of the reference plane
spread over the surface, so the model conserves paint whatever the geometry. Points
facing away (d·n >= 0), behind the gun, or farther along the axis than the gun's largest
valid standoff receive nothing (that paint counts as overspray); there is no shadowing,
so parts are taken as convex as seen from the gun.

Surface points are grouped into blocks that are compact in space and in normal
direction; gun samples into short chunks along the path. A block/chunk pair is skipped
when no point of the block can face any gun of the chunk, or when the block lies outside
the spray cone of every gun in the chunk. Surviving pairs are evaluated with matrix
products and in-place float32 array operations.
"""

from __future__ import annotations

import numpy as np
from scipy.special import beta as beta_fn

from recipes.gun import GunModel
from recipes.parts.surface import SurfaceSamples
from recipes.program import GunTrajectory

#: surface points per block and gun samples per chunk
BLOCK_POINTS = 256
GUN_CHUNK = 64
#: normal-direction bins (per axis) used to make blocks normal-coherent
_NORMAL_BINS = 4
#: guns closer than this along their axis deposit nothing (mm)
_MIN_DZ_MM = 1e-3


def _block_order(points_mm: np.ndarray, normals: np.ndarray, cell_mm: float) -> np.ndarray:
    """Order samples so consecutive runs are compact in position and in normal."""
    cell = np.floor((points_mm - points_mm.min(axis=0)) / cell_mm).astype(np.int64)
    nbin = np.clip(((normals + 1.0) * 0.5 * _NORMAL_BINS).astype(np.int64), 0, _NORMAL_BINS - 1)
    return np.lexsort((cell[:, 2], cell[:, 0], cell[:, 1], nbin[:, 2], nbin[:, 1], nbin[:, 0]))


def _runs(n: int, size: int) -> list[slice]:
    return [slice(i, min(i + size, n)) for i in range(0, n, size)]


def _block_bounds(
    xyz: np.ndarray, dirs: np.ndarray, slices: list[slice]
) -> tuple[np.ndarray, np.ndarray, np.ndarray, np.ndarray]:
    """Per run: centre (B,3), radius (B,), mean unit direction (B,3), direction spread (B,).

    The spread is the largest |dir - mean dir| in the run.
    """
    centre = np.array([xyz[s].mean(axis=0) for s in slices])
    radius = np.array([np.linalg.norm(xyz[s] - c, axis=1).max() for s, c in zip(slices, centre)])
    mean = np.array([dirs[s].mean(axis=0) for s in slices])
    mean /= np.maximum(np.linalg.norm(mean, axis=1, keepdims=True), 1e-12)
    spread = np.array([np.linalg.norm(dirs[s] - m, axis=1).max() for s, m in zip(slices, mean)])
    return centre, radius, mean, spread


def _candidate_pairs(
    pc: np.ndarray, pr: np.ndarray, pn: np.ndarray, ps: np.ndarray,
    gc: np.ndarray, gr: np.ndarray, gz: np.ndarray, gs: np.ndarray,
    gun: GunModel,
) -> np.ndarray:
    """(Bp, Bg) bool: block/chunk pairs that may exchange paint (conservative)."""
    d = pc[:, None, :] - gc[None, :, :]  # block centre minus gun-chunk centre
    dist = np.linalg.norm(d, axis=2)
    slack = pr[:, None] + gr[None, :]
    # facing: some point must see some gun, n·(g - p) > 0
    facing = -np.einsum("bk,bgk->bg", pn, d) + ps[:, None] * dist + slack > 0
    # in front of the gun and within the valid standoff
    dz = np.einsum("bgk,gk->bg", d, gz)
    reach_dz = gun.standoff_max_mm * np.hypot(1.0, gun.reach_mm / gun.standoff_ref_mm)
    ahead = (dz + slack + gs[None, :] * dist > 0) & (dz - slack - gs[None, :] * dist < reach_dz)
    # inside the spray cone: lateral distance from the chunk axis vs footprint growth
    lateral = np.sqrt(np.maximum(dist * dist - dz * dz, 0.0))
    tan_half = gun.reach_mm / gun.standoff_ref_mm
    cone = lateral - slack - gs[None, :] * dist <= tan_half * (np.abs(dz) + slack)
    return facing & ahead & cone


def deposit_general(
    samples: SurfaceSamples,
    traj: GunTrajectory,
    gun: GunModel,
    *,
    block_points: int = BLOCK_POINTS,
) -> np.ndarray:
    """Wet film (µm) at every surface sample from the trigger-on samples of ``traj``.

    Returns
    -------
    wet_um : (N,) float array.
    """
    n_pts = len(samples)
    wet_mm = np.zeros(n_pts)
    on = traj.trigger
    if n_pts == 0 or not on.any():
        return wet_mm
    g = traj.position_mm[on]
    z = traj.axis[on]
    x = traj.fan_x[on]
    y = np.cross(z, x)
    w = (traj.dt_s[on] * gun.deposit_rate_mm3_s).astype(np.float32)  # mm³ into the fan

    order = _block_order(samples.points_mm, samples.normals, cell_mm=8.0 * np.sqrt(block_points))
    P = samples.points_mm[order]
    N = samples.normals[order]
    p_slices = _runs(n_pts, block_points)
    g_slices = _runs(len(g), GUN_CHUNK)
    pc, pr, pn, ps = _block_bounds(P, N, p_slices)
    gc, gr, gz, gs = _block_bounds(g, z, g_slices)
    pairs = _candidate_pairs(pc, pr, pn, ps, gc, gr, gz, gs, gun)
    kernel = _Kernel(gun)

    out = np.zeros(n_pts)
    for i, sl in enumerate(p_slices):
        chunks = np.flatnonzero(pairs[i])
        if chunks.size == 0:
            continue
        gi = np.concatenate([np.arange(g_slices[c].start, g_slices[c].stop) for c in chunks])
        origin = pc[i]
        p = (P[sl] - origin).astype(np.float32)
        n = N[sl].astype(np.float32)
        gg = (g[gi] - origin).astype(np.float32)
        out[sl] = kernel.block(p, n, gg, z[gi], x[gi], y[gi]) @ w[gi]
    wet_mm[order] = out
    return wet_mm * 1000.0


class _Kernel:
    """The per-block maths, with the gun's constants held once."""

    def __init__(self, gun: GunModel) -> None:
        self.gun = gun
        self.h = np.float32(gun.standoff_ref_mm)
        self.dz_max = np.float32(gun.standoff_max_mm)
        self.circular = gun.profile != "gaussian" and (
            gun.semi_axis_a_mm == gun.semi_axis_b_mm and gun.beta1 == gun.beta2
        )
        a, b = gun.half_extent_mm
        self.inv_a2 = np.float32(1.0 / (a * a))
        self.inv_b2 = np.float32(1.0 / (b * b))
        if gun.profile != "gaussian":
            self.norm = np.float32(1.0 / (a * b * beta_fn(0.5, gun.beta2) * beta_fn(0.5, gun.beta1 + 0.5)))

    def block(
        self,
        p: np.ndarray,
        n: np.ndarray,
        g: np.ndarray,
        z: np.ndarray,
        x: np.ndarray,
        y: np.ndarray,
    ) -> np.ndarray:
        """Wet-film rate per unit deposit, (Np, Ng) float32, for points p (normals n)
        and guns g with frames (z, x, y); coordinates relative to a common origin."""
        z = z.astype(np.float32)
        x = x.astype(np.float32)
        y = y.astype(np.float32)
        dz = p @ z.T
        dz -= np.einsum("ij,ij->i", g, z)
        dx = p @ x.T
        dx -= np.einsum("ij,ij->i", g, x)
        dy = p @ y.T
        dy -= np.einsum("ij,ij->i", g, y)
        dn = n @ g.T  # -(d·n) = n·g - n·p
        dn -= np.einsum("ij,ij->i", n, p)[:, None]
        np.maximum(dn, 0.0, out=dn)
        dn[dz > self.dz_max] = 0.0
        inv = np.zeros_like(dz)
        np.divide(self.h, dz, out=inv, where=dz > _MIN_DZ_MM)
        # fac = h² dn / dz³ = dn inv³ / h
        dn *= inv
        dn *= inv
        dn *= inv
        dn *= np.float32(1.0 / self.h)
        dx *= inv
        dy *= inv
        if self.gun.profile == "gaussian":
            dens = self.gun.density(dx, dy).astype(np.float32)
        elif self.circular:
            np.multiply(dx, dx, out=dx)
            np.multiply(dy, dy, out=dy)
            dx += dy
            dx *= -self.inv_a2
            dx += 1.0
            np.maximum(dx, 0.0, out=dx)
            dens = _pow_inplace(dx, self.gun.beta1 - 1.0)
            dens *= self.norm
        else:
            np.multiply(dx, dx, out=dx)
            dx *= -self.inv_a2
            dx += 1.0  # u = 1 - x²/a²
            inside = dx > 0
            np.multiply(dy, dy, out=dy)
            dy *= -self.inv_b2
            np.divide(dy, dx, out=dy, where=inside)
            dy += 1.0  # 1 - y²/(b² u)
            inside &= dy > 0
            dx[~inside] = 0.0
            dy[~inside] = 0.0
            dens = _pow_inplace(dx, self.gun.beta1 - 1.0) * _pow_inplace(dy, self.gun.beta2 - 1.0)
            dens *= self.norm
        dens *= dn
        return dens


def _pow_inplace(a: np.ndarray, exponent: float) -> np.ndarray:
    if exponent == 0.0:
        a[:] = 1.0
        return a
    if exponent == 1.0:
        return a
    if exponent == 1.5:
        r = np.sqrt(a)
        a *= r
        return a
    if exponent == 2.0:
        a *= a
        return a
    np.power(a, np.float32(exponent), out=a)
    return a
