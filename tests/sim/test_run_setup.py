"""What a production run writes before it starts anything: the approved recipes, the key and
each cell's controller configuration; and the edge's SprayProgram, against the controller's
own builder."""

from __future__ import annotations

import numpy as np
import pytest

from recipes.approval import ApprovalVerifier
from robot_nodes.bus import dds_types
from robot_nodes.controller import (
    RecipeStore,
    load_cell_config,
    program_message_from_recipe,
    validate_program,
)
from robot_nodes.convert import pose_to_matrix
from sim.cell_setup import nominal_T_world_part, program_message, recipe_id_for
from sim.frames import invert
from sim.run import ProductionRun, RunOptions
from sim.world import load_world
from tests.robot_nodes.cell_factories import raster_program, recipe_doc

from .conftest import TWO_CELLS


def test_recipe_ids_are_safe_for_files_and_ids() -> None:
    assert recipe_id_for("door", "benchmark") == "door-benchmark"
    assert recipe_id_for("rect:width_mm=560,height_mm=380", "clear-satin") == (
        "rect_w560_h380-clear-satin"
    )


@pytest.fixture
def prepared(tmp_path):
    docs = {
        spec: recipe_doc(raster_program(), recipe_id=recipe_id_for(spec, "benchmark"))
        for spec in ("door", "rect:width_mm=560,height_mm=380", "cutout_panel",
                     "rect:width_mm=500,height_mm=350,corner_radius_mm=20")
    }  # fmt: skip
    run = ProductionRun(TWO_CELLS, tmp_path / "report", RunOptions(parts=3), recipes=docs)
    run.prepare()
    return run


def test_prepare_writes_approved_recipes_key_and_cell_configs(prepared) -> None:
    run = prepared
    world = load_world(TWO_CELLS)
    assert run.expected_specs() == [
        "door", "rect:width_mm=560,height_mm=380", "cutout_panel",
        "rect:width_mm=500,height_mm=350,corner_radius_mm=20",
    ]  # fmt: skip
    store = RecipeStore(run.setup_dir / "recipes")
    assert len(store) == 4
    verifier = ApprovalVerifier.from_file(run.setup_dir / "approval.pub")
    for doc in run.docs.values():
        assert doc.approval.status == "approved" and verifier.verify_recipe(doc)
        assert store.get(doc.id, doc.version) is not None
    for cell in world.cells:
        config = load_cell_config(run.setup_dir / f"cell_{cell.id}.yaml")
        assert config.cell_id == cell.id and config.namespace == f"/cell_{cell.id}"
        first = cell.spec.feed.sequence[0]
        want = invert(cell.T_world_base) @ nominal_T_world_part(cell, first)
        want[:3, 3] /= 1000.0  # the controller's is in metres
        np.testing.assert_allclose(config.T_base_part, want, atol=1e-9)
        assert config.gun.on_latency_s == cell.spec.gun.on_latency_s
        assert config.recipe_dir == run.setup_dir / "recipes"
    # cell 1 feeds doors and 560 x 380 fronts: their reference points lie 20 mm and
    # 10 mm apart, so the placement tolerance covers both
    config1 = load_cell_config(run.setup_dir / "cell_1.yaml")
    assert config1.station.placement_tolerance_mm == pytest.approx(50.0 + np.hypot(20, 10))


def test_the_edges_program_is_the_controllers_and_is_accepted(prepared) -> None:
    run = prepared
    doc = run.docs["door"]
    cell = load_world(TWO_CELLS).cell("1")
    T_world_part = nominal_T_world_part(cell, "door")
    T_world_part[:3, 3] += [3.0, -4.0, 0.0]  # the part lies a little off its place
    T_base_part = invert(cell.T_world_base) @ T_world_part
    ours = program_message(
        dds_types.get_type, doc, program_id="p1", part_id="1-0000",
        T_base_part=T_base_part, key_id=run._key.key_id,
    )  # fmt: skip
    T_m = T_base_part.copy()
    T_m[:3, 3] /= 1000.0
    theirs = program_message_from_recipe(
        dds_types.get_type, doc, program_id="p1",
        signature=bytes.fromhex(doc.approval.signature), signing_key_id=run._key.key_id,
        part_id="1-0000", frame_id="base_link", T_frame_part=T_m,
    )  # fmt: skip
    for a, b in zip(ours.waypoints, theirs.waypoints, strict=True):
        np.testing.assert_allclose(pose_to_matrix(a), pose_to_matrix(b), atol=1e-12)
    for field in ("tool_speed_mm_s", "trigger", "signature", "recipe_hash", "frame_id"):
        assert list(getattr(ours, field)) == list(getattr(theirs, field)), field
    config = load_cell_config(run.setup_dir / "cell_1.yaml")
    verifier = ApprovalVerifier.from_file(run.setup_dir / "approval.pub")
    accepted = validate_program(
        ours, config, verifier, RecipeStore(run.setup_dir / "recipes"), now_wall_ns=None
    )
    assert accepted is not None
