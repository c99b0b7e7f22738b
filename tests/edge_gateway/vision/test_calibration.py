"""The edge's calibration reader: the simulator's files, OpenCV's model, and bad files."""

from __future__ import annotations

import cv2
import numpy as np
import pytest
import yaml

from edge_gateway.vision import CameraModel
from recipes.errors import InvalidInputError

from .conftest import DEMO_CAMERA


def _points(seed: int, n: int = 500) -> np.ndarray:
    rng = np.random.default_rng(seed)
    return np.column_stack(
        [rng.uniform(-2300, -1700, n), rng.uniform(-230, 230, n), rng.uniform(0, 60, n)]
    )


def test_reads_the_simulator_file_and_projects_as_the_simulator(camera, calibration) -> None:
    np.testing.assert_array_equal(camera.K, calibration.K)
    pts = _points(1)
    np.testing.assert_allclose(camera.project(pts), calibration.project(pts), atol=1e-6)
    uv = calibration.project(pts)
    for z in (0.0, 18.0):
        np.testing.assert_allclose(
            camera.pixel_to_plane(uv, z), calibration.pixel_to_plane(uv, z)[:, :2], atol=1e-6
        )
    assert camera.mm_per_px() == pytest.approx(calibration.mm_per_px(), rel=1e-9)


def test_back_projection_inverts_projection(camera) -> None:
    pts = _points(2)
    uv = camera.project(pts)
    np.testing.assert_allclose(camera.pixel_to_plane(uv, pts[:, 2]), pts[:, :2], atol=1e-6)


@pytest.mark.parametrize(
    "dist",
    [
        [0.1, -0.2, 0.001, -0.002],
        [-0.08, 0.12, 0.0004, -0.0003, 0.01],
        [0.1, -0.2, 0.001, 0.002, 0.05, 0.01, 0.02, 0.03],
        [0.1, -0.2, 0.001, 0.002, 0.05, 0.01, 0.02, 0.03, 0.001, 0.0, -0.001, 0.0],
    ],
)
def test_projection_is_opencvs(camera, dist) -> None:
    cam = CameraModel(1280, 960, camera.K, np.array(dist), camera.T_world_camera)
    pts = _points(3)
    R_cw = camera.T_world_camera[:3, :3].T
    t_cw = -R_cw @ camera.T_world_camera[:3, 3]
    uv, _ = cv2.projectPoints(pts.reshape(-1, 1, 3), cv2.Rodrigues(R_cw)[0], t_cw, cam.K, cam.dist)
    np.testing.assert_allclose(cam.project(pts), uv.reshape(-1, 2), atol=1e-6)


def test_reads_opencv_filestorage(tmp_path, camera) -> None:
    def mat(a: np.ndarray) -> str:
        a = np.atleast_2d(a)
        data = ", ".join(repr(float(v)) for v in a.ravel())
        rows, cols = a.shape
        return f"!!opencv-matrix\n   rows: {rows}\n   cols: {cols}\n   dt: d\n   data: [ {data} ]"

    text = (
        "%YAML:1.0\n---\nwidth: 1280\nheight: 960\n"
        f"K: {mat(camera.K)}\ndist: {mat(camera.dist)}\n"
        f"T_world_camera: {mat(camera.T_world_camera)}\n"
    )
    path = tmp_path / "cv.yaml"
    path.write_text(text)
    cam = CameraModel.load(path)
    np.testing.assert_allclose(cam.K, camera.K)
    np.testing.assert_allclose(cam.dist, camera.dist)
    np.testing.assert_allclose(cam.T_world_camera, camera.T_world_camera)


def _data() -> dict:
    return yaml.safe_load(DEMO_CAMERA.read_text())


@pytest.mark.parametrize(
    ("change", "field", "words"),
    [
        (dict(K=[[2400.0, 0.0, 640.0], [0.0, 2400.0, 480.0]]), "K", "shape (3, 3)"),
        (dict(K=[[0.0, 0.0, 640.0], [0.0, 0.0, 480.0], [0.0, 0.0, 1.0]]), "K", "singular"),
        (dict(K=[[2400.0, 0.0, 640.0], [0.0, -5.0, 480.0], [0.0, 0.0, 1.0]]), "K", "singular"),
        (dict(K=[[2400.0, 0.0, 640.0], [0.0, 2400.0, 480.0], [0.0, 0.0, 0.0]]), "K", "[0, 0, 1]"),
        (dict(dist=[0.1, 0.2, 0.3]), "dist", "got 3"),
        (dict(T_world_camera=np.eye(3).tolist()), "T_world_camera", "shape (4, 4)"),
        (dict(T_world_camera=(2 * np.eye(4)).tolist()), "T_world_camera", "last row"),
        (
            dict(T_world_camera=np.diag([1.0, 1.0, -1.0, 1.0]).tolist()),
            "T_world_camera",
            "reflection",
        ),
        (dict(width=0), "width", "positive integer"),
        (dict(K="not a matrix"), "K", "numbers"),
        (dict(K={"rows": 3, "cols": 3, "data": [1, 2]}), "K", "rows x cols"),
    ],
)
def test_bad_calibrations_name_the_field(tmp_path, change, field, words) -> None:
    data = _data()
    data.update(change)
    path = tmp_path / "cam.yaml"
    path.write_text(yaml.safe_dump(data))
    with pytest.raises(InvalidInputError) as err:
        CameraModel.load(path)
    assert err.value.field == field
    assert words in err.value.reason
    assert str(path) in str(err.value)


def test_missing_unreadable_and_non_yaml_files(tmp_path) -> None:
    data = _data()
    del data["dist"]
    with pytest.raises(InvalidInputError, match="dist: is required"):
        CameraModel.from_dict(data)
    with pytest.raises(InvalidInputError, match="cannot read"):
        CameraModel.load(tmp_path / "nope.yaml")
    bad = tmp_path / "bad.yaml"
    bad.write_text("K: [1, 2\n")
    with pytest.raises(InvalidInputError, match="not YAML"):
        CameraModel.load(bad)
    bad.write_text("- 1\n- 2\n")
    with pytest.raises(InvalidInputError, match="expected a mapping"):
        CameraModel.load(bad)
