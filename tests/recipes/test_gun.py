import numpy as np
import pytest
from pydantic import ValidationError

from recipes.errors import InvalidInputError
from recipes.gun import GunModel

GUNS = [
    GunModel(),
    GunModel(profile="gaussian", sigma_x_mm=30, sigma_y_mm=45),
    GunModel(profile="double_beta", semi_axis_a_mm=150, semi_axis_b_mm=60, beta1=3, beta2=1.5),
]


@pytest.mark.parametrize("gun", GUNS, ids=lambda g: g.profile)
def test_density_integrates_to_one(gun):
    x = np.arange(-250, 250, 0.25) + 0.125
    X, Y = np.meshgrid(x, x)
    assert gun.density(X, Y).sum() * 0.25**2 == pytest.approx(1.0, abs=2e-4)


@pytest.mark.parametrize("gun", GUNS, ids=lambda g: g.profile)
def test_line_density_is_the_integral_along_x(gun):
    xs = np.arange(-250, 250, 0.01) + 0.005
    ys = np.array([0.0, 20.0, 45.0])
    numeric = gun.density(xs[None, :], ys[:, None]).sum(axis=1) * 0.01
    np.testing.assert_allclose(gun.line_density(ys), numeric, rtol=1e-3)


def test_circular_beta_cross_profile_shape():
    gun = GunModel(beta1=2.5, beta2=2.5)
    y = np.array([0.0, 50.0, 80.0])
    ratio = gun.line_density(y) / gun.line_density(np.array([0.0]))
    np.testing.assert_allclose(ratio, (1 - y**2 / 100.0**2) ** 2.0, rtol=1e-9)


def test_deposit_rate_counts_gun_losses():
    gun = GunModel(flow_ml_min=300, gun_efficiency=0.6)
    assert gun.flow_mm3_s == pytest.approx(5000.0)
    assert gun.deposit_rate_mm3_s == pytest.approx(3000.0)


def test_standoff_outside_valid_range_names_field_and_limit():
    with pytest.raises(InvalidInputError) as err:
        GunModel().check_standoff(400.0, "planner.standoff_mm")
    assert err.value.field == "planner.standoff_mm"
    assert "[120, 320]" in str(err.value)


def test_bad_gun_parameters_are_refused():
    with pytest.raises(ValidationError):
        GunModel(flow_ml_min=0)
    with pytest.raises(ValidationError):
        GunModel(profile="beta", semi_axis_a_mm=100, semi_axis_b_mm=50)
