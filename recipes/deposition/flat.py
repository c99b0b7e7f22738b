"""Fast deposition path for a flat top face with the gun normal to it.

With the gun pointing straight down at constant standoff H over the plane z = z_top, the
projection model reduces exactly to a scaled footprint, ``Q f(r h/H) (h/H)²``, so the film
is the convolution of the gun's dwell time on the face grid with that footprint. Dwell
time is spread onto the grid bilinearly and convolved by FFT (scipy.signal.fftconvolve).
Gun samples with another pose are left for the general path.
"""

from __future__ import annotations

import numpy as np
from scipy.signal import fftconvolve

from recipes.gun import GunModel
from recipes.parts.surface import TopGrid
from recipes.program import GunTrajectory

#: a gun sample counts as "normal to the face" when its axis is within this of -z
NORMAL_AXIS_TOL = 1e-6
#: standoffs and fan angles are grouped to these resolutions
STANDOFF_RES_MM = 1e-3
FAN_ANGLE_RES_RAD = 1e-6


def flat_eligible(traj: GunTrajectory, z_top_mm: float, gun: GunModel) -> np.ndarray:
    """(M,) bool: trigger-on samples that point straight down from a valid standoff."""
    down = traj.axis[:, 2] < -1.0 + NORMAL_AXIS_TOL
    standoff = traj.position_mm[:, 2] - z_top_mm
    valid = (standoff >= gun.standoff_min_mm) & (standoff <= gun.standoff_max_mm)
    return traj.trigger & down & valid


def _kernel(
    gun: GunModel, spacing_mm: float, standoff_mm: float, fan_angle_rad: float
) -> np.ndarray:
    """Wet-film rate (mm/s) of a still gun on the grid lattice, centred, odd-sized."""
    scale = gun.standoff_ref_mm / standoff_mm
    reach = gun.reach_mm / scale
    r = int(np.ceil(reach / spacing_mm)) + 1
    off = spacing_mm * np.arange(-r, r + 1)
    X, Y = np.meshgrid(off, off)
    c, s = np.cos(fan_angle_rad), np.sin(fan_angle_rad)
    xt = (c * X + s * Y) * scale  # lattice offsets in the tool frame on the reference plane
    yt = (-s * X + c * Y) * scale
    dens = gun.density(xt, yt)
    total = dens.sum() * spacing_mm * spacing_mm
    # discrete kernel carries exactly the deposit rate: paint is conserved on the grid
    return dens * (gun.deposit_rate_mm3_s / total) if total > 0 else dens


def deposit_flat(grid: TopGrid, traj: GunTrajectory, gun: GunModel) -> np.ndarray:
    """Wet film (µm) on the grid from the eligible samples of ``traj``.

    Returns
    -------
    wet_um : (ny, nx) float array over the whole grid (index it with ``grid.index``).
    """
    mask = flat_eligible(traj, grid.z_mm, gun)
    out = np.zeros((grid.ny, grid.nx))
    if not mask.any():
        return out
    pos = traj.position_mm[mask]
    dt = traj.dt_s[mask]
    standoff_i = np.round((pos[:, 2] - grid.z_mm) / STANDOFF_RES_MM).astype(np.int64)
    fan = traj.fan_x[mask]
    angle = np.mod(np.arctan2(fan[:, 1], fan[:, 0]), np.pi)  # fan is symmetric under 180°
    angle_i = np.round(angle / FAN_ANGLE_RES_RAD).astype(np.int64)
    # one integer key per (standoff, fan angle) bin, ordered as the pair
    n_angles = int(round(np.pi / FAN_ANGLE_RES_RAD)) + 1
    groups, inverse = np.unique(standoff_i * n_angles + angle_i, return_inverse=True)
    s = grid.spacing_mm
    for gi, key in enumerate(groups.tolist()):
        sel = inverse == gi
        h_mm = (key // n_angles) * STANDOFF_RES_MM
        ang = (key % n_angles) * FAN_ANGLE_RES_RAD
        kernel = _kernel(gun, s, float(h_mm), float(ang))
        r = kernel.shape[0] // 2
        # dwell map on the grid lattice, padded so every sample lands inside
        fx = (pos[sel, 0] - grid.x0_mm) / s
        fy = (pos[sel, 1] - grid.y0_mm) / s
        ix0 = int(np.floor(fx.min())) - 1
        iy0 = int(np.floor(fy.min())) - 1
        nx = int(np.floor(fx.max())) - ix0 + 3
        ny = int(np.floor(fy.max())) - iy0 + 3
        dwell = _splat_bilinear(fx - ix0, fy - iy0, dt[sel], nx, ny)
        film = fftconvolve(dwell, kernel, mode="full")  # film[j] at lattice j - r
        # film covers lattice indices [iy0 - r, iy0 - r + film.shape[0]) etc.
        ox, oy = ix0 - r, iy0 - r
        xa, xb = max(0, ox), min(grid.nx, ox + film.shape[1])
        ya, yb = max(0, oy), min(grid.ny, oy + film.shape[0])
        if xa < xb and ya < yb:
            out[ya:yb, xa:xb] += film[ya - oy : yb - oy, xa - ox : xb - ox]
    np.maximum(out, 0.0, out=out)  # FFT round-off
    return out * 1000.0


def _splat_bilinear(fx: np.ndarray, fy: np.ndarray, w: np.ndarray, nx: int, ny: int) -> np.ndarray:
    """Spread weights at fractional lattice coordinates onto the 4 nearest nodes."""
    ix = np.floor(fx).astype(np.int64)
    iy = np.floor(fy).astype(np.int64)
    tx = fx - ix
    ty = fy - iy
    flat = np.zeros(ny * nx)
    for dy, wy in ((0, 1.0 - ty), (1, ty)):
        for dx, wx in ((0, 1.0 - tx), (1, tx)):
            flat += np.bincount((iy + dy) * nx + (ix + dx), weights=w * wy * wx, minlength=ny * nx)
    return flat.reshape(ny, nx)
