"""Checks of a fitted part: damage along the outline, holes and extra material, the image
border.

- Missing material (damage): along each edge sample the material extent was measured
  from deep inside outwards (:func:`edge_gateway.vision.profiles.material_extent`); runs of
  samples whose material ends deeper than ``defect_depth_mm`` inside the fitted outline
  bound a region (outline on one side, measured extent on the other) whose area is
  compared with ``min_defect_area_mm2``.
- Holes and extra material (wrong part), at coarse resolution: the fitted top face and
  silhouette are drawn into the coarse grid and compared with the part's region.
- The image border: a part is cut when it covers the outermost pixels (a run of them at
  part level), or when it reaches them at least half-way and its fitted silhouette goes
  beyond the image.
"""

from __future__ import annotations

import math
from dataclasses import dataclass

import cv2
import numpy as np
from shapely.geometry import Polygon, box

from edge_gateway.vision.calibration import CameraModel
from edge_gateway.vision.model import ExpectedPart
from edge_gateway.vision.segment import FACTOR, Blob, Detection

#: edges further than this from the fitted outline do not count as agreeing (mm)
AGREE_MM = 1.0
#: coarse checks: erosion of the expected top face (coarse px) and the smallest region (mm2)
_COARSE_ERODE = 3
_COARSE_MIN_MM2 = 400.0
#: part pixels on the image border: coverage that counts as cut, and the run length (px)
BORDER_COVERED = 0.92
#: coverage of the border pixels that lets the fitted silhouette decide
BORDER_REACHED = 0.5
_BORDER_RUN = 3


@dataclass(frozen=True)
class EdgeFit:
    """The last refinement pass.

    Attributes
    ----------
    visible : (V,) int, edge samples in view.
    fitted : (F,) int, edge samples with an edge found.
    r_mm : (F,) their distance from the fitted outline (outward > 0).
    extent_mm : (V,) where the material ends along each visible sample (outward > 0).
    """

    visible: np.ndarray
    fitted: np.ndarray
    r_mm: np.ndarray
    extent_mm: np.ndarray

    @property
    def score(self) -> float:
        """Share of the visible edge samples within ``AGREE_MM`` of the fitted outline."""
        if len(self.visible) == 0:
            return 0.0
        return float(np.sum(np.abs(self.r_mm) <= AGREE_MM)) / len(self.visible)

    @property
    def rms(self) -> float:
        agree = np.abs(self.r_mm) <= AGREE_MM
        return float(np.sqrt(np.mean(self.r_mm[agree] ** 2))) if agree.any() else math.nan


def missing_area_mm2(part: ExpectedPart, fit: EdgeFit, depth_mm: float) -> float:
    """Largest region of material missing deeper than ``depth_mm`` along the outline."""
    if len(fit.visible) == 0:
        return 0.0
    deficit = np.maximum(-fit.extent_mm, 0.0)
    on = deficit > depth_mm
    if not on.any():
        return 0.0
    idx = fit.visible
    ring = part.sample_ring[idx]
    # runs of consecutive defective samples on one ring (samples are in ring order)
    breaks = np.ones(len(idx), dtype=bool)
    breaks[1:] = (~on[:-1]) | (ring[1:] != ring[:-1]) | (np.diff(idx) > 2)
    run = np.cumsum(breaks)
    best = 0.0
    for k in np.unique(run[on]):
        sel = np.flatnonzero((run == k) & on)
        if len(sel) < 2:
            continue
        m = part.samples[idx[sel]]
        inner = m - part.sample_normal[idx[sel]] * deficit[sel, None]
        poly = np.concatenate([m, inner[::-1]])
        x, y = poly[:, 0], poly[:, 1]
        best = max(best, 0.5 * abs(float(np.dot(x, np.roll(y, -1)) - np.dot(np.roll(x, -1), y))))
    return best


def coarse_checks(
    camera: CameraModel,
    part: ExpectedPart,
    det: Detection,
    blob: Blob,
    p: np.ndarray,
    coarse_mm2: float,
) -> list[str]:
    """Holes where the outline has none, holes filled, material beyond the silhouette
    (``coarse_mm2``: the area of a coarse pixel on the top face)."""
    h, w = det.mask.shape
    outline = part.posed(p[0], p[1], math.degrees(p[2]), p[3], p[4])
    rings = [np.asarray(outline.exterior.coords)] + [
        np.asarray(r.coords) for r in outline.interiors
    ]
    top_px, bottom_px = [], []
    for ring in rings:
        xy = densify(ring, 8.0)
        for z, out in ((part.thickness_mm, top_px), (0.0, bottom_px)):
            uv = camera.project(np.column_stack([xy, np.full(len(xy), z)]))
            c = (uv - (FACTOR - 1) / 2.0) / FACTOR
            out.append(np.round(c * 16).astype(np.int32))
    model = np.zeros((h, w), np.uint8)
    cv2.fillPoly(model, top_px[:1], 1, cv2.LINE_8, 4)
    silhouette = model.copy()
    cv2.fillPoly(silhouette, bottom_px[:1], 1, cv2.LINE_8, 4)
    holes = np.zeros((h, w), np.uint8)
    if len(top_px) > 1:
        cv2.fillPoly(holes, top_px[1:], 1, cv2.LINE_8, 4)
    top = model & (1 - holes)
    mine = (det.labels == blob.label).astype(np.uint8)
    kernel = np.ones((3, 3), np.uint8)
    interior = cv2.erode(top, kernel, iterations=_COARSE_ERODE)
    min_px = _COARSE_MIN_MM2 / coarse_mm2
    out = []
    missing = interior & (1 - mine)
    if missing.sum() >= min_px:
        # regions connected to the outline are damage (measured finely elsewhere)
        n, lab, stats, _ = cv2.connectedComponentsWithStats(missing, connectivity=4)
        touching = set(np.unique(lab[(cv2.dilate(1 - interior, kernel) & missing) > 0]).tolist())
        inner = [
            int(stats[i, cv2.CC_STAT_AREA])
            for i in range(1, n)
            if i not in touching and stats[i, cv2.CC_STAT_AREA] >= min_px
        ]
        if inner:
            area = max(inner) * coarse_mm2
            out.append(f"a hole of about {area:.0f} mm2 where the outline has none")
    if part.has_holes:
        filled = cv2.erode(holes, kernel, iterations=_COARSE_ERODE) & mine
        if filled.sum() >= min_px:
            out.append(
                f"material where the outline has a hole ({filled.sum() * coarse_mm2:.0f} mm2)"
            )
    # side faces in view belong to the part: beyond means beyond its silhouette
    beyond = mine & (1 - cv2.dilate(silhouette, kernel, iterations=_COARSE_ERODE))
    if beyond.sum() >= min_px:
        out.append(f"material beyond the expected outline ({beyond.sum() * coarse_mm2:.0f} mm2)")
    return out


def border_coverage(img: np.ndarray, det: Detection, blob: Blob) -> float:
    """How far towards the part's level the region covers the image's outermost pixels:
    the highest level that a run of ``_BORDER_RUN`` of them all reach (0 = belt, 1 = part;
    0 when the region is not at the border)."""
    H, W = img.shape
    x, y, bw, bh = blob.bbox
    h, w = det.mask.shape
    c0, c1 = max(0, x * FACTOR - 8), min(W, (x + bw) * FACTOR + 8)
    r0, r1 = max(0, y * FACTOR - 8), min(H, (y + bh) * FACTOR + 8)
    cols, rows = np.arange(c0, c1), np.arange(r0, r1)
    strips = []
    if y == 0:
        strips.append((img[0, c0:c1], det.belt[0, :], cols))
    if y + bh >= h:
        strips.append((img[H - 1, c0:c1], det.belt[-1, :], cols))
    if x == 0:
        strips.append((img[r0:r1, 0], det.belt[:, 0], rows))
    if x + bw >= w:
        strips.append((img[r0:r1, W - 1], det.belt[:, -1], rows))
    contrast = math.expm1(det.step)
    best = 0.0
    for values, belt_coarse, pos in strips:
        if len(values) < _BORDER_RUN:
            continue
        belt = np.interp(
            (pos - (FACTOR - 1) / 2.0) / FACTOR, np.arange(len(belt_coarse)), belt_coarse
        )
        cover = (values - belt) / (belt * contrast)
        runs = np.lib.stride_tricks.sliding_window_view(cover, _BORDER_RUN).min(axis=1)
        best = max(best, float(runs.max()))
    return best


def area_outside_image_mm2(
    camera: CameraModel, part: ExpectedPart, p: np.ndarray, mm_per_px: float
) -> float:
    """Area of the top face at pose ``p`` that falls outside the image (mm2)."""
    outline = part.posed(p[0], p[1], math.degrees(p[2]), p[3], p[4])
    xy = densify(np.asarray(outline.exterior.coords), 8.0)
    uv = camera.project(np.column_stack([xy, np.full(len(xy), part.thickness_mm)]))
    face = Polygon(uv)
    if not face.is_valid:
        face = face.buffer(0)
    inside = face.intersection(box(-0.5, -0.5, camera.width - 0.5, camera.height - 0.5))
    return max(face.area - inside.area, 0.0) * mm_per_px**2


def silhouette_outside_px(camera: CameraModel, part: ExpectedPart, p: np.ndarray) -> float:
    """How far (px) the part's silhouette (top and bottom outline) at pose ``p`` reaches
    beyond the image; negative: how far inside it stays."""
    outline = part.posed(p[0], p[1], math.degrees(p[2]), p[3], p[4])
    xy = densify(np.asarray(outline.exterior.coords), 8.0)
    n = len(xy)
    pts = np.concatenate(
        [np.column_stack([xy, np.full(n, part.thickness_mm)]), np.column_stack([xy, np.zeros(n)])]
    )
    uv = camera.project(pts)
    over = np.concatenate(
        [
            -0.5 - uv[:, 0],
            -0.5 - uv[:, 1],
            uv[:, 0] - (camera.width - 0.5),
            uv[:, 1] - (camera.height - 0.5),
        ]
    )
    return float(over.max())


def densify(ring: np.ndarray, step: float) -> np.ndarray:
    """Points along a closed ring (K + 1, 2) no further apart than ``step``."""
    seg = np.diff(ring, axis=0)
    length = np.hypot(seg[:, 0], seg[:, 1])
    n = np.maximum(1, np.ceil(length / step)).astype(int)
    idx = np.repeat(np.arange(len(seg)), n)
    frac = (np.concatenate([np.arange(k) for k in n]) / n[idx])[:, None]
    return ring[:-1][idx] + seg[idx] * frac
