"""The chromaticity cue: shadows keep the belt's colour, highlights the part's."""

from __future__ import annotations

import numpy as np
import pytest

from edge_gateway.vision.chroma import (
    chroma_cue,
    chroma_edges,
    chroma_extent,
    coarse_colour,
    without_belt_colour,
)
from edge_gateway.vision.image import as_grey
from edge_gateway.vision.segment import FACTOR, detect

BELT_BGR = (120.0, 190.0, 130.0)  # a green belt
PART_BGR = (70.0, 70.0, 72.0)  # a dark grey part
SHADE = 0.45  # share of the light left in the part's shadow


def _frame(seed: int = 0) -> np.ndarray:
    """(960, 1280, 3) uint8: a dark part (x 400-880, y 300-660) on a green belt, its shadow
    (the belt's colour, as dark as the part) 40 px wide along its right side."""
    rng = np.random.default_rng(seed)
    img = np.empty((960, 1280, 3), np.float32)
    img[:] = BELT_BGR
    img[300:660, 880:920] = np.array(BELT_BGR) * SHADE
    img[300:660, 400:880] = PART_BGR
    img += rng.normal(0.0, 2.0, img.shape)
    return np.clip(img, 0, 255).astype(np.uint8)


def test_a_shadow_as_dark_as_the_part_goes_back_to_the_belt() -> None:
    img = _frame()
    det = detect(as_grey(img), "auto", 100)
    x, _, w, _ = det.blobs[0].bbox
    assert (x + w) * FACTOR >= 910  # brightness alone takes the shadow for part
    det2, cue = without_belt_colour(det, img, 100)
    assert cue is not None
    x, _, w, _ = det2.blobs[0].bbox
    assert (x + w) * FACTOR == pytest.approx(880, abs=2 * FACTOR)


def test_no_cue_where_part_and_belt_share_their_colour() -> None:
    img = _frame()
    grey = np.repeat(as_grey(img)[:, :, None], 3, axis=2)
    det = detect(as_grey(grey), "auto", 100)
    h, w = det.mask.shape
    assert chroma_cue(coarse_colour(grey, h, w), det, det.mask) is None


@pytest.mark.parametrize("speck", [False, True])
def test_the_material_ends_after_the_last_part_coloured_sample(speck: bool) -> None:
    offsets = np.arange(-20, 6, dtype=np.float32)
    level = np.where(offsets < -8.0, 1.0, 0.0).astype(np.float32)[None, :]
    if speck:  # a glint inside the part is no end of it
        level[0, 3:5] = -1.0
    ext, stepped = chroma_extent(level, offsets, 0.45, 4)
    assert stepped[0]
    assert ext[0] == pytest.approx(-8.5, abs=0.01)


def test_chroma_edges_nearest_the_prediction() -> None:
    offsets = np.arange(-10, 11, dtype=np.float32)
    level = np.where(offsets < 2.0, 1.0, 0.0).astype(np.float32)[None, :]
    np.testing.assert_allclose(chroma_edges(level, offsets, 0.45, 4), [1.5])
    flat = np.ones_like(level)
    assert np.isnan(chroma_edges(flat, offsets, 0.45, 4)[0])
