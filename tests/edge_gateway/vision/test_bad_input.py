"""Bad input: unreadable or empty images, parts without an outline, wrong options."""

from __future__ import annotations

import cv2
import numpy as np
import pytest
from shapely.geometry import Polygon

from edge_gateway.vision import ExpectedPart, LocateOptions, Locator, as_grey, locate, read_image
from recipes.errors import InvalidInputError
from recipes.parts.loader import load_part


def test_unreadable_and_empty_image_files(tmp_path) -> None:
    with pytest.raises(InvalidInputError) as err:
        read_image(tmp_path / "missing.png")
    assert err.value.field == "image" and "cannot read" in err.value.reason
    empty = tmp_path / "empty.png"
    empty.write_bytes(b"")
    with pytest.raises(InvalidInputError, match="the file is empty"):
        read_image(empty)
    junk = tmp_path / "junk.png"
    junk.write_bytes(b"\x89PNG not really an image")
    with pytest.raises(InvalidInputError, match="not an image OpenCV can decode"):
        read_image(junk)


def test_images_in_other_formats_become_grey(tmp_path) -> None:
    rng = np.random.default_rng(0)
    grey = rng.integers(0, 256, size=(48, 64), dtype=np.uint8)
    colour = cv2.cvtColor(grey, cv2.COLOR_GRAY2BGR)
    cv2.imwrite(str(tmp_path / "c.png"), colour)
    np.testing.assert_array_equal(read_image(tmp_path / "c.png"), grey)
    deep = grey.astype(np.uint16) * 257
    cv2.imwrite(str(tmp_path / "d.png"), deep)
    np.testing.assert_array_equal(read_image(tmp_path / "d.png"), grey)
    np.testing.assert_array_equal(as_grey(grey / 255.0), grey)


@pytest.mark.parametrize(
    "array",
    [np.zeros((0, 0), np.uint8), np.zeros((10,), np.uint8), np.zeros((4, 4, 5), np.uint8)],
)
def test_empty_or_odd_arrays(array) -> None:
    with pytest.raises(InvalidInputError) as err:
        as_grey(array)
    assert err.value.field == "image"


def test_an_image_of_another_size_than_the_calibration(camera, door) -> None:
    with pytest.raises(InvalidInputError, match="does not match the calibration's 1280x960"):
        locate(np.zeros((480, 640), np.uint8), camera, door)


def test_a_flat_image_has_no_part(camera, door) -> None:
    for value in (0, 128, 255):
        res = locate(np.full((960, 1280), value, np.uint8), camera, door)
        assert res.verdict == "no_part"


def test_parts_without_an_outline(camera) -> None:
    leg, _ = load_part("chair_leg")
    with pytest.raises(InvalidInputError) as err:
        Locator(camera, leg)
    assert err.value.field == "part.outline" and "chair_leg" in err.value.reason

    class Thing:
        name = "thing"
        thickness_mm = 18.0

    with pytest.raises(InvalidInputError, match="part.outline"):
        ExpectedPart.from_part(Thing())
    bow_tie = Polygon([(0, 0), (10, 10), (10, 0), (0, 10)])

    class Bow(Thing):
        outline = bow_tie

    with pytest.raises(InvalidInputError, match="not a valid polygon"):
        ExpectedPart.from_part(Bow())


@pytest.mark.parametrize(
    ("options", "field"),
    [
        (dict(polarity="sideways"), "options.polarity"),
        (dict(min_score=1.5), "options.min_score"),
        (dict(size_tolerance_mm=0.0), "options.size_tolerance_mm"),
        (dict(max_defect_area_mm2=10.0), "options.max_defect_area_mm2"),
    ],
)
def test_bad_options(options, field) -> None:
    with pytest.raises(InvalidInputError) as err:
        LocateOptions(**options)
    assert err.value.field == field
