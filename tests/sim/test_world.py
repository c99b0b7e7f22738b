"""World files: the shipped worlds load with the right values; bad ones are refused with the
field path and the file."""

from __future__ import annotations

import numpy as np
import pytest

from recipes.errors import InvalidInputError
from sim.world import load_world

from .conftest import DEMO_WORLD, TWO_CELLS, write_world


def test_demo_world_resolves_cell_geometry(demo_world) -> None:
    assert demo_world.doc.name == "demo_cell"
    assert demo_world.doc.clock.step_s == 0.004
    (cell,) = demo_world.cells
    assert cell.id == "1"
    assert cell.urdf_path.name == "painter6.urdf" and cell.urdf_path.is_file()
    # belt from x = -3200 along +x: station at x = 0, camera view centre near x = -2000
    assert cell.station_s_mm == pytest.approx(3200.0)
    assert cell.camera_s_mm == pytest.approx(1200.0, abs=5.0)
    np.testing.assert_allclose(cell.T_world_base[:3, 3], [0.0, -1000.0, -500.0])
    np.testing.assert_allclose(cell.T_world_base[:3, 0], [0.0, 1.0, 0.0], atol=1e-12)
    assert cell.calibration.mm_per_px() == pytest.approx(0.5, abs=0.01)
    kinds = [f.kind for f in demo_world.doc.faults]
    assert kinds == ["gun_clog", "misplaced_part", "estop"]
    assert demo_world.doc.faults[0].flow_factor == 0.25


def test_two_cell_world_has_inline_calibration_and_world_wide_estop() -> None:
    world = load_world(TWO_CELLS)
    assert [c.id for c in world.cells] == ["1", "2"]
    cal = world.cell("2").calibration
    assert cal.K[0, 2] == 640.9
    assert world.cell("2").camera_s_mm == pytest.approx(1200.0, abs=5.0)
    estop = world.doc.faults[-1]
    assert estop.kind == "estop" and estop.cell is None and estop.time_s == 1500.0
    with pytest.raises(InvalidInputError, match="no cell '3'"):
        world.cell("3")


def _set(data: dict, path: str, value) -> None:
    keys = [int(k) if k.isdigit() else k for k in path.split(".")]
    node = data
    for k in keys[:-1]:
        node = node[k]
    node[keys[-1]] = value


BAD_WORLDS = [
    ("schema", "coatshare.world/v0", "schema", "expected 'coatshare.world/v1'"),
    ("cells.0.conveyor.speed_mm_s", -1, "cells[0].conveyor.speed_mm_s", "greater than 0"),
    ("cells.0.conveyor.entry_zone_mm", [0, 4500], "cells[0].conveyor", "zones must satisfy"),
    ("cells.0.robot.colour", "red", "cells[0].robot.colour", "Extra inputs"),
    ("cells.0.robot.urdf", "missing.urdf", "cells[0].robot.urdf", "no URDF at"),
    (
        "cells.0.robot.T_world_base",
        {"xyz_mm": [0, -2500, -500]},
        "cells[0].robot.T_world_base",
        "outside the booth",
    ),
    (
        "cells.0.station.T_world_part",
        {"xyz_mm": [0, 600, 0]},
        "cells[0].station.T_world_part",
        "not over the belt",
    ),
    (
        "cells.0.station.T_world_part",
        [[1, 0, 0, 0], [0, 2, 0, 0], [0, 0, 1, 0], [0, 0, 0, 1]],
        "cells[0].station.T_world_part",
        "not orthonormal",
    ),
    (
        "cells.0.station.T_world_part",
        {"rpy_deg": [5, 0, 0]},
        "cells[0].station.T_world_part",
        "must be level",
    ),
    ("cells.0.lighting.ambient", [1.2, 0.8], "cells[0].lighting.ambient", "low > high"),
    ("cells.0.feed.sequence.0", "chair_leg", "cells[0].feed.sequence[0]", "mesh part"),
    ("cells.0.feed.sequence.0", "sofa", "cells[0].feed.sequence[0]", "not found"),
    ("cells.0.feed.wrong_parts.1", "rect:width_mm=-3", "cells[0].feed.wrong_parts[1]", "> 0"),
    ("cells.0.feed.p_damaged", 0.99, "cells[0].feed", "must not exceed 1"),
    ("cells.0.camera.calibration", "nowhere.yaml", "cells[0].camera.calibration", "cannot read"),
    ("cells.0.gun", {"off_latency_s": 2.0}, "cells[0].gun.off_latency_s", "less than or equal"),
    ("faults.0.flow_factor", 1.5, "faults[0].gun_clog.flow_factor", "less than 1"),
    ("faults.0.kind", "meteor", "faults[0]", "does not match any of the expected tags"),
    ("faults.1.cell", "9", "faults[1].cell", "no cell '9'"),
    ("faults.2.time_s", None, "faults[2]", "needs time_s or part"),
    (
        "faults.1",
        {"kind": "misplaced_part", "time_s": 3.0, "dx_mm": 5},
        "faults[1].misplaced_part",
        "tied to a part",
    ),
]


@pytest.mark.parametrize(("path", "value", "field", "reason"), BAD_WORLDS)
def test_bad_world_is_refused_with_field_path(
    tmp_path, world_data, path, value, field, reason
) -> None:
    _set(world_data, path, value)
    world_file = write_world(tmp_path, world_data)
    with pytest.raises(InvalidInputError) as info:
        load_world(world_file)
    err = info.value
    assert err.field == field
    assert reason in err.reason
    assert err.source == str(world_file)
    assert str(err).startswith(f"{world_file}: {field}: ")


def test_inline_calibration_errors_name_the_matrix(tmp_path, world_data) -> None:
    cal = dict(
        width=1280,
        height=960,
        K=[[0.0, 0.0, 640.0], [0.0, 2400.0, 480.0], [0.0, 0.0, 1.0]],
        dist=[0, 0, 0, 0, 0],
        T_world_camera=np.eye(4).tolist(),
    )
    world_data["cells"][0]["camera"]["calibration"] = cal
    with pytest.raises(InvalidInputError) as info:
        load_world(write_world(tmp_path, world_data))
    assert info.value.field == "cells[0].camera.calibration.K"
    assert "singular" in info.value.reason


def test_camera_looking_elsewhere_is_refused(tmp_path, world_data) -> None:
    path = write_world(tmp_path, world_data)
    cal = (tmp_path / "demo_camera.yaml").read_text().replace("-2000.0", "1500.0")
    (tmp_path / "demo_camera.yaml").write_text(cal)
    with pytest.raises(InvalidInputError) as info:
        load_world(path)
    assert info.value.field == "cells[0].camera.calibration.T_world_camera"
    assert "not on the belt between the entry zone and the station" in info.value.reason


def test_duplicate_cell_ids_are_refused(tmp_path) -> None:
    import yaml

    data = yaml.safe_load(TWO_CELLS.read_text())
    data["cells"][1]["id"] = "1"
    with pytest.raises(InvalidInputError) as info:
        load_world(write_world(tmp_path, data))
    assert (info.value.field, info.value.reason) == ("cells[1].id", "duplicate id '1'")


def test_pose_matrix_and_rpy_forms_agree(tmp_path, world_data, demo_world) -> None:
    T = demo_world.cells[0].T_world_base
    world_data["cells"][0]["robot"]["T_world_base"] = T.tolist()
    world = load_world(write_world(tmp_path, world_data))
    np.testing.assert_allclose(world.cells[0].T_world_base, T, atol=1e-12)
    assert DEMO_WORLD.is_file()
