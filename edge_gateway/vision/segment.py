"""Coarse detection: which pixels are part and which belt, at a quarter of the resolution.

The image is taken to the log domain, where lighting (gradients across the belt,
vignetting) adds a smooth field to both the belt and the parts. A two-class model
``log I = poly2(u, v) + a * [part]`` is fitted by alternating: classify at the middle of
the two levels, fit the polynomial field and the step ``a`` by least squares on a sparse
grid, repeat. Nothing in it assumes a grey level: parts may be brighter or darker than the
belt (the class touching less of the image border is the part), and stains, texture and
shadows only have to stay nearer the belt's level than the part's. Whether there is a part
at all is judged in belt-to-part units (linear in the grey level): the spread within the
classes against the step between them. In the log domain a dark belt's noise and texture
would look as large as the step to a part twice as bright.
"""

from __future__ import annotations

import math
from dataclasses import dataclass
from functools import lru_cache

import cv2
import numpy as np

#: detection works at 1 / FACTOR of the image resolution
FACTOR = 4
#: the least squares use every _FIT_STRIDE-th coarse pixel in each direction
_FIT_STRIDE = 3
_ITERATIONS = 4
#: most boundary points kept per region
_CONTOUR_POINTS = 120
#: a step between belt and part below this (x the within-class spread) is no part
MIN_SEPARATION = 3.0
#: smallest step accepted in log units (about 10 % brightness)
MIN_CONTRAST = 0.1
#: a step above this (x the spread) but below MIN_SEPARATION is weak contrast: strong
#: belt texture (grain, overspray speckle) beside a part only a little darker or brighter;
#: its regions are parts only where the expected outline's edges bear them out
WEAK_SEPARATION = 2.0

LOG_LUT = np.log(np.arange(256, dtype=np.float32) + 1.0).astype(np.float32)
#: the log intensity scaled to 0..255, for the first split of the classes
LOG8_LUT = np.rint(255.0 * LOG_LUT / LOG_LUT[-1]).astype(np.uint8)


@dataclass(frozen=True)
class Blob:
    """One connected region of part pixels at coarse resolution.

    Attributes
    ----------
    label : int
        Its label in :attr:`Detection.labels`.
    area_px : int
        Coarse pixels.
    bbox : (x, y, w, h) in coarse pixels.
    touches_border : bool
        Reaches the outermost coarse pixels of the image.
    contour_px : (N, 2) ndarray
        Its outer boundary in full-resolution pixel coordinates, without the points that lie
        on the image border.
    """

    label: int
    area_px: int
    bbox: tuple[int, int, int, int]
    touches_border: bool
    contour_px: np.ndarray


@dataclass(frozen=True)
class Detection:
    """Coarse classification of one image.

    Attributes
    ----------
    small_log : (h, w) float32, log intensity at coarse resolution.
    field : (h, w) float32, the fitted smooth lighting field (log), belt level.
    belt : (h, w) float32, the belt's grey level there (``exp(field) - 1``).
    step : float, part level minus belt level (log); its sign is the polarity.
    spread : float, robust within-class spread in belt-to-part units (the step is 1).
    mask : (h, w) uint8, 1 where part.
    labels : (h, w) int32, connected components of ``mask``.
    blobs : list of Blob, largest first.
    border_share : share of the image's outermost coarse pixels in the part class.
    grey : (h, w) float32, the coarse image (grey levels) the classes were fitted to.
    """

    small_log: np.ndarray
    field: np.ndarray
    belt: np.ndarray
    step: float
    spread: float
    mask: np.ndarray
    labels: np.ndarray
    blobs: list[Blob]
    border_share: float = 0.0
    grey: np.ndarray | None = None

    @property
    def separation(self) -> float:
        return 1.0 / max(self.spread, 1e-6)

    @property
    def has_contrast(self) -> bool:
        return self.separation >= MIN_SEPARATION and abs(self.step) >= MIN_CONTRAST

    @property
    def has_weak_contrast(self) -> bool:
        """Contrast too weak to say alone that there is a part (see WEAK_SEPARATION)."""
        return (
            not self.has_contrast
            and self.separation >= WEAK_SEPARATION
            and abs(self.step) >= MIN_CONTRAST
        )


@lru_cache(maxsize=8)
def _basis(h: int, w: int) -> tuple[np.ndarray, np.ndarray]:
    """Quadratic basis (6, h, w) on the coarse grid and its sparse fitting rows (n, 6)."""
    v, u = np.mgrid[0:h, 0:w].astype(np.float32)
    x = (u - (w - 1) / 2) / (w / 2)
    y = (v - (h - 1) / 2) / (h / 2)
    full = np.stack([np.ones_like(x), x, y, x * x, x * y, y * y])
    sparse = full[:, ::_FIT_STRIDE, ::_FIT_STRIDE].reshape(6, -1).T.copy()
    return full, sparse


def detect(image: np.ndarray, polarity: str = "auto", min_area_px: int = 16) -> Detection:
    """Classify ``image`` (H, W) uint8 into part and belt at coarse resolution and find the
    part regions of at least ``min_area_px`` coarse pixels.

    ``polarity``: "auto" (the class touching less of the border is the part), "bright" or
    "dark".
    """
    H, W = image.shape
    h, w = H // FACTOR, W // FACTOR
    small = cv2.resize(image[: h * FACTOR, : w * FACTOR], (w, h), interpolation=cv2.INTER_AREA)
    L = cv2.LUT(small, LOG_LUT)
    full, A = _basis(h, w)
    Ls = L[::_FIT_STRIDE, ::_FIT_STRIDE].ravel()
    # the first split in the log domain too: a highlight on the part spans more grey
    # levels than the step from belt to part, but not more log units
    L8 = cv2.LUT(small, LOG8_LUT)
    thr, _ = cv2.threshold(L8, 0, 255, cv2.THRESH_BINARY + cv2.THRESH_OTSU)
    cls = (L8[::_FIT_STRIDE, ::_FIT_STRIDE].ravel() > thr).astype(np.float32)
    M = np.empty((len(Ls), 7), dtype=np.float32)
    M[:, :6] = A
    coef = np.zeros(6, dtype=np.float32)
    step = 1e-6
    spread = 1.0
    weight = np.ones_like(Ls)
    for _ in range(_ITERATIONS):
        M[:, 6] = cls
        Mw = M * weight[:, None]
        sol = np.linalg.solve(
            (Mw.T @ M).astype(np.float64) + 1e-9 * np.eye(7), (Mw.T @ Ls).astype(np.float64)
        )
        coef, step = sol[:6].astype(np.float32), max(float(sol[6]), 1e-6)
        res = Ls - A @ coef
        new_cls = (res > 0.5 * step).astype(np.float32)
        dev = res - step * new_cls
        k = len(dev) // 2
        spread = float(1.4826 * np.partition(np.abs(dev), k)[k]) + 1e-6
        # pixels far from both levels (mixed edge pixels, stains) do not steer the fit
        weight = (np.abs(dev) < max(3.0 * spread, 0.05)).astype(np.float32)
        if np.array_equal(new_cls, cls):
            break
        cls = new_cls
    field = np.tensordot(coef, full, axes=1).astype(np.float32)
    upper = (L - field) > 0.5 * step
    # the spread within the classes in belt-to-part units (linear: in the log domain a
    # dark belt's noise and texture look as large as the step to the part)
    exp_lower = np.exp(A @ coef)  # belt (lower level) + 1, on the sparse grid
    grey = small[::_FIT_STRIDE, ::_FIT_STRIDE].ravel().astype(np.float32)
    contrast = np.float32(max(math.expm1(min(step, 20.0)), 1e-6))
    level = (grey + 1.0 - exp_lower) / (np.maximum(exp_lower, np.float32(1e-6)) * contrast)
    dev_level = level - (Ls - A @ coef > 0.5 * step)
    k = len(dev_level) // 2
    level_spread = float(1.4826 * np.partition(np.abs(dev_level), k)[k]) + 1e-6
    upper_share = _border_share(upper)
    lower_is_part = _part_is_lower(upper_share, polarity)
    part = ~upper if lower_is_part else upper
    if lower_is_part:  # the belt is the upper level: refer the field to it
        field += np.float32(step)
    part_step = -step if lower_is_part else step
    mask, labels, blobs = regions(part.astype(np.uint8), min_area_px)
    belt = np.maximum(cv2.exp(field) - np.float32(1.0), np.float32(0.5))
    share = 1.0 - upper_share if lower_is_part else upper_share
    grey_small = small.astype(np.float32)
    return Detection(
        L, field, belt, part_step, level_spread, mask, labels, blobs, share, grey_small
    )


def regions(part: np.ndarray, min_area_px: int) -> tuple[np.ndarray, np.ndarray, list[Blob]]:
    """The part mask (h, w) uint8 after an opening and a closing, its connected components
    (h, w) int32 and those of at least ``min_area_px`` coarse pixels as blobs, largest
    first."""
    h, w = part.shape
    kernel = np.ones((3, 3), np.uint8)
    mask = cv2.morphologyEx(part, cv2.MORPH_OPEN, kernel)
    mask = cv2.morphologyEx(mask, cv2.MORPH_CLOSE, kernel)
    n, labels, stats, _ = cv2.connectedComponentsWithStats(mask, connectivity=8)
    blobs = []
    order = np.argsort(-stats[1:, cv2.CC_STAT_AREA]) + 1 if n > 1 else []
    for lab in order[:8]:
        x, y, bw, bh, area = (int(v) for v in stats[lab])
        if area < max(min_area_px, 16):
            break
        touches = x == 0 or y == 0 or x + bw >= w or y + bh >= h
        blobs.append(Blob(int(lab), area, (x, y, bw, bh), touches, _contour(labels, lab, h, w)))
    return mask, labels, blobs


def _border_share(upper: np.ndarray) -> float:
    border = np.concatenate([upper[0], upper[-1], upper[1:-1, 0], upper[1:-1, -1]])
    return float(border.mean())


def _part_is_lower(upper_share: float, polarity: str) -> bool:
    if polarity == "bright":
        return False
    if polarity == "dark":
        return True
    return upper_share > 0.5


def _contour(labels: np.ndarray, lab: int, h: int, w: int) -> np.ndarray:
    """Outer boundary of one component in full-resolution pixel coordinates, without the
    points on the image border (they are not part edges)."""
    comp = (labels == lab).astype(np.uint8)
    contours, _ = cv2.findContours(comp, cv2.RETR_EXTERNAL, cv2.CHAIN_APPROX_NONE)
    if not contours:
        return np.zeros((0, 2))
    c = max(contours, key=len).reshape(-1, 2)
    inner = (c[:, 0] > 0) & (c[:, 1] > 0) & (c[:, 0] < w - 1) & (c[:, 1] < h - 1)
    c = c[inner]
    stride = max(1, int(math.ceil(len(c) / _CONTOUR_POINTS)))
    c = c[::stride].astype(np.float64)
    return c * FACTOR + (FACTOR - 1) / 2.0
