"""Camera calibration: YAML round trip, refusals, and projection against the pinhole model."""

from __future__ import annotations

import math

import numpy as np
import pytest
import yaml

from recipes.errors import InvalidInputError
from sim.camera import CameraCalibration, look_at

from .conftest import WORLDS


@pytest.fixture(scope="module")
def cal() -> CameraCalibration:
    return CameraCalibration.load(WORLDS / "demo_camera.yaml")


def _valid() -> dict:
    return dict(
        width=640,
        height=480,
        K=[[800.0, 0.0, 320.5], [0.0, 810.0, 239.5], [0.0, 0.0, 1.0]],
        dist=[-0.1, 0.05, 0.001, -0.002, 0.01],
        T_world_camera=look_at([100.0, -50.0, 900.0], [0.0, 0.0, 0.0]).tolist(),
    )


def test_round_trip_keeps_every_value(tmp_path, cal) -> None:
    path = tmp_path / "camera.yaml"
    cal.save(path)
    again = CameraCalibration.load(path)
    assert (again.width, again.height) == (1280, 960)
    np.testing.assert_array_equal(again.K, cal.K)
    np.testing.assert_array_equal(again.dist, cal.dist)
    np.testing.assert_array_equal(again.T_world_camera, cal.T_world_camera)
    assert again.dumps() == cal.dumps()
    data = yaml.safe_load(path.read_text())
    assert data["K"][0] == [2400.0, 0.0, 643.7] and len(data["dist"]) == 5


def test_opencv_filestorage_matrices_are_read() -> None:
    data = _valid()
    data["K"] = dict(rows=3, cols=3, dt="d", data=sum(data["K"], []))
    data["dist"] = dict(rows=1, cols=5, dt="d", data=data["dist"])
    cal = CameraCalibration.from_dict(data)
    np.testing.assert_array_equal(cal.K, np.array(_valid()["K"]))
    assert cal.dist.shape == (5,)


@pytest.mark.parametrize(
    ("field", "value", "reason"),
    [
        ("K", [[0.0, 0.0, 320.0], [0.0, 800.0, 240.0], [0.0, 0.0, 1.0]], "singular"),
        ("K", [[800.0, 0.0, 320.0], [0.0, 0.0, 240.0], [0.0, 0.0, 1.0]], "singular"),
        ("K", [[800.0, 0.0, 320.0], [0.0, 800.0, 240.0]], "expected shape (3, 3), got (2, 3)"),
        ("K", [[800.0, 0.0, 320.0], [0.0, 800.0, 240.0], [0.0, 0.1, 1.0]], "must be [[fx"),
        ("dist", [0.1, 0.0, 0.0, 0.0], "expected shape (5,), got (4,)"),
        ("dist", [0.1, 0.0, "x", 0.0, 0.0], "expected numbers"),
        ("T_world_camera", np.eye(3).tolist(), "expected shape (4, 4), got (3, 3)"),
        ("T_world_camera", np.diag([1.0, 1.0, -1.0, 1.0]).tolist(), "reflection"),
        ("T_world_camera", (np.eye(4) * 2).tolist(), "last row"),
        ("width", 0, "positive integer"),
        ("height", 480.5, "positive integer"),
    ],
)
def test_bad_calibration_is_refused(field, value, reason) -> None:
    data = _valid()
    data[field] = value
    with pytest.raises(InvalidInputError) as info:
        CameraCalibration.from_dict(data, source="cam.yaml")
    assert info.value.field == field
    assert reason in info.value.reason
    assert info.value.source == "cam.yaml"


def test_missing_and_unknown_fields_are_named() -> None:
    data = _valid()
    del data["dist"]
    with pytest.raises(InvalidInputError, match="dist: is required"):
        CameraCalibration.from_dict(data)
    data = _valid() | {"fov": 60}
    with pytest.raises(InvalidInputError, match="fov: unknown field"):
        CameraCalibration.from_dict(data)


def test_projection_is_the_pinhole_model_with_plumb_bob_distortion() -> None:
    cal = CameraCalibration.from_dict(_valid())
    rng = np.random.default_rng(4)
    pts = rng.uniform([-200, -150, 0], [200, 150, 40], size=(50, 3))
    uv = cal.project(pts)
    # by hand: camera frame, normalise, distort, apply K
    pc = cal.to_camera(pts)
    x, y = pc[:, 0] / pc[:, 2], pc[:, 1] / pc[:, 2]
    k1, k2, p1, p2, k3 = cal.dist
    r2 = x * x + y * y
    radial = 1 + k1 * r2 + k2 * r2**2 + k3 * r2**3
    xd = x * radial + 2 * p1 * x * y + p2 * (r2 + 2 * x * x)
    yd = y * radial + p1 * (r2 + 2 * y * y) + 2 * p2 * x * y
    K = cal.K
    expected = np.column_stack([K[0, 0] * xd + K[0, 2], K[1, 1] * yd + K[1, 2]])
    np.testing.assert_allclose(uv, expected, atol=1e-9)


def test_pixel_rays_meet_the_plane_where_the_points_were(cal) -> None:
    rng = np.random.default_rng(5)
    uv = rng.uniform([0, 0], [cal.width - 1, cal.height - 1], size=(200, 2))
    for z in (0.0, 18.0):
        p = cal.pixel_to_plane(uv, z)
        np.testing.assert_allclose(p[:, 2], z, atol=1e-9)
        np.testing.assert_allclose(cal.project(p), uv, atol=1e-6)


def test_demo_camera_sees_half_a_millimetre_per_pixel_near_x_minus_2000(cal) -> None:
    assert cal.mm_per_px(0.0) == pytest.approx(0.5, abs=0.005)
    assert cal.mm_per_px(18.0) < cal.mm_per_px(0.0)
    view = cal.view_point_mm()
    assert view[0] == pytest.approx(-2000.0, abs=5.0) and abs(view[1]) < 5.0


def test_look_at_points_the_optical_axis_at_the_target() -> None:
    T = look_at([0.0, 0.0, 1000.0], [10.0, 0.0, 0.0])
    np.testing.assert_allclose(np.linalg.det(T[:3, :3]), 1.0)
    z = T[:3, 2]
    np.testing.assert_allclose(z, np.array([10.0, 0.0, -1000.0]) / math.hypot(10.0, 1000.0))
    assert T[0, 0] > 0.99  # image x along world x
