"""Cell configuration: defaults, overlay, station pose, refusals with the setting named."""

from __future__ import annotations

import math

import numpy as np
import pytest

from recipes.errors import InvalidInputError
from robot_nodes.controller import DEFAULT_CONFIG, load_cell_config


def test_defaults_load_and_describe_the_station() -> None:
    config = load_cell_config()
    assert config.cell_id == "c1" and config.namespace == "/cell_c1"
    T = config.T_base_part
    np.testing.assert_allclose(T[:3, 3], [0.7, -0.24, 0.5])
    np.testing.assert_allclose(T[:3, :3], np.eye(3))
    lo, hi = config.workspace_m
    assert (lo < hi).all()
    assert config.approval_key is None and config.recipe_dir is None
    assert config.limits.speed_tolerance == 0.02
    assert config.use_sim_time is False and config.lockstep.lookahead_s == 0.016
    assert load_cell_config(None, use_sim_time=True).use_sim_time  # --use-sim-time


def test_cell_file_overlays_defaults_and_resolves_paths(tmp_path) -> None:
    path = tmp_path / "c2.yaml"
    path.write_text(
        "schema: coatshare.cell/v1\ncell_id: c2\n"
        "station:\n  T_base_part:\n    xyz_mm: [800, 0, 450]\n    rpy_deg: [0, 0, 90]\n"
        "execution:\n  tracking_error_limit_mm: 5\n"
        "approval_key: keys/ops.pub\nrecipe_dir: recipes\n"
    )
    config = load_cell_config(path)
    assert config.cell_id == "c2"
    assert config.execution.tracking_error_limit_mm == 5
    assert config.execution.max_lag_s == 0.5  # from the defaults
    assert config.station.placement_tolerance_mm == 50  # merged key by key
    assert config.approval_key == tmp_path / "keys" / "ops.pub"
    assert config.recipe_dir == tmp_path / "recipes"
    R = config.T_base_part[:3, :3]
    np.testing.assert_allclose(R @ [1, 0, 0], [0, 1, 0], atol=1e-12)  # yaw 90: x -> y
    assert load_cell_config(path, cell_id="c3").cell_id == "c3"


def test_rpy_is_urdf_convention() -> None:
    config = load_cell_config(
        None, station={"T_base_part": {"xyz_mm": [0, 0, 0], "rpy_deg": [90, 0, 0]}}
    )
    R = config.T_base_part[:3, :3]
    c = math.cos(math.radians(90))
    np.testing.assert_allclose(R, [[1, 0, 0], [0, c, -1], [0, 1, c]], atol=1e-12)


@pytest.mark.parametrize(
    ("text", "field"),
    [
        ("cell_id: 'c-1'\n", "cell_id"),
        ("execution:\n  tracking_error_limit_mm: -1\n", "execution.tracking_error_limit_mm"),
        ("workspace:\n  min_mm: [0, 0, 0]\n  max_mm: [0, 1, 1]\n", "workspace"),
        ("interlocks:\n  required: [estop, sprinkler]\n", "interlocks.required"),
        ("limits:\n  speed_deviation_policy: ignore\n", "limits.speed_deviation_policy"),
        ("unknown_key: 1\n", "unknown_key"),
        ("schema: coatshare.cell/v9\n", "schema"),
        ("lockstep:\n  lookahead_s: -0.01\n", "lockstep.lookahead_s"),
    ],
)
def test_bad_settings_are_refused_naming_the_setting(tmp_path, text: str, field: str) -> None:
    path = tmp_path / "cell.yaml"
    path.write_text(text)
    with pytest.raises(InvalidInputError) as err:
        load_cell_config(path)
    assert err.value.field.startswith(field)


def test_default_file_is_shipped() -> None:
    assert DEFAULT_CONFIG.is_file()
