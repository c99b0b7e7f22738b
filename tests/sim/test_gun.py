"""The film from actual joint positions: equal to the spray core's for the same motion, and
faults (clog, pressure loss, e-stop) where and when they happen."""

from __future__ import annotations

import math

import numpy as np
import pytest

from recipes.deposition import deposit, deposit_general
from recipes.finish import builtin_finish
from recipes.gun import BENCHMARK_GUN
from recipes.program import MOVE, STROKE, Program
from recipes.simulate import predict
from sim.faults import FaultInjector, parse_fault_command
from sim.gun import deposit_snapped, gun_trajectory, spray_from_joints
from sim.robot import RobotSim

from .helpers import T_WORLD_DOOR, program_of, raster_waypoints, run_on_robot

FINISH = builtin_finish("benchmark")
SPEED = 248.55
#: the planner's raster for the door: 4 strokes at 112 mm pitch, 32 mm inset, 49.5 overtravel
RASTER = raster_waypoints([32.0, 144.0, 256.0, 368.0], -49.5, 649.5, 218.0)


@pytest.fixture(scope="module")
def robot(demo_cell):
    with RobotSim.for_cell(demo_cell) as sim:
        yield sim


@pytest.fixture(scope="module")
def samples(door):
    return door.sample_surface(2.0)


@pytest.fixture(scope="module")
def raster_run(demo_cell):
    return run_on_robot(RASTER, SPEED, demo_cell.T_world_base)


@pytest.fixture(scope="module")
def raster_film(robot, raster_run, door, samples):
    r = raster_run
    return spray_from_joints(
        robot,
        r.t_s,
        r.q_rad,
        r.trigger,
        door,
        T_WORLD_DOOR,
        BENCHMARK_GUN,
        FINISH,
        samples=samples,
    )


def test_straight_stroke_from_joint_states_equals_the_direct_film(
    robot, demo_cell, door, samples
) -> None:
    stroke = raster_waypoints([200.0], -100.0, 700.0, 218.0, lead_mm=100.0)
    run = run_on_robot(stroke, 250.0, demo_cell.T_world_base)
    (a, b), = run.windows  # fmt: skip
    assert b - a == pytest.approx(800.0 / 250.0, rel=1e-6)
    res = spray_from_joints(
        robot,
        run.t_s,
        run.q_rad,
        run.trigger,
        door,
        T_WORLD_DOOR,
        BENCHMARK_GUN,
        FINISH,
        samples=samples,
    )
    direct = deposit(samples, program_of(stroke, 250.0).sample(1000.0), BENCHMARK_GUN)
    assert direct.max() > 100.0
    assert np.abs(res.wet_um - direct).max() < 0.01 * direct.max()
    assert res.metrics.paint_ml == pytest.approx(250.0 / 60.0 * 3.2, rel=1e-6)


def test_raster_from_joint_states_matches_the_recipe_prediction(raster_film, door, samples):
    pred = predict(door, program_of(RASTER, SPEED), BENCHMARK_GUN, FINISH, samples=samples)
    k = samples.grid.index.size
    # strokes 2-4 switch on within one 4 ms joint-state step of the planned instant
    assert np.abs(raster_film.wet_um[:k] - pred.wet_um[:k]).max() < 0.01 * pred.wet_um.max()
    got, want = raster_film.metrics_dict(), pred.metrics.to_dict()
    assert list(got) == list(want) and list(got["faces"]["top"]) == list(want["faces"]["top"])
    assert got["faces"]["top"]["within_tol_pct"] == pytest.approx(
        want["faces"]["top"]["within_tol_pct"], abs=0.5
    )
    assert got["faces"]["top"]["within_tol_pct"] > 98.0
    assert got["paint_ml"] == pytest.approx(want["paint_ml"], rel=2e-3)
    top = raster_film.top_map_um()
    assert top.shape == (200, 300) and np.isfinite(top).all()


def test_gun_clog_leaves_a_thin_band_and_fails_qc(robot, raster_run, raster_film, door, samples):
    r = raster_run
    a, b = r.windows[1]  # the second stroke, y = 144 mm, running from x = 649.5 to -49.5
    mid = 0.5 * (a + b)
    clog = dict(kind="gun_clog", cell="1", time_s=mid - 0.2, duration_s=0.4, flow_factor=0.25)
    faults = FaultInjector([parse_fault_command(clog)])
    res = spray_from_joints(
        robot,
        r.t_s,
        r.q_rad,
        r.trigger,
        door,
        T_WORLD_DOOR,
        BENCHMARK_GUN,
        FINISH,
        samples=samples,
        faults=faults,
        cell_id="1",
    )
    ratio = res.top_map_um() / raster_film.top_map_um()
    grid = samples.grid
    x = grid.x0_mm + grid.spacing_mm * np.arange(grid.nx)
    y = grid.y0_mm + grid.spacing_mm * np.arange(grid.ny)
    iy, ix = np.unravel_index(np.argmin(ratio), ratio.shape)
    # the thinnest spot: mid-stroke (the 0.4 s window covers x = 250..350 mm) on its line
    assert ratio.min() < 0.6
    assert 250.0 < x[ix] < 350.0 and 120.0 < y[iy] < 170.0
    # a band, not a blanket: untouched beyond the footprint's reach of that window
    far_y = np.abs(y - 144.0) > 105.0
    far_x = np.abs(x - 300.0) > 155.0
    np.testing.assert_allclose(ratio[far_y, :], 1.0, atol=1e-9)
    np.testing.assert_allclose(ratio[:, far_x], 1.0, atol=1e-9)
    # QC: the face falls out of tolerance; 0.4 s at a quarter flow saves 1.25 ml
    before = raster_film.metrics.faces["top"].within_tol_pct
    after = res.metrics.faces["top"].within_tol_pct
    assert before > 98.0 and after < before - 5.0
    assert raster_film.metrics.paint_ml - res.metrics.paint_ml == pytest.approx(
        250.0 / 60.0 * 0.4 * 0.75, rel=1e-3
    )


def test_pressure_loss_stops_the_paint_for_its_window(robot, raster_run, door, samples):
    r = raster_run
    a, _ = r.windows[0]
    faults = FaultInjector()
    faults.inject(
        parse_fault_command(dict(kind="pressure_loss", time_s=a + 1.0, duration_s=0.5)), 0.0
    )
    res = spray_from_joints(
        robot,
        r.t_s,
        r.q_rad,
        r.trigger,
        door,
        T_WORLD_DOOR,
        BENCHMARK_GUN,
        FINISH,
        samples=samples,
        faults=faults,
        cell_id="1",
    )
    t = res.traj.t_s
    assert not res.traj.trigger[(t > a + 1.0) & (t < a + 1.5)].any()
    assert res.traj.trigger[(t > a + 0.5) & (t < a + 0.99)].all()
    full = sum(b - a for a, b in r.windows)
    assert res.traj.spray_time_s == pytest.approx(full - 0.5, abs=0.0041)


def test_estop_mid_stroke_turns_the_gun_off_from_the_next_control_step() -> None:
    t = np.arange(0.0, 1.0, 0.004)
    T = np.tile(np.eye(4), (len(t), 1, 1))
    T[:, :3, :3] = np.diag([1.0, -1.0, -1.0])  # spray axis down
    T[:, 0, 3] = 250.0 * t
    T[:, 2, 3] = 218.0
    faults = FaultInjector()
    t_estop = 0.5013  # between the control steps at 0.500 and 0.504
    faults.inject(parse_fault_command({"kind": "estop"}), now_s=t_estop)
    traj = gun_trajectory(
        t, T, np.ones(len(t), dtype=bool), spray_allowed=lambda s: faults.spray_allowed("1", s)
    )
    on = traj.t_s[traj.trigger]
    assert on.max() == pytest.approx(0.504 - 0.0005, abs=1e-9)  # last sub-sample before 0.504
    assert not traj.trigger[traj.t_s > 0.504].any()
    assert traj.spray_time_s == pytest.approx(0.504, abs=1e-9)


def test_near_normal_guns_snap_to_the_fast_path_within_half_a_percent(samples) -> None:
    k = samples.grid.index.size
    top = samples.subset(np.arange(len(samples)) < k)
    for azimuth in (45.0, 90.0):
        a, b = math.radians(1.0), math.radians(azimuth)
        axis = np.array([math.sin(a) * math.cos(b), math.sin(a) * math.sin(b), -math.cos(a)])
        fan = np.cross(axis, [1.0, 0.0, 0.0])
        fan /= np.linalg.norm(fan)
        prog = Program(
            np.array([[-100.0, 200.0, 218.0], [700.0, 200.0, 218.0]]),
            np.tile(axis, (2, 1)),
            np.tile(fan, (2, 1)),
            np.array([250.0, 250.0]),
            np.array([False, True]),
            np.array([MOVE, STROKE]),
        )
        traj = prog.sample(1000.0)
        exact = deposit_general(top, traj, BENCHMARK_GUN)
        fast = deposit_snapped(samples, traj, BENCHMARK_GUN, snap_tol_deg=1.0)[:k]
        assert np.abs(fast - exact).max() < 0.005 * exact.max()
    # beyond the tolerance the exact path is taken
    slow = deposit_snapped(samples, traj, BENCHMARK_GUN, snap_tol_deg=0.5)[:k]
    np.testing.assert_array_equal(slow, exact)
