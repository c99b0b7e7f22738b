"""Chromaticity: a second cue for where a part's material ends, in colour frames.

Brightness alone cannot tell a part from the belt where the two look alike: a belt in the
part's own shadow (in a notch, along a chip) is darker than the belt and may be as dark as
a dark part; a glossy highlight on a dark part may be as bright as the belt. Both keep
their colour, though: a shadow dims the belt's light but not its chromaticity, and a
highlight on lacquer adds the lamp's (near white) light to the part's own. Where the
part's and the belt's chromaticities differ by much more than their spread, the
chromaticity ``(b, g, r) / (b + g + r)``, projected onto the line from the belt's to the
part's, reads 0 on the belt (lit or shaded) and 1 on the part.

Chromaticity is not linear in the light (a blurred edge's middle moves towards the darker
side), so it never places edges: it only says where material ends along the outline.
"""

from __future__ import annotations

from dataclasses import dataclass, replace

import cv2
import numpy as np

from edge_gateway.vision.segment import FACTOR, MIN_SEPARATION, Detection, regions

#: pixels darker than this (mean of the channels, grey levels) have no usable chromaticity
MIN_GREY = 12.0
#: part or belt whose typical pixel is darker than this (grey levels) gives no cue
DARK_CLASS_GREY = 2.0 * MIN_GREY
#: smallest chromaticity difference between part and belt that is a cue at all
MIN_DIFFERENCE = 0.05
#: the classes are sampled every _STRIDE-th pixel each way, away from their boundary
_STRIDE = 3 * FACTOR
_MARGIN_PX = 2


@dataclass(frozen=True)
class ChromaCue:
    """Belt and part chromaticity in one frame.

    Attributes
    ----------
    belt : (3,) float32, the belt's chromaticity.
    axis : (3,) float32, ``(part - belt) / |part - belt|^2``: ``(c - belt) . axis`` is
        0 on the belt and 1 on the part.
    """

    belt: np.ndarray
    axis: np.ndarray


def coarse_colour(colour: np.ndarray, h: int, w: int) -> np.ndarray:
    """(h, w, 3) float32: the colour frame (H, W, 3+) uint8 at coarse resolution, the
    mean of two pixels of each coarse pixel (a full resize costs more than the whole
    detection)."""
    H, W = h * FACTOR, w * FACTOR
    small = colour[1:H:FACTOR, 1:W:FACTOR, :3].astype(np.float32)
    small += colour[2:H:FACTOR, 2:W:FACTOR, :3]
    small *= np.float32(0.5)
    return small


def chroma_cue(small: np.ndarray, det: Detection, mine: np.ndarray) -> ChromaCue | None:
    """The cue of the coarse colour frame ``small`` (h, w, 3) float32 BGR for the part
    pixels ``mine`` (h, w) uint8, or None where part and belt do not differ in
    chromaticity by ``MIN_SEPARATION`` times their spread."""
    kernel = np.ones((3, 3), np.uint8)
    part_px = cv2.erode(mine, kernel, iterations=_MARGIN_PX)
    belt_px = 1 - cv2.dilate(det.mask, kernel, iterations=_MARGIN_PX)
    step = _STRIDE // FACTOR
    pix = small[::step, ::step].reshape(-1, 3)
    part_sel = part_px[::step, ::step].ravel() > 0
    belt_sel = belt_px[::step, ::step].ravel() > 0
    total = pix.sum(axis=1)
    # a class mostly near black (a black belt) has no chromaticity to speak of
    for sel in (part_sel, belt_sel):
        if not sel.any() or float(np.median(total[sel])) < 3.0 * DARK_CLASS_GREY:
            return None
    lit = total >= 3.0 * MIN_GREY
    c = pix / np.maximum(total, 1.0)[:, None]
    part_c, belt_c = c[part_sel & lit], c[belt_sel & lit]
    if len(part_c) < 20 or len(belt_c) < 20:
        return None
    belt = np.median(belt_c, axis=0)
    d = np.median(part_c, axis=0) - belt
    dd = float(d @ d)
    if dd < MIN_DIFFERENCE**2:
        return None
    axis = (d / dd).astype(np.float32)
    dev = np.concatenate([(belt_c - belt) @ axis, (part_c - belt) @ axis - 1.0])
    spread = 1.4826 * float(np.median(np.abs(dev))) + 1e-6
    if 1.0 / spread < MIN_SEPARATION:
        return None
    return ChromaCue(belt.astype(np.float32), axis)


def without_belt_colour(
    det: Detection, colour: np.ndarray, min_area_px: int
) -> tuple[Detection, ChromaCue | None]:
    """``det`` with the coarse part pixels darker than the belt that have its chromaticity
    (belt in a shadow as dark as the part) given back to the belt, where the frame ``colour``
    (H, W, 3) uint8 BGR has a cue; the regions found again. And the cue (None: none)."""
    h, w = det.mask.shape
    small = coarse_colour(colour, h, w)
    cue = chroma_cue(small, det, det.mask)
    if cue is None:
        return det, None
    level, total = _level_and_total(small, cue)
    # a shadow is darker than the belt it falls on, and keeps the belt's chromaticity
    drop = (det.mask > 0) & (total >= 3.0 * MIN_GREY) & (level < 0.5)
    if det.grey is not None:
        drop &= det.grey < det.belt
    # single pixels along the outline (mixed with the belt) are no shadow
    belt_like = cv2.morphologyEx(drop.astype(np.uint8), cv2.MORPH_OPEN, np.ones((3, 3), np.uint8))
    if not belt_like.any():
        return det, cue
    mask, labels, blobs = regions(det.mask & (1 - belt_like), min_area_px)
    return replace(det, mask=mask, labels=labels, blobs=blobs), cue


def _level_and_total(pix: np.ndarray, cue: ChromaCue) -> tuple[np.ndarray, np.ndarray]:
    """The chromaticity level (0 belt, 1 part) and the channel sum of pixels ``pix``
    (..., 3) float32, in one product (a sum over a last axis of 3 costs more)."""
    M = np.empty((3, 2), dtype=np.float32)
    M[:, 0], M[:, 1] = cue.axis, 1.0
    both = pix @ M
    total = both[..., 1]
    level = both[..., 0] / np.maximum(total, np.float32(1.0)) - np.float32(cue.belt @ cue.axis)
    return level, total


def chroma_level(
    colour: np.ndarray,
    cue: ChromaCue,
    origin_px: np.ndarray,
    normal_px: np.ndarray,
    offsets: np.ndarray,
) -> np.ndarray:
    """(K, T) float32 chromaticity level (0 belt, 1 part) along the profiles from
    ``origin_px`` (K, 2) along ``normal_px`` (K, 2) at ``offsets`` (T,) px; pixels too dark
    for a chromaticity read as material (1): no evidence that it ends."""
    K = len(origin_px)
    if K == 0:
        return np.zeros((0, len(offsets)), dtype=np.float32)
    o, d = origin_px.astype(np.float32), normal_px.astype(np.float32)
    X = o[:, :1] + d[:, :1] * offsets[None, :]
    Y = o[:, 1:] + d[:, 1:] * offsets[None, :]
    pix = cv2.remap(
        np.ascontiguousarray(colour[:, :, :3]),
        X,
        Y,
        cv2.INTER_LINEAR,
        borderMode=cv2.BORDER_REPLICATE,
    ).astype(np.float32)
    level, total = _level_and_total(pix, cue)
    return np.where(total >= 3.0 * MIN_GREY, level, np.float32(1.0)).astype(np.float32)


def chroma_extent(
    level: np.ndarray, offsets: np.ndarray, step_level: float, step_px: int
) -> tuple[np.ndarray, np.ndarray]:
    """(K,) where the part's chromaticity ends along each profile ``level`` (K, T) read
    outwards at ``offsets`` (T,) px: after the last sample at the middle level or above
    (a speck or a glint inside the part does not end it; beyond the end there is only
    belt, lit or shaded); and (K,) bool: it ends at a step (the means of ``step_px``
    samples on either side differ by ``step_level`` or more)."""
    K, T = level.shape
    if K == 0:
        return np.zeros(0), np.zeros(0, dtype=bool)
    above = level >= 0.5
    last = T - 1 - np.argmax(above[:, ::-1], axis=1)
    rows = np.arange(K)
    j = np.clip(last, 0, T - 2)
    c = np.zeros((K, T + 1), dtype=np.float64)
    c[:, 1:] = np.cumsum(level, axis=1)
    lo, hi = np.maximum(j + 1 - step_px, 0), np.minimum(j + 1 + step_px, T)
    inside = (c[rows, j + 1] - c[rows, lo]) / np.maximum(j + 1 - lo, 1)
    outside = (c[rows, hi] - c[rows, j + 1]) / np.maximum(hi - j - 1, 1)
    za, zb = level[rows, j], level[rows, j + 1]
    frac = np.clip((za - 0.5) / np.maximum(za - zb, 1e-6), 0.0, 1.0)
    ext = offsets[j] + frac * (offsets[1] - offsets[0])
    ends = above.any(axis=1) & (last < T - 1)
    stepped = ends & (inside - outside >= step_level)
    ext = np.where(above.any(axis=1), ext, offsets[0])
    return np.where(last >= T - 1, offsets[-1], ext), stepped


def chroma_edges(
    level: np.ndarray, offsets: np.ndarray, step_level: float, step_px: int
) -> np.ndarray:
    """(K,) position (px along ``offsets``) of the falling crossing of the middle level
    nearest 0 along each profile ``level`` (K, T) that is a step (the means of
    ``step_px`` samples on either side differ by ``step_level``); NaN where none."""
    K, T = level.shape
    if K == 0 or T < 2:
        return np.full(K, np.nan)
    c = np.zeros((K, T + 1), dtype=np.float64)
    c[:, 1:] = np.cumsum(level, axis=1)
    j = np.arange(T - 1)  # crossing between samples j and j + 1
    lo, hi = np.maximum(j + 1 - step_px, 0), np.minimum(j + 1 + step_px, T)
    inside = (c[:, j + 1] - c[:, lo]) / (j + 1 - lo)
    outside = (c[:, hi] - c[:, j + 1]) / (hi - j - 1)
    za, zb = level[:, :-1], level[:, 1:]
    cross = (za >= 0.5) & (zb < 0.5) & (inside - outside >= step_level)
    frac = np.clip((za - 0.5) / np.maximum(za - zb, 1e-6), 0.0, 1.0)
    t = offsets[:-1][None, :] + frac * (offsets[1] - offsets[0])
    cost = np.where(cross, np.abs(t), np.inf)
    best = np.argmin(cost, axis=1)
    rows = np.arange(K)
    return np.where(np.isfinite(cost[rows, best]), t[rows, best], np.nan)
