"""Edges at full resolution: intensity profiles across the expected outline.

For every edge sample of the expected part placed at the current pose, the top-face edge
(z = thickness) is projected into the image together with its outward normal and the
bottom edge (z = 0). The image is read along the normal (bilinear, only these pixels), put
in belt-to-part units with the coarse lighting field (0 = belt, 1 = part, whatever the
polarity; linear in the grey level, so that a blurred step keeps its edge at the middle),
and searched for

- the edge: a local maximum of the falling slope with part-level material just inside it
  (steps much lower than the profile's highest are texture), the one nearest the
  prediction, preferring those with the top face's own level inside (as read further in);
  sub-pixel by a parabola through the slope. Where a side face shows (off-axis view), the
  step found is only the start: the top edge is where a model of the whole profile fits
  best (top face, side face at a fitted level, belt; two blurred steps the side face's
  width apart), whether the side face is darker than the top, brighter, or as bright;
- the material extent: where the profile, read outwards from deep inside, first steps
  down below the middle level; it shows missing material (a notch, a broken corner). A
  level that only fades below the middle (a highlight on a dark part) is no evidence.
"""

from __future__ import annotations

import math
from dataclasses import dataclass

import cv2
import numpy as np

from edge_gateway.vision.calibration import CameraModel
from edge_gateway.vision.model import ExpectedPart
from edge_gateway.vision.pose import place, rotation
from edge_gateway.vision.segment import FACTOR, Detection

#: smallest slope (part-level units per pixel) that counts as an edge
MIN_SLOPE = 0.04
#: level just inside an edge that counts as part material
INNER_LEVEL = 0.6
#: a step lower than this share of the highest one along its profile is texture
MIN_STEP_SHARE = 0.15
#: level just inside the top edge where a side face shows (the top face's own level)
TOP_LEVEL = 0.9
#: side faces at least this wide (px) are searched for their bottom edge too
SIDE_PX = 2.0
#: widest side face searched (px)
MAX_SIDE_PX = 40.0
#: the top face's own level is read this far inside the predicted top edge (px), and a
#: step is the top edge's where its inner level lies within TOP_TOL of it
INNER_REF_PX = (3, 8)
TOP_TOL = 0.15
#: where a side face shows, the top edge is sought within this of the step found (px),
#: with steps blurred by about SIDE_BLUR_PX
SIDE_SEARCH_PX = 3.0
SIDE_BLUR_PX = 1.0
#: step of that search (px), refined by a parabola
_SHIFT_PX = 0.5
#: where the material ends, the level falls by at least STEP_LEVEL between the means of
#: STEP_PX samples on either side (a blurred step does; a highlight fading out does not)
STEP_LEVEL = 0.45
STEP_PX = 4
#: material beyond the predicted edge counts as the part's top face where this share of
#: it lies within SURPLUS_LEVEL of the part's level
SURPLUS_LEVEL = 0.25
SURPLUS_SHARE = 0.8


@dataclass(frozen=True)
class Profiles:
    """Profiles across the visible edge samples.

    Attributes
    ----------
    index : (K,) int, edge samples (into ``ExpectedPart.samples``) that are in view.
    origin_px : (K, 2) predicted top edge in the image.
    normal_px : (K, 2) unit outward normal in the image.
    px_per_mm : (K,) image scale across the edge.
    side_px : (K,) width of the visible side face outside the top edge (<= 0: hidden).
    offsets : (T,) positions along the normal (px, outward > 0).
    level : (K, T) float32, 0 = belt, 1 = part.
    """

    index: np.ndarray
    origin_px: np.ndarray
    normal_px: np.ndarray
    px_per_mm: np.ndarray
    side_px: np.ndarray
    offsets: np.ndarray
    level: np.ndarray


def read_profiles(
    image: np.ndarray,
    det: Detection,
    camera: CameraModel,
    part: ExpectedPart,
    p: np.ndarray,
    inner_px: int,
    outer_px: int,
    stride: int = 1,
    index: np.ndarray | None = None,
) -> Profiles:
    """Profiles from ``inner_px`` inside to ``outer_px`` outside the predicted top edges of
    every ``stride``-th edge sample (or of the samples ``index``); where side faces show,
    ``outer_px`` grows by their width (up to ``MAX_SIDE_PX``) so that the bottom edges are
    in reach too."""
    sel = np.arange(0, len(part.samples), stride) if index is None else np.asarray(index)
    m, nu = part.samples[sel], part.sample_normal[sel]
    world = place(p, m)
    n = nu @ rotation(p[2]).T
    k = len(m)
    t = part.thickness_mm
    pts = np.empty((3 * k, 3))
    pts[:k, :2], pts[:k, 2] = world, t
    pts[k : 2 * k, :2], pts[k : 2 * k, 2] = world + 0.5 * n, t
    pts[2 * k :, :2], pts[2 * k :, 2] = world, 0.0
    front = camera.depth_mm(pts[:k]) > 1.0
    uv = camera.project(pts)
    p0, p1, pb = uv[:k], uv[k : 2 * k], uv[2 * k :]
    e = p1 - p0
    length = np.hypot(e[:, 0], e[:, 1])
    e /= np.maximum(length, 1e-12)[:, None]
    px_per_mm = length / 0.5
    side = np.einsum("ij,ij->i", pb - p0, e)
    widest = float(np.max(side[front], initial=0.0))
    outer_px += int(math.ceil(min(max(widest, 0.0), MAX_SIDE_PX)))
    H, W = image.shape
    # the inner end and the prediction must be in the image; outside, the border repeats
    ok = front.copy()
    for end in (p0 - (inner_px + 1.5) * e, p0):
        ok &= (end[:, 0] >= 1) & (end[:, 1] >= 1) & (end[:, 0] <= W - 2) & (end[:, 1] <= H - 2)
    keep = np.flatnonzero(ok)
    idx = sel[keep]
    offsets = np.arange(-inner_px, outer_px + 1, dtype=np.float32)
    o, d = p0[keep].astype(np.float32), e[keep].astype(np.float32)
    X = o[:, :1] + d[:, :1] * offsets[None, :]
    Y = o[:, 1:] + d[:, 1:] * offsets[None, :]
    if len(idx) == 0:
        level = np.zeros((0, len(offsets)), dtype=np.float32)
    else:
        raw = cv2.remap(image, X, Y, cv2.INTER_LINEAR, borderMode=cv2.BORDER_REPLICATE)
        # the lighting field is smooth: read every 8th position along long profiles
        step = 8 if len(offsets) > 40 else 1
        cols = np.arange(0, len(offsets), step)
        shift = np.float32((FACTOR - 1) / 2.0)
        inv = np.float32(1.0 / FACTOR)
        belt = cv2.remap(
            det.belt,
            np.ascontiguousarray((X[:, cols] - shift) * inv),
            np.ascontiguousarray((Y[:, cols] - shift) * inv),
            cv2.INTER_LINEAR,
            borderMode=cv2.BORDER_REPLICATE,
        )
        if step > 1:
            belt = np.repeat(belt, step, axis=1)[:, : len(offsets)]
        # linear in the grey level (a blurred step stays symmetric about its edge)
        contrast = np.float32(math.expm1(det.step))
        level = (raw.astype(np.float32) - belt) / (belt * contrast)
    return Profiles(idx, p0[keep], e[keep], px_per_mm[keep], side[keep], offsets, level)


def find_edges(prof: Profiles, reach_px: float | None = None) -> tuple[np.ndarray, np.ndarray]:
    """Edge position along each profile (K,) in px from the predicted top edge (outward >
    0; NaN where none is found), and (K,) bool: the edge found is the bottom edge (a side
    face shows and no step with the top face's level inside was found); only from ``reach_px``
    inside the prediction outwards when given. Where a side face shows, the top edge comes
    from a model of the whole profile (:func:`_top_edge_with_side`)."""
    z, offsets = prof.level, prof.offsets
    if reach_px is not None:
        cols = np.flatnonzero(offsets >= -reach_px - 3)
        z, offsets = z[:, cols[0] : cols[-1] + 1], offsets[cols[0] : cols[-1] + 1]
    K, T = z.shape
    if K == 0 or T < 5:
        return np.full(K, np.nan), np.zeros(K, dtype=bool)
    zs = z.copy()
    zs[:, 1:-1] = 0.25 * z[:, :-2] + 0.5 * z[:, 1:-1] + 0.25 * z[:, 2:]
    g = np.zeros_like(zs)
    g[:, 1:-1] = 0.5 * (zs[:, :-2] - zs[:, 2:])  # falling slope outwards
    inner = np.zeros_like(zs)
    inner[:, 2:] = zs[:, :-2]
    peak = np.zeros_like(zs, dtype=bool)
    peak[:, 2:-2] = (
        (g[:, 2:-2] >= g[:, 1:-3])
        & (g[:, 2:-2] > g[:, 3:-1])
        & (g[:, 2:-2] >= MIN_SLOPE)
        & (inner[:, 2:-2] >= INNER_LEVEL)
    )
    # steps much lower than the profile's highest are texture (grain across the outline)
    outer = np.zeros_like(zs)
    outer[:, :-2] = zs[:, 2:]
    height = np.where(peak, inner - outer, 0.0)
    peak &= height >= MIN_STEP_SHARE * height.max(axis=1, keepdims=True)
    off = offsets[None, :]
    side = prof.side_px[:, None]
    shows = side >= SIDE_PX
    # where a side face shows, a step nearer the predicted top edge than the bottom one,
    # with the top face's own level inside (read further in along the same profile), is
    # the top edge (the nearest such); failing one, the step nearest the predicted bottom
    # edge. A side face darker than a dark part's top (or brighter than a bright part's)
    # leaves no falling step at the top edge, and the one at the bottom edge has the side
    # face's level inside, not the top's.
    own = (offsets >= -INNER_REF_PX[1]) & (offsets <= -INNER_REF_PX[0])
    top_level = zs[:, own].mean(axis=1)[:, None] if own.any() else np.ones((K, 1))
    at_top = (np.abs(inner - top_level) <= TOP_TOL) & (np.abs(off) <= np.abs(off - side))
    # the top face's level inside: at least TOP_LEVEL, or as much as the top face shows
    # here (grain, a lamp's fall-off and gamma make it vary along the outline)
    top_like = inner >= np.minimum(TOP_LEVEL, top_level - TOP_TOL)
    cost_top = np.where(peak & at_top, np.abs(off), np.inf)
    cost_bottom = np.where(peak & ~at_top, 1e3 + np.abs(off - side), np.inf)
    # elsewhere the nearest step, preferring those with the top face's level inside (the
    # soft outer edge of a shadow as dark as a dark part has the shadow inside)
    cost_any = np.where(peak, np.abs(off) + np.where(top_like, 0.0, 100.0), np.inf)
    cost = np.where(shows, np.minimum(cost_top, cost_bottom), cost_any)
    j = np.argmin(cost, axis=1)
    rows = np.arange(K)
    found = np.isfinite(cost[rows, j])
    jc = np.clip(j, 1, T - 2)
    gm, g0, gp = g[rows, jc - 1], g[rows, jc], g[rows, jc + 1]
    den = gm - 2.0 * g0 + gp
    frac = np.where(den < -1e-9, 0.5 * (gm - gp) / np.where(den < -1e-9, den, -1.0), 0.0)
    t = offsets[jc] + np.clip(frac, -0.5, 0.5)
    bottom = shows[:, 0] & (cost[rows, j] >= 1e3)
    t = np.where(found, t, np.nan)
    # where a side face shows, the top edge comes from the whole profile: top face, side
    # face and belt with two blurred steps the side face's width apart
    sel = np.flatnonzero(shows[:, 0] & found)
    if len(sel):
        t[sel] = _top_edge_with_side(
            zs[sel],
            offsets,
            prof.side_px[sel],
            top_level[sel, 0],
            t[sel] - np.where(bottom[sel], prof.side_px[sel], 0.0),
        )
        bottom[sel] = False
    return t, bottom & found


def _top_edge_with_side(
    z: np.ndarray, offsets: np.ndarray, side: np.ndarray, top: np.ndarray, start: np.ndarray
) -> np.ndarray:
    """(K,) top edge (px) of profiles ``z`` (K, T) where a side face ``side`` (K,) px wide
    shows: the shift ``a`` (within +-``SIDE_SEARCH_PX`` of ``start``) whose model fits best,
    ``top`` inside ``a``, the side face's level (fitted, linear) between ``a`` and
    ``a + side``, the belt's level (read beyond) outside, each step blurred alike."""
    K, T = z.shape
    f32 = np.float32
    # each profile's window: from 6 px inside the earliest top edge to 6 px beyond the
    # latest bottom edge (columns gathered per profile)
    step = float(offsets[1] - offsets[0]) if T > 1 else 1.0
    first = np.clip(
        np.floor((start - SIDE_SEARCH_PX - 6.0 - offsets[0]) / step).astype(int), 0, T - 1
    )
    width = int(np.ceil((2 * SIDE_SEARCH_PX + 12.0 + float(side.max())) / step)) + 1
    cols = np.minimum(first[:, None] + np.arange(width)[None, :], T - 1)
    rows = np.arange(K)[:, None]
    zw = z[rows, cols].astype(f32)  # (K, W)
    tw = offsets[cols].astype(f32)
    valid = (first[:, None] + np.arange(width)[None, :]) <= T - 1
    far = valid & (tw > (side + start + 3.0)[:, None])
    belt = (np.where(far, zw, 0.0).sum(axis=1) / np.maximum(far.sum(axis=1), 1)).astype(f32)
    shifts = np.arange(-SIDE_SEARCH_PX, SIDE_SEARCH_PX + 1e-9, _SHIFT_PX, dtype=f32)
    a = (start.astype(f32)[:, None] + shifts[None, :])[:, :, None]  # (K, A, 1)
    t = tw[:, None, :]
    k = f32(1.702 / SIDE_BLUR_PX)  # logistic approximation of a Gaussian blur
    at_top = 1.0 / (1.0 + np.exp(np.clip(k * (t - a), -30, 30)))
    at_bottom = 1.0 / (
        1.0 + np.exp(np.clip(k * (t - a - side.astype(f32)[:, None, None]), -30, 30))
    )
    band = at_bottom - at_top
    zz = zw[:, None, :]
    rest = zz - belt[:, None, None] * (1.0 - at_bottom) - top.astype(f32)[:, None, None] * at_top
    window = valid[:, None, :] & (t >= a - 6.0) & (t <= a + side.astype(f32)[:, None, None] + 6.0)
    band_w = np.where(window, band, f32(0.0))
    level = np.sum(rest * band_w, axis=2) / np.maximum(np.sum(band_w * band_w, axis=2), 1e-6)
    sse = np.sum(np.where(window, (rest - level[..., None] * band) ** 2, 0.0), axis=2)
    sse /= np.maximum(window.sum(axis=2), 1)
    best = np.argmin(sse, axis=1)
    r = np.arange(K)
    b = np.clip(best, 1, len(shifts) - 2)
    sm, s0, sp = sse[r, b - 1], sse[r, b], sse[r, b + 1]
    den = sm - 2.0 * s0 + sp
    frac = np.where(den > 1e-12, 0.5 * (sm - sp) / np.where(den > 1e-12, den, 1.0), 0.0)
    return start + shifts[b] + _SHIFT_PX * np.clip(frac, -0.5, 0.5)


def material_extent(prof: Profiles) -> tuple[np.ndarray, np.ndarray]:
    """(K,) where the material ends along each profile (px from the prediction, outward >
    0), and (K,) bool: it ends at a step.

    Read outwards from the innermost sample, the material ends at the first drop below
    the middle level that is a step (``STEP_LEVEL`` between the means of ``STEP_PX``
    samples on either side): a cut edge. Without such a step it is ``offsets[0]`` if the
    profile never reaches the part's level (off the part, or a highlight on a dark part:
    which one, the neighbouring samples tell), ``offsets[-1]`` if the material runs past
    its end, and where the level only fades below the middle (a highlight fading out, a
    lamp's fall-off, belt in the part's shadow) the first crossing, not a cut edge: alone
    no evidence of missing material, but beside cut edges part of their region."""
    z = prof.level
    K = len(z)
    if K == 0:
        return np.zeros(0), np.zeros(0, dtype=bool)
    T = z.shape[1]
    below = z < 0.5
    rows = np.arange(K)
    # falling crossings: sample j - 1 at or above the middle, j below it
    cross = np.zeros_like(below)
    cross[:, 1:] = below[:, 1:] & ~below[:, :-1]
    # mean level just inside and just outside each position
    w = STEP_PX
    c = np.zeros((K, T + 1), dtype=np.float64)
    c[:, 1:] = np.cumsum(z, axis=1)
    j = np.arange(T)
    lo_in, hi_out = np.maximum(j - w, 0), np.minimum(j + w, T)
    inside = (c[:, j] - c[:, lo_in]) / np.maximum(j - lo_in, 1)
    outside = (c[:, hi_out] - c[:, j]) / np.maximum(hi_out - j, 1)
    step = cross & (inside - outside >= STEP_LEVEL)
    stepped = step.any(axis=1)
    # without a step, where the level first fades below the middle (not a witness)
    first = np.where(stepped, np.argmax(step, axis=1), np.argmax(cross, axis=1))
    jj = np.maximum(first, 1)
    za, zb = z[rows, jj - 1], z[rows, jj]
    frac = np.clip((za - 0.5) / np.maximum(za - zb, 1e-6), 0.0, 1.0)
    ext = np.where(stepped | cross.any(axis=1), prof.offsets[jj - 1] + frac, np.nan)
    off_part = below.all(axis=1)
    ext = np.where(off_part, prof.offsets[0], ext)
    return np.where(~below.any(axis=1), prof.offsets[-1], ext), stepped


def surplus_extent(prof: Profiles) -> np.ndarray:
    """(K,) how far (px) the part's own top face runs on beyond the predicted edge (beyond
    the side face, where one shows) along each profile, to a cut edge (a step, see
    :func:`material_extent`); 0 where it does not:
    where the material beyond is not at the top face's level (shadows, belt texture as dark
    as the part, a side face) or fades out instead of ending at an edge."""
    z = prof.level
    if len(z) == 0:
        return np.zeros(0)
    ext, stepped = material_extent(prof)
    # a side face in view is the part's, not more of it: count from its bottom edge on
    start = np.maximum(prof.side_px, 0.0)
    beyond = prof.offsets[None, :] >= (start + 0.5)[:, None]
    before_end = prof.offsets[None, :] <= (ext - 1.5)[:, None]
    span = beyond & before_end
    part_like = span & (np.abs(z - 1.0) <= SURPLUS_LEVEL)
    n = span.sum(axis=1)
    like = part_like.sum(axis=1) >= SURPLUS_SHARE * np.maximum(n, 1)
    ok = stepped & np.isfinite(ext) & (ext > start) & (n > 0) & like
    return np.where(ok, ext - start, 0.0)
