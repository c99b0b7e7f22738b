"""Acceptance of SprayPrograms: every refusal with its fault code and a reason that names it."""

from __future__ import annotations

import math
import time
from collections.abc import Callable
from typing import Any

import numpy as np
import pytest
from scipy.spatial.transform import Rotation

from recipes.approval import ApprovalVerifier, sign_approval
from recipes.document import RecipeDoc
from robot_nodes.controller import (
    CellConfig,
    FaultCode,
    ProgramRejected,
    RecipeStore,
    recipe_tool_poses,
    validate_program,
)

from .cell_factories import KEY, OTHER_KEY, cell_config, program_msg, signed_recipe


@pytest.fixture(scope="module")
def doc() -> RecipeDoc:
    return signed_recipe()


@pytest.fixture(scope="module")
def config() -> CellConfig:
    return cell_config()


@pytest.fixture
def store(doc: RecipeDoc) -> RecipeStore:
    s = RecipeStore()
    s.add(doc)
    return s


VERIFIER = ApprovalVerifier(KEY.public_key_hex)


def check(msg: Any, config: CellConfig, store: RecipeStore, verifier=VERIFIER):
    return validate_program(msg, config, verifier, store, now_wall_ns=time.time_ns())


def test_signed_program_in_the_part_frame_is_accepted(doc, config, store) -> None:
    accepted = check(program_msg(doc), config, store)
    assert accepted.program_id == "prog-1" and accepted.recipe_id == doc.id
    assert accepted.content_hash == doc.content_hash
    np.testing.assert_allclose(accepted.T_base_part, config.T_base_part)
    expected = config.T_base_part @ recipe_tool_poses(doc.program.to_program())
    np.testing.assert_allclose(accepted.path.T_base_tcp, expected, atol=1e-12)
    assert accepted.path.trigger[0] == 0 and accepted.recipe_cycle_s > 0


def test_program_fitted_in_the_base_frame_is_accepted_within_tolerance(doc, config, store) -> None:
    T_fit = config.T_base_part.copy()
    T_fit[:3, :3] = Rotation.from_euler("z", 3, degrees=True).as_matrix() @ T_fit[:3, :3]
    T_fit[:3, 3] += [0.012, -0.02, 0.004]
    msg = program_msg(doc, frame_id="base_link", T_frame_part=T_fit)
    accepted = check(msg, config, store)
    np.testing.assert_allclose(accepted.T_base_part, T_fit, atol=1e-6)


def _keep_waypoints(n: int) -> Callable[[Any], None]:
    def apply(msg: Any) -> None:
        msg.waypoints = msg.waypoints[:n]
        msg.tool_speed_mm_s = msg.tool_speed_mm_s[:n]
        msg.trigger = msg.trigger[:n]

    return apply


def _set_pose(i: int, **kw: float) -> Callable[[Any], None]:
    def apply(msg: Any) -> None:
        for k, v in kw.items():
            obj = msg.waypoints[i].position if k in "xyz" else msg.waypoints[i].orientation
            setattr(obj, k.lstrip("q"), v)

    return apply


CASES: list[tuple[str, Callable[[Any], None], FaultCode, str]] = [
    ("empty id", lambda m: setattr(m, "program_id", ""), FaultCode.PROGRAM_MALFORMED, "empty"),
    ("no waypoints", _keep_waypoints(0), FaultCode.PROGRAM_EMPTY, "no waypoints"),
    ("one waypoint", _keep_waypoints(1), FaultCode.PROGRAM_EMPTY, "1 waypoint"),
    ("lengths", lambda m: setattr(m, "trigger", m.trigger[:-1]), FaultCode.PROGRAM_MALFORMED,
     "trigger has"),
    ("nan", _set_pose(3, x=math.nan), FaultCode.POSE_NOT_FINITE, "waypoints[3]"),
    ("inf", _set_pose(5, qw=math.inf), FaultCode.POSE_NOT_FINITE, "waypoints[5]"),
    ("quaternion", _set_pose(2, qx=0.5, qy=0.5, qz=0.5, qw=0.9), FaultCode.POSE_INVALID,
     "waypoints[2].orientation"),
    ("zero speed", lambda m: m.tool_speed_mm_s.__setitem__(4, 0.0), FaultCode.SPEED_INVALID,
     "tool_speed_mm_s[4]"),
    ("nan speed", lambda m: m.tool_speed_mm_s.__setitem__(4, math.nan), FaultCode.SPEED_INVALID,
     "tool_speed_mm_s[4]"),
    ("nan approach speed", lambda m: m.tool_speed_mm_s.__setitem__(0, math.nan),
     FaultCode.SPEED_INVALID, "tool_speed_mm_s[0] = nan (the approach to waypoints[0])"),
    ("inf approach speed", lambda m: m.tool_speed_mm_s.__setitem__(0, math.inf),
     FaultCode.SPEED_INVALID, "tool_speed_mm_s[0] = inf (the approach to waypoints[0])"),
    ("negative approach speed", lambda m: m.tool_speed_mm_s.__setitem__(0, -5.0),
     FaultCode.SPEED_INVALID, "tool_speed_mm_s[0] = -5.0 (the approach to waypoints[0])"),
    ("over speed", lambda m: m.tool_speed_mm_s.__setitem__(2, 1600.0), FaultCode.SPEED_LIMIT,
     "exceeds the cell's limit of 1500"),
    ("trigger on approach", lambda m: m.trigger.__setitem__(0, True), FaultCode.PROGRAM_MALFORMED,
     "trigger[0]"),
    ("unsigned", lambda m: setattr(m, "signature", []), FaultCode.SIGNATURE_MISSING, "not signed"),
    ("other key id", lambda m: setattr(m, "signing_key_id", OTHER_KEY.key_id),
     FaultCode.SIGNING_KEY_UNKNOWN, OTHER_KEY.key_id),
    ("bad signature", lambda m: m.signature.__setitem__(0, m.signature[0] ^ 1),
     FaultCode.SIGNATURE_INVALID, "does not verify"),
    ("short signature", lambda m: setattr(m, "signature", m.signature[:40]),
     FaultCode.SIGNATURE_INVALID, "40 bytes"),
    ("version changed", lambda m: setattr(m, "recipe_version", m.recipe_version + 1),
     FaultCode.SIGNATURE_INVALID, "does not verify"),
    ("bad hash text", lambda m: setattr(m, "recipe_hash", "xyz"), FaultCode.PROGRAM_MALFORMED,
     "recipe_hash"),
    ("tampered speed", lambda m: m.tool_speed_mm_s.__setitem__(2, m.tool_speed_mm_s[2] * 1.2),
     FaultCode.PROGRAM_MISMATCH, "tool_speed_mm_s[2]"),
    ("tampered trigger", lambda m: m.trigger.__setitem__(4, True), FaultCode.PROGRAM_MISMATCH,
     "trigger[4]"),
    ("tampered pose", _set_pose(6, z=0.25), FaultCode.PROGRAM_MISMATCH,
     "waypoints[6] is 32.00 mm"),
    ("dropped waypoint", _keep_waypoints(-1), FaultCode.PROGRAM_MISMATCH, "waypoints, recipe"),
    ("frame", lambda m: setattr(m, "frame_id", "world"), FaultCode.FRAME_UNKNOWN, "'world'"),
    ("stale", lambda m: setattr(m.header.stamp, "sec", m.header.stamp.sec - 3600),
     FaultCode.PROGRAM_STALE, "3600 s ago"),
]  # fmt: skip


@pytest.mark.parametrize(("case", "mutate", "code", "text"), CASES, ids=[c[0] for c in CASES])
def test_bad_programs_are_refused_with_code_and_reason(
    doc, config, store, case: str, mutate, code: FaultCode, text: str
) -> None:
    msg = program_msg(doc)
    mutate(msg)
    with pytest.raises(ProgramRejected) as err:
        check(msg, config, store)
    assert err.value.code is code, err.value.text
    assert text in err.value.text


def test_approach_speed_zero_is_accepted(doc, config, store) -> None:
    """Entry 0 describes the approach, which the cell makes in joint space: 0 (as densified
    paths carry it) is a valid value, not a refusal."""
    msg = program_msg(doc)
    msg.tool_speed_mm_s[0] = 0.0
    accepted = check(msg, config, store)
    assert accepted.path.speed_mm_s[0] == 0.0
    np.testing.assert_allclose(
        accepted.path.speed_mm_s[1:], doc.program.to_program().speed_mm_s[1:]
    )


def test_unknown_recipe_and_version(doc, config) -> None:
    empty = RecipeStore()
    with pytest.raises(ProgramRejected) as err:
        check(program_msg(doc), config, empty)
    assert err.value.code is FaultCode.RECIPE_UNKNOWN
    assert f"no recipe '{doc.id}' v1" in err.value.text
    # a correctly signed version the cell does not hold
    newer = doc.model_copy(update={"version": 2}).with_hash()
    store = RecipeStore()
    store.add(doc)
    msg = program_msg(newer, signature=bytes.fromhex(
        sign_approval(KEY.signing_key_hex, newer.id, 2, newer.content_hash)))  # fmt: skip
    with pytest.raises(ProgramRejected) as err:
        check(msg, config, store)
    assert err.value.code is FaultCode.RECIPE_UNKNOWN and "has versions [1]" in err.value.text


def test_signed_hash_that_differs_from_the_cells_copy(doc, config, store) -> None:
    other_hash = "sha256:" + "12" * 32
    msg = program_msg(doc, signature=bytes.fromhex(
        sign_approval(KEY.signing_key_hex, doc.id, doc.version, other_hash)))  # fmt: skip
    msg.recipe_hash = other_hash.removeprefix("sha256:")
    with pytest.raises(ProgramRejected) as err:
        check(msg, config, store)
    assert err.value.code is FaultCode.RECIPE_HASH_MISMATCH


def test_no_approval_key_refuses_everything(doc, config, store) -> None:
    with pytest.raises(ProgramRejected) as err:
        check(program_msg(doc), config, store, verifier=None)
    assert err.value.code is FaultCode.NO_APPROVAL_KEY


def test_placement_too_far_from_the_station(doc, config, store) -> None:
    T_fit = config.T_base_part.copy()
    T_fit[:3, 3] += [0.08, 0.0, 0.0]
    msg = program_msg(doc, frame_id="base_link", T_frame_part=T_fit)
    with pytest.raises(ProgramRejected) as err:
        check(msg, config, store)
    assert err.value.code is FaultCode.PLACEMENT_OUT_OF_TOLERANCE
    assert "80.0 mm" in err.value.text


def test_distorted_base_frame_program_is_not_the_recipe(doc, config, store) -> None:
    T_fit = config.T_base_part.copy()
    msg = program_msg(doc, frame_id="base_link", T_frame_part=T_fit)
    for w in msg.waypoints:  # stretched by 2 %: no rigid placement explains it
        w.position.x = T_fit[0, 3] + 1.02 * (w.position.x - T_fit[0, 3])
    with pytest.raises(ProgramRejected) as err:
        check(msg, config, store)
    assert err.value.code is FaultCode.PROGRAM_MISMATCH


def test_workspace_box(doc, store) -> None:
    config = cell_config(workspace={"min_mm": [300, -900, 750], "max_mm": [1600, 900, 1500]})
    with pytest.raises(ProgramRejected) as err:
        check(program_msg(doc), config, store)
    assert err.value.code is FaultCode.OUTSIDE_WORKSPACE
    assert "waypoints[0]" in err.value.text and "718.0) mm" in err.value.text


def test_recipe_store_reads_a_folder_and_skips_broken_files(tmp_path, doc) -> None:
    from recipes.document import save

    save(doc, tmp_path / "a.yaml")
    (tmp_path / "broken.yaml").write_text("schema: [")
    store = RecipeStore(tmp_path)
    assert len(store) == 1 and store.get(doc.id, 1) is not None
    assert store.get(doc.id, 2) is None
    newer = doc.model_copy(update={"version": 2}).with_hash()
    save(newer, tmp_path / "b.yaml")  # synced later: found on the next miss
    assert store.get(doc.id, 2) is not None


def test_a_recipe_from_the_planner_passes_acceptance(config) -> None:
    from recipes.approval import approve_recipe

    from .cell_factories import planned_recipe

    doc = approve_recipe(
        planned_recipe("rect:width_mm=200,height_mm=120"), KEY.signing_key_hex, "op"
    )
    store = RecipeStore()
    store.add(doc)
    accepted = check(program_msg(doc), config, store)
    assert accepted.path.n_waypoints == len(doc.program.waypoints)
    assert accepted.content_hash == doc.compute_hash()
