"""Exact anti-aliased polygon coverage (signed-area accumulation, as font rasterisers do).

Every polygon edge is cut at the pixel grid lines; each piece adds its signed height to the
pixel it lies in (weighted by the share of the pixel to its right) and the remainder to the
next pixel; a cumulative sum along each row then gives, for every pixel, the exact area of
the polygon inside it. Rings of opposite orientation subtract (holes), shared edges of
adjacent faces cancel (no seams), and a per-polygon weight gives premultiplied shading.
"""

from __future__ import annotations

import numpy as np


def signed_area(ring: np.ndarray) -> float:
    """Shoelace area of a (K, 2) ring (positive for counter-clockwise in x-right, y-up)."""
    x, y = ring[:, 0], ring[:, 1]
    return 0.5 * float(np.dot(x, np.roll(y, -1)) - np.dot(np.roll(x, -1), y))


def oriented(rings: list[np.ndarray]) -> list[np.ndarray]:
    """Rings of one polygon (exterior first, then holes) with the exterior of positive area
    and the holes of negative area."""
    out = []
    for i, ring in enumerate(rings):
        a = signed_area(ring)
        want_positive = i == 0
        out.append(ring if (a >= 0) == want_positive else ring[::-1])
    return out


def coverage(
    polygons: list[list[np.ndarray]],
    shape: tuple[int, int],
    origin: tuple[int, int] = (0, 0),
    weights: np.ndarray | None = None,
) -> np.ndarray | tuple[np.ndarray, np.ndarray]:
    """Area of the polygons inside each pixel of a window.

    Parameters
    ----------
    polygons : list of polygons, each a list of (K, 2) rings in pixel coordinates (pixel
        (c, r) is centred at (c, r)); exterior first, holes after.
    shape : (h, w) of the window.
    origin : (col, row) of the window's top-left pixel in the image.
    weights : (P,) optional shade per polygon.

    Returns
    -------
    alpha : (h, w) float32, covered area per pixel (0..1 where polygons do not overlap).
    premultiplied : (h, w) float32, sum of weight x covered area; only with ``weights``.
    """
    h, w = shape
    if h <= 0 or w <= 0:
        empty = np.zeros((max(h, 0), max(w, 0)), dtype=np.float32)
        return empty if weights is None else (empty, empty.copy())
    flat, area, poly = _pieces(polygons, h, w, origin)
    alpha = _accumulate(flat, area, h, w)
    if weights is None:
        return alpha
    shaded = _accumulate(flat, area * np.asarray(weights, dtype=float)[poly], h, w)
    return alpha, shaded


def _accumulate(flat: np.ndarray, area: np.ndarray, h: int, w: int) -> np.ndarray:
    """Per-pixel sums of the pieces' (pixel, share) pairs, then the running sum per row."""
    acc = np.bincount(flat, weights=area, minlength=h * (w + 2)).astype(np.float32)
    grid = acc.reshape(h, w + 2)
    np.cumsum(grid, axis=1, out=grid)
    return grid[:, :w]


def _pieces(
    polygons: list[list[np.ndarray]], h: int, w: int, origin: tuple[int, int]
) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """Edges cut at the pixel grid: flat accumulator index, signed area share, polygon."""
    segs, owner = [], []
    for p, rings in enumerate(polygons):
        for ring in oriented([np.asarray(r, dtype=float) for r in rings]):
            if len(ring) < 3:
                continue
            segs.append(np.column_stack([ring, np.roll(ring, -1, axis=0)]))
            owner.append(np.full(len(ring), p))
    if not segs:
        return np.zeros(0, np.int64), np.zeros(0), np.zeros(0, np.int64)
    e = np.concatenate(segs)
    ew = np.concatenate(owner)
    # window coordinates with pixel c spanning [c, c + 1]
    x0, y0 = e[:, 0] + 0.5 - origin[0], e[:, 1] + 0.5 - origin[1]
    x1, y1 = e[:, 2] + 0.5 - origin[0], e[:, 3] + 0.5 - origin[1]
    # only rows inside the window matter; columns right of it never do
    keep = (np.maximum(y0, y1) > 0) & (np.minimum(y0, y1) < h) & (np.minimum(x0, x1) < w)
    keep &= y0 != y1
    x0, y0, x1, y1, ew = x0[keep], y0[keep], x1[keep], y1[keep], ew[keep]
    # clip each edge to the window's rows [0, h] (pieces outside add nothing)
    dy_e = y1 - y0
    t_lo = np.clip(np.where(dy_e > 0, (0.0 - y0) / dy_e, (h - y0) / dy_e), 0.0, 1.0)
    t_hi = np.clip(np.where(dy_e > 0, (h - y0) / dy_e, (0.0 - y0) / dy_e), 0.0, 1.0)
    dx_e = x1 - x0
    cx0, cy0 = x0 + t_lo * dx_e, y0 + t_lo * dy_e
    cx1, cy1 = x0 + t_hi * dx_e, y0 + t_hi * dy_e
    # cut at every grid line crossed; left of the window everything counts as x = 0
    n = len(cx0)
    t_parts = [np.zeros(n), np.ones(n)]
    idx_parts = [np.arange(n), np.arange(n)]
    for a0, a1, k_min, k_max in ((cx0, cx1, 0.0, float(w)), (cy0, cy1, 1.0, float(h - 1))):
        lo = np.maximum(np.floor(np.minimum(a0, a1)) + 1.0, k_min)
        hi = np.minimum(np.ceil(np.maximum(a0, a1)) - 1.0, k_max)
        count = np.maximum(hi - lo + 1.0, 0.0).astype(np.int64)
        total = int(count.sum())
        if total == 0:
            continue
        which = np.repeat(np.arange(n), count)
        start = np.cumsum(count) - count
        k = lo[which] + (np.arange(total) - start[which])
        span = (a1 - a0)[which]
        t_parts.append((k - a0[which]) / np.where(span != 0, span, 1.0))
        idx_parts.append(which)
    t = np.concatenate(t_parts)
    which = np.concatenate(idx_parts)
    order = np.lexsort((t, which))
    t, which = t[order], which[order]
    same = which[1:] == which[:-1]
    ea = which[:-1][same]
    ta, tb = t[:-1][same], t[1:][same]
    ddx, ddy = cx1 - cx0, cy1 - cy0
    xm = np.maximum(cx0[ea] + 0.5 * (ta + tb) * ddx[ea], 0.0)
    ym = cy0[ea] + 0.5 * (ta + tb) * ddy[ea]
    # rows grow downwards: a ring of positive shoelace area accumulates negative heights,
    # so the sign is flipped here
    dy = -(tb - ta) * ddy[ea]
    col = np.floor(xm).astype(np.int64)
    row = np.floor(ym).astype(np.int64)
    ok = (row >= 0) & (row < h) & (col < w) & (dy != 0)
    col, row, dy, owner_ok = col[ok], row[ok], dy[ok], ew[ea][ok]
    f = (xm - np.floor(xm))[ok]
    flat = row * (w + 2) + col
    return (
        np.concatenate([flat, flat + 1]),
        np.concatenate([dy * (1.0 - f), dy * f]),
        np.concatenate([owner_ok, owner_ok]),
    )
