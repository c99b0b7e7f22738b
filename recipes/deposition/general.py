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
GUN_CHUNK = 32
#: normal-direction bins (per axis) used to make blocks normal-coherent
_NORMAL_BINS = 4
#: gun samples evaluated together against one block (keeps the arrays in cache)
_GUN_SUBBLOCK = 1024
#: side of the spatial cells that blocks are cut from (mm)
_CELL_MM = 16.0
#: guns closer than this along their axis deposit nothing (mm)
_MIN_DZ_MM = 1e-3


def _blocks(
    points_mm: np.ndarray, normals: np.ndarray, cell_mm: float, size: int
) -> tuple[np.ndarray, list[slice]]:
    """Order samples by (normal bin, spatial cell) and cut the order into blocks of at most
    ``size`` that never straddle two cells, so every block is compact in space and normal."""
    cell = np.floor((points_mm - points_mm.min(axis=0)) / cell_mm).astype(np.int64)
    nbin = np.clip(((normals + 1.0) * 0.5 * _NORMAL_BINS).astype(np.int64), 0, _NORMAL_BINS - 1)
    keys = np.column_stack([nbin, cell])
    order = np.lexsort(keys.T[::-1])
    k = keys[order]
    starts = np.flatnonzero(np.concatenate([[True], np.any(k[1:] != k[:-1], axis=1)]))
    ends = np.concatenate([starts[1:], [len(order)]])
    slices = [
        slice(i, min(i + size, b))
        for a, b in zip(starts, ends, strict=False)
        for i in range(a, b, size)
    ]
    return order, slices


def _runs(n: int, size: int) -> list[slice]:
    return [slice(i, min(i + size, n)) for i in range(0, n, size)]


def _block_bounds(
    xyz: np.ndarray, dirs: np.ndarray, slices: list[slice]
) -> tuple[np.ndarray, np.ndarray, np.ndarray, np.ndarray, np.ndarray]:
    """Per run: box centre (B,3), box half extents (B,3), radius (B,), mean unit direction
    (B,3), direction spread (B,).

    The spread is the largest |dir - mean dir| in the run.
    """
    starts = np.array([sl.start for sl in slices])
    ends = np.array([sl.stop for sl in slices])
    if len(starts) > 1 and (np.any(starts[1:] != ends[:-1]) or starts[0] != 0):
        raise ValueError("runs must be contiguous from the first sample")
    n = ends - starts
    xyz, dirs = xyz[: ends[-1]], dirs[: ends[-1]]
    lo = np.minimum.reduceat(xyz, starts, axis=0)
    hi = np.maximum.reduceat(xyz, starts, axis=0)
    centre = 0.5 * (lo + hi)
    half = 0.5 * (hi - lo)
    radius = np.linalg.norm(half, axis=1)
    mean = np.add.reduceat(dirs, starts, axis=0) / n[:, None]
    mean /= np.maximum(np.linalg.norm(mean, axis=1, keepdims=True), 1e-12)
    dev = np.linalg.norm(dirs - np.repeat(mean, n, axis=0), axis=1)
    spread = np.maximum.reduceat(dev, starts)
    return centre, half, radius, mean, spread


def _candidate_pairs(
    pc: np.ndarray,
    ph: np.ndarray,
    pr: np.ndarray,
    pn: np.ndarray,
    ps: np.ndarray,
    gc: np.ndarray,
    gh: np.ndarray,
    gr: np.ndarray,
    gz: np.ndarray,
    gs: np.ndarray,
    gun: GunModel,
) -> np.ndarray:
    """(Bp, Bg) bool: block/chunk pairs that may exchange paint (conservative)."""
    d = pc[:, None, :] - gc[None, :, :]  # block centre minus gun-chunk centre
    dist = np.linalg.norm(d, axis=2)
    slack = pr[:, None] + gr[None, :]
    # facing: some point must see some gun, n·(g - p) > 0; boxes bound n̄·(g - p)
    box_n = np.abs(pn) @ gh.T + np.sum(np.abs(pn) * ph, axis=1)[:, None]
    facing = -np.einsum("bk,bgk->bg", pn, d) + box_n + ps[:, None] * (dist + slack) > 0
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

    order, p_slices = _blocks(samples.points_mm, samples.normals, _CELL_MM, block_points)
    P = samples.points_mm[order]
    N = samples.normals[order]
    g_slices = _runs(len(g), GUN_CHUNK)
    pc, ph, pr, pn, ps = _block_bounds(P, N, p_slices)
    gc, gh, gr, gz, gs = _block_bounds(g, z, g_slices)
    pairs = _candidate_pairs(pc, ph, pr, pn, ps, gc, gh, gr, gz, gs, gun)
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
        total = np.zeros(p.shape[0], dtype=np.float32)
        for j in range(0, gi.size, _GUN_SUBBLOCK):
            gs_ = gi[j : j + _GUN_SUBBLOCK]
            gg = (g[gs_] - origin).astype(np.float32)
            total += kernel.block(p, n, gg, z[gs_], x[gs_], y[gs_], w[gs_])
        out[sl] = total
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
            self.norm = np.float32(
                1.0 / (a * b * beta_fn(0.5, gun.beta2) * beta_fn(0.5, gun.beta1 + 0.5))
            )

    def block(
        self,
        p: np.ndarray,
        n: np.ndarray,
        g: np.ndarray,
        z: np.ndarray,
        x: np.ndarray,
        y: np.ndarray,
        w: np.ndarray,
    ) -> np.ndarray:
        """Wet film volume per area (mm) at points p (normals n) from guns g with frames
        (z, x, y) and deposits w (mm³); coordinates relative to a common origin.

        The four dot products per pair come from (Np, 4) @ (4, Ng) products in
        homogeneous coordinates; the rest are in-place float32 passes.
        """
        f32 = np.float32
        p4 = np.empty((p.shape[0], 4), dtype=f32)
        p4[:, :3] = p
        p4[:, 3] = 1.0
        n4 = np.empty_like(p4)
        n4[:, :3] = n
        n4[:, 3] = -np.einsum("ij,ij->i", n, p)
        g4 = np.empty((4, g.shape[0]), dtype=f32)
        g4[:3] = g.T
        g4[3] = 1.0

        def coeff(v: np.ndarray) -> np.ndarray:
            c = np.empty((4, v.shape[0]), dtype=f32)
            c[:3] = v.T
            c[3] = -np.einsum("ij,ij->i", g, v)
            return c

        dz = p4 @ coeff(z)  # d·z
        dn = n4 @ g4  # n·g - n·p = -(d·n)
        np.maximum(dn, 0.0, out=dn)
        dn[dz > self.dz_max] = 0.0
        np.maximum(dz, f32(_MIN_DZ_MM), out=dz)
        dz2 = dz * dz
        if self.circular:
            # 1 - r²/R² on the reference plane, r² = ((d·x)² + (d·y)²) h² / dz² and, the
            # gun frame being orthonormal, (d·x)² + (d·y)² = |d|² - (d·z)²: one product
            # [p, |p|², 1] @ [-2g, 1, |g|²] gives |d|² = |p|² - 2 p·g + |g|²
            p5 = np.empty((p.shape[0], 5), dtype=f32)
            p5[:, :3] = p
            p5[:, 3] = np.einsum("ij,ij->i", p, p)
            p5[:, 4] = 1.0
            g5 = np.empty((5, g.shape[0]), dtype=f32)
            g5[:3] = -2.0 * g.T
            g5[3] = 1.0
            g5[4] = np.einsum("ij,ij->i", g, g)
            # 1 - c (|d|²/dz² - 1) = (1 + c) - c |d|²/dz², c = h²/R²
            c = self.h * self.h * self.inv_a2
            u = p5 @ g5
            u /= dz2
            u *= -c
            u += 1.0 + c
            np.maximum(u, 0.0, out=u)
            dens = _pow_inplace(u, self.gun.beta1 - 1.0)
        else:  # the fan's coordinates on the reference plane
            dx = p4 @ coeff(x)
            dy = p4 @ coeff(y)
            inv = self.h / dz
            dx *= inv
            dy *= inv
            if self.gun.profile == "gaussian":
                dens = self.gun.density(dx, dy).astype(f32)
            else:
                dens = self._elliptical_beta(dx, dy)
        # obliquity h² (-d·n) / dz³; the beta profiles' norm goes with the deposits
        dz2 *= dz
        dn /= dz2
        dens *= dn
        if self.gun.profile != "gaussian":
            w = w * self.norm
        return (dens @ w.astype(f32)) * (self.h * self.h)

    def _elliptical_beta(self, dx: np.ndarray, dy: np.ndarray) -> np.ndarray:
        """Double-beta density (without its norm) at reference-plane coordinates dx, dy
        (overwritten)."""
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
        return _pow_inplace(dx, self.gun.beta1 - 1.0) * _pow_inplace(dy, self.gun.beta2 - 1.0)


def _pow_inplace(a: np.ndarray, exponent: float) -> np.ndarray:
    if exponent == 0.0:
        a[:] = 1.0
        return a
    if exponent == 1.0:
        return a
    if exponent == 1.5:
        a *= np.sqrt(a)
        return a
    if exponent == 2.0:
        a *= a
        return a
    np.power(a, np.float32(exponent), out=a)
    return a
