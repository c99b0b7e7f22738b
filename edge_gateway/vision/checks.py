"""Checks of a fitted part: damage along the outline, holes and extra material, the image
border.

- Missing material (damage): along each edge sample the material extent was measured
  from deep inside outwards (:func:`edge_gateway.vision.profiles.material_extent`); runs of
  samples whose material ends deeper than ``defect_depth_mm`` inside the fitted outline
  bound a region (outline on one side, measured extent on the other) whose area is
  compared with ``min_defect_area_mm2``. The run must show a cut edge: in a quarter of its
  profiles, or as the walls of a coarse region of missing material (a region deeper than
  the profiles reach); a highlight on a dark part fades out and shows none.
- Material beyond the outline (wrong part): runs of samples whose material reaches beyond
  the fitted outline, with no edge agreeing with it there, bound a region compared with
  ``min_defect_area_mm2`` in the same way.
- Holes and extra material (wrong part), at coarse resolution: the fitted top face and
  silhouette are drawn into the coarse grid and compared with the part's region; material
  beyond the silhouette counts where it ends at a cut edge (a lighting fall-off or a
  shadow joined to the region fades out).
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
#: a hole's walls: the level step across its boundary (coarse pixels each side), and how
#: much brighter than the belt (part-to-belt steps) a hole in a dark part may look
HOLE_STEP = 0.5
#: share of a run of missing samples that must show a cut edge (the rest may lie too deep
#: to show it, or under a highlight)
WITNESS_SHARE = 0.25
HOLE_BRIGHTER = 0.35
_WALL_PX = 2


@dataclass(frozen=True)
class EdgeFit:
    """The last refinement pass.

    Attributes
    ----------
    visible : (V,) int, edge samples in view.
    fitted : (F,) int, edge samples with an edge found.
    r_mm : (F,) their distance from the fitted outline (outward > 0).
    extent_mm : (V,) where the material ends along each visible sample (outward > 0).
    cut : (V,) bool, it ends at a step there (an edge, not a fade or the profile's end).
    surplus_mm : (V,) how far the top face runs on beyond the fitted outline to a cut edge
        where no edge agrees with the outline (0 elsewhere).
    """

    visible: np.ndarray
    fitted: np.ndarray
    r_mm: np.ndarray
    extent_mm: np.ndarray
    cut: np.ndarray
    surplus_mm: np.ndarray

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


def missing_area_mm2(
    part: ExpectedPart, fit: EdgeFit, depth_mm: float, witness: np.ndarray | None = None
) -> float:
    """Largest region of material missing deeper than ``depth_mm`` along the outline,
    among the runs of samples that show it: at least ``WITNESS_SHARE`` of them with a cut
    edge in their profile or in a walled coarse region (``witness``, (V,) bool; default
    the profiles' own cut edges)."""
    if len(fit.visible) == 0:
        return 0.0
    deficit = np.maximum(-fit.extent_mm, 0.0)
    seen = fit.cut if witness is None else witness
    return _largest_run_area(part, fit.visible, deficit, deficit > depth_mm, -1.0, seen)


def surplus_area_mm2(part: ExpectedPart, fit: EdgeFit, depth_mm: float) -> float:
    """Largest region of top face reaching beyond the fitted outline by more than
    ``depth_mm`` (another corner shape, a cut-out smaller than expected): the part does
    not have the expected outline."""
    if len(fit.visible) == 0:
        return 0.0
    surplus = fit.surplus_mm
    return _largest_run_area(part, fit.visible, surplus, surplus > depth_mm, 1.0)


def agreeing(fit: EdgeFit) -> np.ndarray:
    """(V,) bool: an edge within ``AGREE_MM`` of the fitted outline was found there."""
    return np.isin(fit.visible, fit.fitted[np.abs(fit.r_mm) <= AGREE_MM])


def _largest_run_area(
    part: ExpectedPart,
    idx: np.ndarray,
    amount: np.ndarray,
    on: np.ndarray,
    sign: float,
    witness: np.ndarray | None = None,
) -> float:
    """Largest area between the outline and the outline moved by ``amount`` along the
    samples' normals (outwards for ``sign`` > 0) over runs of consecutive samples ``on``;
    with ``witness``, only runs whose samples bear it out count (``WITNESS_SHARE``)."""
    on = on & np.isfinite(amount)
    if not on.any():
        return 0.0
    ring = part.sample_ring[idx]
    # runs of consecutive samples on one ring (samples are in ring order)
    breaks = np.ones(len(idx), dtype=bool)
    breaks[1:] = (~on[:-1]) | (ring[1:] != ring[:-1]) | (np.diff(idx) > 2)
    run = np.cumsum(breaks)
    best = 0.0
    for k in np.unique(run[on]):
        sel = np.flatnonzero((run == k) & on)
        if len(sel) < 2:
            continue
        if witness is not None and witness[sel].mean() < WITNESS_SHARE:
            continue
        m = part.samples[idx[sel]]
        moved = m + sign * part.sample_normal[idx[sel]] * amount[sel, None]
        poly = np.concatenate([m, moved[::-1]])
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
) -> tuple[list[str], np.ndarray]:
    """Holes where the outline has none, holes filled, material beyond the silhouette
    (``coarse_mm2``: the area of a coarse pixel on the top face); and (h, w) uint8 the
    coarse regions of missing material that reach the outline with a cut edge (walls)
    round their inner side: damage seen in two dimensions, however deep."""
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
    defects = np.zeros((h, w), np.uint8)
    missing = interior & (1 - mine)
    if missing.sum() >= min_px:
        # regions connected to the outline are damage (measured finely elsewhere)
        n, lab, stats, _ = cv2.connectedComponentsWithStats(missing, connectivity=4)
        touching = set(np.unique(lab[(cv2.dilate(1 - interior, kernel) & missing) > 0]).tolist())
        level = coarse_level(det)
        inner = []
        for i in range(1, n):
            if stats[i, cv2.CC_STAT_AREA] < min_px:
                continue
            walled = _has_walls(lab == i, level, det.step < 0, interior)
            if i in touching:
                if walled:
                    defects[lab == i] = 1
            elif walled:
                inner.append(int(stats[i, cv2.CC_STAT_AREA]))
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
        area = _walled_area_px(beyond, coarse_level(det), 1 - mine, min_px)
        if area >= min_px:
            out.append(f"material beyond the expected outline ({area * coarse_mm2:.0f} mm2)")
    return out, defects


def coarse_level(det: Detection) -> np.ndarray:
    """(h, w) float32 coarse image in belt-to-part units (0 = belt, 1 = part)."""
    grey = det.grey if det.grey is not None else cv2.exp(det.small_log) - np.float32(1.0)
    return (grey - det.belt) / (det.belt * np.float32(math.expm1(det.step)))


def _has_walls(region: np.ndarray, level: np.ndarray, dark_part: bool, within: np.ndarray) -> bool:
    """A hole in the top face shows the belt behind a step all round it: the part's level
    just outside the region (and ``within`` the top face) stands ``HOLE_STEP`` above the
    level just inside. A highlight on a glossy part fades out instead, and on a dark part
    it may be brighter than the belt itself, which a hole (belt, or belt in the part's
    shadow) is not."""
    mask = region.astype(np.uint8)
    kernel = np.ones((3, 3), np.uint8)
    ring_out = cv2.dilate(mask, kernel, iterations=_WALL_PX) & (1 - mask) & within
    ring_in = mask & (1 - cv2.erode(mask, kernel, iterations=_WALL_PX))
    if not ring_out.any() or not ring_in.any():
        return True
    step = float(np.mean(level[ring_out > 0]) - np.mean(level[ring_in > 0]))
    if step < HOLE_STEP:
        return False
    return not dark_part or float(np.median(level[mask > 0])) >= -HOLE_BRIGHTER


def _walled_area_px(beyond: np.ndarray, level: np.ndarray, belt: np.ndarray, min_px: float) -> int:
    """Coarse pixels of the regions of ``beyond`` (h, w) uint8 that end at a cut edge
    where they meet the belt (``belt``, (h, w) uint8): their level just inside stands
    ``HOLE_STEP`` above the belt's just outside. More material ends so; a lighting
    fall-off towards an image corner, or a shadow's soft outer edge, fades instead."""
    n, lab, stats, _ = cv2.connectedComponentsWithStats(beyond, connectivity=8)
    kernel = np.ones((3, 3), np.uint8)
    total = 0
    for i in range(1, n):
        if stats[i, cv2.CC_STAT_AREA] < min_px:
            continue
        region = (lab == i).astype(np.uint8)
        ring_out = cv2.dilate(region, kernel, iterations=_WALL_PX) & belt
        ring_in = region & cv2.dilate(ring_out, kernel, iterations=_WALL_PX)
        if ring_out.any() and ring_in.any():
            step = float(np.mean(level[ring_in > 0]) - np.mean(level[ring_out > 0]))
            if step < HOLE_STEP:
                continue
        total += int(stats[i, cv2.CC_STAT_AREA])
    return total


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
