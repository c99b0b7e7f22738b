import numpy as np
import pytest

from recipes.deposition import deposit, deposit_flat, deposit_general
from recipes.deposition.reference import deposit_reference
from recipes.gun import GunModel
from recipes.parts.templates import rect
from tests.factories import rigid_transform, straight_stroke

SPEED = 400.0


@pytest.fixture(scope="module")
def plate():
    return rect(1000, 600, 18)


@pytest.mark.parametrize(
    "gun",
    [GunModel(), GunModel(profile="gaussian", sigma_x_mm=30, sigma_y_mm=30)],
    ids=["beta", "gaussian"],
)
@pytest.mark.parametrize("fast", [True, False], ids=["fft", "general"])
def test_straight_stroke_profile_matches_line_integral(plate, gun, fast):
    samples = plate.sample_surface(2.0)
    prog = straight_stroke([-150, 300, 218.0], [1150, 300, 218.0], SPEED)
    wet = deposit(samples, prog.sample(1000), gun, fast=fast)
    k = samples.grid.index.size
    top = samples.points_mm[:k]
    cut = np.abs(top[:, 0] - 501.0) < 1e-6
    y = top[cut, 1] - 300.0
    expected = gun.deposit_rate_mm3_s * gun.line_density(y) / SPEED * 1000.0
    peak = expected.max()
    assert np.max(np.abs(wet[:k][cut] - expected)) < 0.01 * peak


def test_mass_balance_paint_leaving_equals_on_part_plus_overspray(plate):
    """Paint into the fan lands on the part or on a catch plane around it: 0.5 %."""
    gun = GunModel()
    prog = straight_stroke([-150, 50, 218.0], [1150, 50, 218.0], SPEED)
    traj = prog.sample(1000)
    on_part = plate.sample_surface(2.0)
    wet = deposit(on_part, traj, gun)
    on_mm3 = np.sum(wet * on_part.area_mm2) / 1000
    # a catch plane at the part's top height, the part's outline cut out
    big = rect(2000, 1000, 18).sample_surface(2.0)
    k = big.grid.index.size
    pts = big.points_mm[:k] - [500, 200, 0]
    outside = ~((pts[:, 0] > 0) & (pts[:, 0] < 1000) & (pts[:, 1] > 0) & (pts[:, 1] < 600))
    catch = type(big)(
        pts[outside],
        big.normals[:k][outside],
        big.area_mm2[:k][outside],
        big.face_ids[:k][outside],
        big.face_names,
    )
    off_mm3 = np.sum(deposit_general(catch, traj, gun) * catch.area_mm2) / 1000
    fan_mm3 = gun.deposit_rate_mm3_s * traj.spray_time_s
    assert (on_mm3 + off_mm3) == pytest.approx(fan_mm3, rel=0.005)
    assert on_mm3 < fan_mm3  # the stroke runs 50 mm from the edge: some paint misses
    leaving_ml = gun.flow_mm3_s * traj.spray_time_s / 1000
    lost_ml = leaving_ml * (1 - gun.gun_efficiency)
    assert leaving_ml == pytest.approx(on_mm3 / 1000 + off_mm3 / 1000 + lost_ml, rel=0.005)


def test_fast_general_and_reference_agree_on_a_tilted_pass():
    gun = GunModel()
    part = rect(300, 200, 18)
    samples = part.sample_surface(5.0)
    axis = np.array([0.3, 0.0, -1.0])
    axis /= np.linalg.norm(axis)
    prog = straight_stroke(
        [-60, -100, 230.0], [-60, 300, 230.0], 300.0, axis=axis, fan_x=(0.0, 1.0, 0.0)
    )
    traj = prog.sample(500)
    ref = deposit_reference(samples, traj, gun)
    assert ref.max() > 1.0
    np.testing.assert_allclose(deposit_general(samples, traj, gun), ref, atol=1e-4 * ref.max())
    np.testing.assert_allclose(deposit(samples, traj, gun), ref, atol=1e-4 * ref.max())


def test_flat_path_matches_general_path_on_a_raster():
    from recipes.finish import builtin_finish
    from recipes.planner import PlannerParams, plan

    gun = GunModel()
    part = rect(400, 300, 18)
    result = plan(
        part, builtin_finish("benchmark"), gun, PlannerParams(edge_passes=False, spacing_mm=4.0)
    )
    samples = part.sample_surface(4.0)
    traj = result.program.sample(1000)
    k = samples.grid.index.size
    flat = deposit_flat(samples.grid, traj, gun).ravel()[samples.grid.index]
    general = deposit_general(samples, traj, gun)[:k]
    assert np.max(np.abs(flat - general)) < 0.005 * general.max()


@pytest.mark.parametrize("seed", [1, 2])
def test_film_is_invariant_under_moving_part_and_path_together(seed):
    gun = GunModel()
    part = rect(300, 200, 18)
    samples = part.sample_surface(5.0)
    prog = straight_stroke([-80, 100, 210.0], [380, 100, 210.0], 350.0)
    base = deposit_general(samples, prog.sample(1000), gun)
    T = rigid_transform(seed)
    moved = type(samples)(
        samples.points_mm @ T[:3, :3].T + T[:3, 3],
        samples.normals @ T[:3, :3].T,
        samples.area_mm2,
        samples.face_ids,
        samples.face_names,
    )
    film = deposit_general(moved, prog.transformed(T).sample(1000), gun)
    np.testing.assert_allclose(film, base, atol=1e-4 * base.max())


def test_fast_path_invariant_under_translation_and_quarter_turn():
    gun = GunModel(
        profile="double_beta", semi_axis_a_mm=120, semi_axis_b_mm=70, beta1=2.5, beta2=2.0
    )
    part = rect(300, 300, 18)
    samples = part.sample_surface(2.0)
    prog = straight_stroke([-80, 150, 218.0], [380, 150, 218.0], 300.0, fan_x=(0.0, 1.0, 0.0))
    base = deposit(samples, prog.sample(1000), gun)
    # rotate part and path 90 degrees about the part's centre
    T = np.eye(4)
    T[:3, :3] = [[0, -1, 0], [1, 0, 0], [0, 0, 1]]
    T[:3, 3] = [300, 0, 0]
    turned = deposit(samples, prog.transformed(T).sample(1000), gun)
    k = samples.grid.index.size
    g = samples.grid
    a = base[:k].reshape(g.ny, g.nx) if k == g.nx * g.ny else None
    b = turned[:k].reshape(g.ny, g.nx)
    # the turned film is the base film rotated by 90 degrees (square part, centred)
    np.testing.assert_allclose(np.rot90(a), b, atol=2e-3 * base.max())
    # and shifting part and path together changes nothing
    shifted = straight_stroke(
        [-80 + 37.0, 150 - 11.0, 218.0], [380 + 37.0, 150 - 11.0, 218.0], 300.0
    )
    part2 = rect(300, 300, 18)
    s2 = part2.sample_surface(2.0)
    s2 = type(s2)(
        s2.points_mm + [37.0, -11.0, 0],
        s2.normals,
        s2.area_mm2,
        s2.face_ids,
        s2.face_names,
        type(s2.grid)(s2.grid.x0_mm + 37.0, s2.grid.y0_mm - 11.0, 2.0, g.nx, g.ny, g.z_mm, g.index),
    )
    np.testing.assert_allclose(deposit(s2, shifted.sample(1000), gun), base, atol=1e-6 * base.max())
