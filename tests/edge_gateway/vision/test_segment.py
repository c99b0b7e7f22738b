"""Coarse detection (edge_gateway.vision.segment) on frames whose classes are known."""

from __future__ import annotations

import cv2
import numpy as np
import pytest

from edge_gateway.vision.segment import FACTOR, detect

H, W = 960, 1280


def _frame(belt: float, part: float, highlight: float, seed: int) -> tuple[np.ndarray, np.ndarray]:
    """A tilted 900 x 600 px panel of grey level ``part`` on a belt of ``belt``, a glossy
    highlight of ``highlight`` (peak, added to the panel only) off its centre, noise."""
    rng = np.random.default_rng(seed)
    truth = np.zeros((H, W), np.uint8)
    box = cv2.boxPoints(((640.0, 480.0), (900.0, 600.0), 4.0)).astype(np.int32)
    cv2.fillPoly(truth, [box], 1)
    v, u = np.mgrid[0:H, 0:W].astype(np.float32)
    glint = highlight * np.exp(-((u - 520.0) ** 2 + (v - 620.0) ** 2) / (2 * 140.0**2))
    img = np.where(truth > 0, part + glint, belt) + rng.normal(0.0, 1.5, (H, W))
    return np.clip(img, 0, 255).astype(np.uint8), truth


@pytest.mark.parametrize(("belt", "part", "highlight"), [(12, 40, 0), (12, 40, 180), (30, 70, 150)])
def test_a_highlight_on_a_part_over_a_dark_belt_stays_part(belt, part, highlight) -> None:
    """A highlight spanning more grey levels than the step from belt to part is still one
    part with the rest of the panel (not the part, with the panel taken for lighting)."""
    img, truth = _frame(belt, part, highlight, seed=3)
    det = detect(img)
    assert det.has_contrast and det.step > 0
    assert len(det.blobs) == 1
    small_truth = cv2.resize(truth, (W // FACTOR, H // FACTOR), interpolation=cv2.INTER_AREA)
    found = det.labels == det.blobs[0].label
    iou = np.count_nonzero(found & (small_truth > 0)) / np.count_nonzero(found | (small_truth > 0))
    assert iou > 0.97
