"""Exact polygon coverage: per pixel against shapely, holes, shared edges, weights."""

from __future__ import annotations

import numpy as np
import pytest
from shapely.geometry import Polygon, box

from sim._raster import coverage


def _star(rng: np.random.Generator, n: int) -> np.ndarray:
    centre = rng.uniform([-40, -40], [140, 100])
    ang = np.sort(rng.uniform(0, 2 * np.pi, n))
    r = rng.uniform(10, 70, n)
    return centre + np.column_stack([r * np.cos(ang), r * np.sin(ang)])


@pytest.mark.parametrize("seed", range(6))
def test_coverage_equals_the_exact_area_in_every_pixel(seed: int) -> None:
    rng = np.random.default_rng(seed)
    ring = _star(rng, int(rng.integers(3, 10)))
    if seed % 2:
        ring = ring[::-1]  # either orientation
    poly = Polygon(ring)
    origin = (int(rng.integers(-10, 10)), int(rng.integers(-10, 10)))
    h, w = 70, 110
    cov = coverage([[ring]], (h, w), origin)
    u0, v0 = origin
    exact = np.array(
        [
            [
                poly.intersection(box(u0 + c - 0.5, v0 + r - 0.5, u0 + c + 0.5, v0 + r + 0.5)).area
                for c in range(w)
            ]
            for r in range(h)
        ]
    )
    assert cov.shape == exact.shape
    np.testing.assert_allclose(cov, exact, atol=2e-5)


def test_holes_subtract_and_shared_edges_leave_no_seam() -> None:
    outer = np.array([[10.3, 10.1], [80.7, 10.1], [80.7, 60.6], [10.3, 60.6]])
    hole = np.array([[30.2, 25.5], [50.9, 25.5], [50.9, 45.2], [30.2, 45.2]])
    cov = coverage([[outer, hole]], (80, 100))
    assert cov.sum() == pytest.approx(Polygon(outer, [hole]).area, rel=1e-6)
    assert cov[35, 40] == pytest.approx(0.0, abs=1e-6)
    # two quads sharing a slanted edge: exactly 1 along the seam
    a = np.array([[10.0, 10.0], [50.3, 10.0], [40.7, 60.0], [10.0, 60.0]])
    b = np.array([[50.3, 10.0], [90.0, 10.0], [90.0, 60.0], [40.7, 60.0]])
    cov = coverage([[a], [b]], (80, 100))
    np.testing.assert_allclose(cov[15:55, 15:85], 1.0, atol=1e-5)


def test_weights_give_premultiplied_shading() -> None:
    a = np.array([[0.0, 0.0], [20.0, 0.0], [20.0, 20.0], [0.0, 20.0]]) + 5.25
    b = a + [30.0, 0.0]
    alpha, shaded = coverage([[a], [b]], (40, 70), weights=np.array([100.0, 40.0]))
    assert alpha.sum() == pytest.approx(800.0, rel=1e-6)
    assert shaded.sum() == pytest.approx(400 * 100.0 + 400 * 40.0, rel=1e-6)
    assert shaded[15, 15] == pytest.approx(100.0) and shaded[15, 45] == pytest.approx(40.0)
