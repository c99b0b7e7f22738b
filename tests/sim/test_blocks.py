"""The simulator's camera.capture: the calibration moves with the belt to the station."""

import numpy as np
import pytest

from pipelines.catalog import CaptureParams
from recipes.errors import InvalidInputError
from sim.blocks import CapturedFrame, capture_block


def test_capture_expresses_the_camera_in_the_belt_frame_at_the_station(demo_cell):
    calib = demo_cell.calibration.to_dict()
    image = np.zeros((4, 6), dtype=np.uint8)
    frame = CapturedFrame(image, calib, (2000.0, 0.0))
    out = capture_block(lambda: frame)({}, CaptureParams())
    assert out["image"] is image
    T0 = np.array(calib["T_world_camera"])
    T1 = np.array(out["calibration"]["T_world_camera"])
    np.testing.assert_allclose(T1[:3, 3] - T0[:3, 3], [2000.0, 0.0, 0.0])
    np.testing.assert_array_equal(T1[:3, :3], T0[:3, :3])
    assert out["calibration"]["K"] == calib["K"]


def test_capture_without_a_frame_fails_the_block():
    with pytest.raises(InvalidInputError, match="camera 'top'"):
        capture_block(lambda: None)({}, CaptureParams())
