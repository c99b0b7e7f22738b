"""Edges at full resolution: intensity profiles across the expected outline.

For every edge sample of the expected part placed at the current pose, the top-face edge
(z = thickness) is projected into the image together with its outward normal and the
bottom edge (z = 0). The image is read along the normal (bilinear, only these pixels), put
in belt-to-part units with the coarse lighting field (0 = belt, 1 = part, whatever the
polarity; linear in the grey level, so that a blurred step keeps its edge at the middle),
and searched for

- the edge: a local maximum of the falling slope with part-level material just inside it,
  the one nearest the prediction; where a side face shows (off-axis view), the step with
  the top face's own level inside is the top edge, and failing one (a side face almost as
  bright as the top hides the top edge) the step nearest the predicted bottom edge is taken
  as the bottom edge, which places the part as well; sub-pixel by a parabola through the
  slope;
- the material extent: where the profile, read outwards from deep inside, first drops
  below the middle level; it shows missing material (a notch, a broken corner).
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
#: level just inside the top edge where a side face shows (the top face's own level)
TOP_LEVEL = 0.9
#: side faces at least this wide (px) are searched for their bottom edge too
SIDE_PX = 2.0
#: widest side face searched (px)
MAX_SIDE_PX = 40.0


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
    inside the prediction outwards when given."""
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
    off = offsets[None, :]
    side = prof.side_px[:, None]
    shows = side >= SIDE_PX
    # where a side face shows, a step with the top face's level inside is the top edge
    # (the nearest such); failing one, the step nearest the predicted bottom edge
    top_like = inner >= TOP_LEVEL
    cost_top = np.where(peak & top_like, np.abs(off), np.inf)
    cost_bottom = np.where(peak & ~top_like, 1e3 + np.abs(off - side), np.inf)
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
    return np.where(found, t, np.nan), bottom & found


def material_extent(prof: Profiles) -> np.ndarray:
    """(K,) where the material ends along each profile (px from the prediction, outward >
    0), reading outwards from the innermost sample; ``offsets[0]`` if the profile starts
    off the part, ``offsets[-1]`` if the material runs past its end."""
    z = prof.level
    K = len(z)
    if K == 0:
        return np.zeros(0)
    below = z < 0.5
    first = np.argmax(below, axis=1)
    none = ~below.any(axis=1)
    rows = np.arange(K)
    j = np.maximum(first, 1)
    za, zb = z[rows, j - 1], z[rows, j]
    frac = np.clip((za - 0.5) / np.maximum(za - zb, 1e-6), 0.0, 1.0)
    ext = prof.offsets[j - 1] + frac
    ext = np.where(first == 0, prof.offsets[0], ext)
    return np.where(none, prof.offsets[-1], ext)
