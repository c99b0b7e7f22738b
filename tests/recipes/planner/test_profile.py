import pytest

from recipes.gun import GunModel
from recipes.planner.profile import best_scale_within, choose_layout, uniform_pitch


def test_parabolic_profile_optimum_is_about_30_percent_overlap():
    """Published result: for beta = 1.5 (parabolic cross profile) the raster optimum
    lands at about 30 % overlap of the fan width."""
    gun = GunModel(beta1=1.5, beta2=1.5)
    pitch, cv = uniform_pitch(gun, 200.0)
    overlap = 1 - pitch / (2 * gun.semi_axis_a_mm)
    assert overlap == pytest.approx(0.30, abs=0.02)
    assert cv < 6.0


def test_layout_inset_and_pitch_come_from_the_profile():
    gun = GunModel()
    layout = choose_layout(gun, 200.0, 400.0, 0.10)
    assert layout.within_1d_pct >= 99.5
    assert 20.0 <= layout.inset_mm <= 45.0  # outer strokes inside the edge, not on it
    assert 95.0 <= layout.pitch_mm <= 120.0
    # a wider face needs more strokes at a similar pitch
    wide = choose_layout(gun, 200.0, 2000.0, 0.10)
    assert wide.n_strokes > layout.n_strokes


def test_best_scale_puts_most_weight_in_band():
    import numpy as np

    values = np.array([0.8, 1.0, 1.02, 1.05, 1.3])
    scale, share = best_scale_within(values, np.ones(5), 0.1)
    assert share == pytest.approx(0.6)
    assert 1.0 * scale >= 0.9 and 1.05 * scale <= 1.1
