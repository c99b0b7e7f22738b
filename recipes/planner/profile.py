"""One-dimensional analysis of the gun's stroke profile: pitch, inset and overtravel.

A straight stroke leaves the cross profile g(y) = ∫ f(x, y) dx; parallel strokes add up.
Across a face of width W with n strokes, the first and last inset from the edges, the
film is S(y) = Σ g(y - y_k). We choose (n, inset) so that S stays within the tolerance
band over [0, W] with the least paint thrown past the edges, and the overtravel so that
the film at the stroke ends (the along-stroke marginal's CDF) stays inside the band.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

from recipes.gun import GunModel

_DY_MM = 0.5


@dataclass(frozen=True)
class StrokeLayout:
    n_strokes: int
    pitch_mm: float
    inset_mm: float
    within_1d_pct: float
    capture_1d_pct: float


def scaled_profile(gun: GunModel, standoff_mm: float) -> tuple[np.ndarray, np.ndarray]:
    """Cross profile at ``standoff_mm`` (sampled y in mm, density 1/mm integrating to 1)."""
    scale = standoff_mm / gun.standoff_ref_mm
    half = gun.half_extent_mm[1] * scale
    y = np.arange(-half, half + _DY_MM, _DY_MM)
    g = gun.line_density(y / scale) / scale
    return y, g / (g.sum() * _DY_MM)


def best_scale_within(
    values: np.ndarray, weights: np.ndarray, tol_frac: float
) -> tuple[float, float]:
    """The factor s that puts the largest weight of ``s * values`` inside
    [1 - tol, 1 + tol]; returns (s, weight share inside)."""
    pos = values > 0
    if not pos.any():
        return 1.0, 0.0
    v = values[pos]
    w = weights[pos]
    order = np.argsort(v)
    v, w = v[order], w[order]
    cw = np.concatenate([[0.0], np.cumsum(w)])
    ratio = (1 + tol_frac) / (1 - tol_frac)
    hi = np.searchsorted(v, v * ratio, side="right")
    inside = cw[hi] - cw[np.arange(v.size)]
    best = int(np.argmax(inside))
    # centre the window on the chosen run
    lo_v, hi_v = v[best], v[hi[best] - 1]
    s = 2.0 / (lo_v + hi_v) if hi_v > 0 else 1.0
    s = float(np.clip(s, (1 - tol_frac) / lo_v, (1 + tol_frac) / hi_v)) if lo_v > 0 else s
    return s, float(inside[best] / weights.sum())


def choose_layout(
    gun: GunModel,
    standoff_mm: float,
    width_mm: float,
    tol_frac: float,
    *,
    pitch_mm: float | None = None,
    inset_mm: float | None = None,
    goal_pct: float = 99.5,
) -> StrokeLayout:
    """Number of strokes, pitch and inset across a face of ``width_mm``.

    Among layouts reaching ``goal_pct`` of the width inside ±tol (after the best speed
    scaling), take the one with the fewest strokes, then the best capture; if none
    reaches it, the most uniform.
    """
    y, g = scaled_profile(gun, standoff_mm)
    half = float(y[-1])
    ys = np.arange(0.5 * _DY_MM, width_mm, _DY_MM)
    insets = (
        [inset_mm]
        if inset_mm is not None
        else list(np.arange(-0.2 * half, 0.8 * half + 1e-9, max(1.0, 0.01 * half)))
    )
    candidates: list[StrokeLayout] = []
    n_min = max(1, int(np.floor(width_mm / (2 * half))))
    n_max = int(np.ceil(width_mm / (0.25 * half))) + 2
    for n in range(n_min, n_max + 1):
        for inset in insets:
            if n == 1:
                pitch = pitch_mm or 0.0
                if abs(width_mm - 2 * inset) > 1e-6:
                    continue
            else:
                pitch = (width_mm - 2 * inset) / (n - 1)
                if pitch <= 0 or (pitch_mm is not None and abs(pitch - pitch_mm) > 0.5 * _DY_MM):
                    continue
            centres = inset + pitch * np.arange(n)
            film = np.zeros_like(ys)
            for c in centres:
                film += np.interp(ys - c, y, g, left=0.0, right=0.0)
            s, inside = best_scale_within(film, np.ones_like(film), tol_frac)
            capture = film.sum() * _DY_MM / n
            candidates.append(
                StrokeLayout(n, float(pitch), float(inset), 100 * inside, 100 * capture)
            )
        if any(c.within_1d_pct >= goal_pct for c in candidates):
            break  # fewest strokes that reach the goal
    ok = [c for c in candidates if c.within_1d_pct >= goal_pct]
    if ok:
        n_best = min(c.n_strokes for c in ok)
        return max((c for c in ok if c.n_strokes == n_best), key=lambda c: c.capture_1d_pct)
    return max(candidates, key=lambda c: (c.within_1d_pct, c.capture_1d_pct))


def choose_overtravel(
    gun: GunModel, standoff_mm: float, tol_frac: float, margin: float = 0.6
) -> float:
    """Smallest overtravel (mm) whose stroke-end film stays above 1 - margin·tol of the
    interior: the along-stroke marginal's CDF at the overtravel."""
    scale = standoff_mm / gun.standoff_ref_mm
    half = gun.half_extent_mm[0] * scale
    x = np.arange(-half, half + _DY_MM, _DY_MM)
    # along-stroke marginal: ∫ f(x, y) dy, i.e. the line density with the axes swapped
    swapped = gun.model_copy(
        update=dict(
            semi_axis_a_mm=gun.semi_axis_b_mm,
            semi_axis_b_mm=gun.semi_axis_a_mm,
            beta1=gun.beta1,
            beta2=gun.beta2,
            sigma_x_mm=gun.sigma_y_mm,
            sigma_y_mm=gun.sigma_x_mm,
        )
    )
    m = (
        swapped.line_density(x / scale)
        if gun.profile != "double_beta"
        else _marginal_x(gun, x / scale)
    )
    cdf = np.cumsum(m) / m.sum()
    need = 1.0 - margin * tol_frac
    idx = int(np.searchsorted(cdf, need))
    return float(max(0.0, x[min(idx, x.size - 1)]))


def _marginal_x(gun: GunModel, x: np.ndarray) -> np.ndarray:
    b = gun.semi_axis_b_mm
    ys = np.linspace(-b, b, 2001)
    return gun.density(x[:, None], ys[None, :]).sum(axis=1)


def uniform_pitch(gun: GunModel, standoff_mm: float) -> tuple[float, float]:
    """The economical uniform pitch of an endless raster: the largest pitch at which the
    film's CV (periodic sum of cross profiles) has a local minimum. Smaller pitches are
    smoother still but cost strokes; beyond it the ripple only grows. Returns (pitch mm,
    CV %)."""
    y, g = scaled_profile(gun, standoff_mm)
    half = float(y[-1])
    pitches = np.arange(0.2 * half, 2.0 * half, 0.5)
    cvs = np.empty_like(pitches)
    for i, pitch in enumerate(pitches):
        period = np.arange(0.0, pitch, _DY_MM / 2)
        reach = int(np.ceil(half / pitch)) + 1
        film = np.zeros_like(period)
        for k in range(-reach, reach + 1):
            film += np.interp(period - k * pitch, y, g, left=0.0, right=0.0)
        cvs[i] = 100 * film.std() / film.mean()
    local = np.flatnonzero((cvs[1:-1] <= cvs[:-2]) & (cvs[1:-1] <= cvs[2:])) + 1
    i = int(local[-1]) if local.size else int(np.argmin(cvs))
    return float(pitches[i]), float(cvs[i])
