"""Checks of an incoming ``SprayProgram`` before any motion: the fast part of acceptance.

:func:`validate_program` runs, in this order, and stops at the first failure with a
:class:`~robot_nodes.controller.faults.ProgramRejected` (fault code + reason):

1. the message: ids, array lengths, at least two waypoints, finite poses, unit quaternions,
   speeds > 0 and within the cell's limit (the approach's entry 0, which the cell does not
   use, finite and >= 0), gun off on the approach, stamp not too old;
2. the approval: the cell has an approval key, the program is signed with it, and the
   signature verifies over (recipe id, version, hash);
3. the recipe: the cell holds that version, with that hash;
4. the program is the recipe's: same number of waypoints, same speeds and triggers, and the
   poses equal the recipe's under one rigid placement (``frame_id == part_frame``: the
   station pose; ``frame_id == base_frame``: fitted, and within the placement tolerance of
   the station pose);
5. every waypoint inside the workspace box.

Reachability and timing (IK along the densified path, joint limits, tool speed) are the
slow part and live in :mod:`robot_nodes.controller.planning`.
"""

from __future__ import annotations

import math
from dataclasses import dataclass
from typing import Any

import numpy as np
from scipy.spatial.transform import Rotation

from recipes.approval import ApprovalVerifier, normalize_content_hash
from recipes.errors import InvalidInputError
from robot_nodes.controller.config import CellConfig
from robot_nodes.controller.faults import FaultCode, ProgramRejected
from robot_nodes.controller.recipe_store import RecipeStore, recipe_tool_poses
from robot_nodes.toolpath import ToolPath

_QUAT_TOL = 1e-3


@dataclass(frozen=True)
class AcceptedProgram:
    """A program that passed :func:`validate_program`.

    Attributes
    ----------
    program_id, part_id, recipe_id : str
    recipe_version : int
    content_hash : str
        ``"sha256:<hex>"``.
    signing_key_id : str
    path : ToolPath
        The signed recipe's waypoints placed in the robot base frame.
    T_base_part : (4, 4) ndarray
        Placement used (station pose, or fitted).
    recipe_cycle_s : float
        The recipe program's own nominal duration (length / speed per segment).
    notes : tuple of str
        Warnings that did not refuse the program.
    """

    program_id: str
    part_id: str
    recipe_id: str
    recipe_version: int
    content_hash: str
    signing_key_id: str
    path: ToolPath
    T_base_part: np.ndarray
    recipe_cycle_s: float
    notes: tuple[str, ...] = ()


def _reject(code: FaultCode, text: str) -> ProgramRejected:
    return ProgramRejected(code, text)


def message_poses(msg: Any) -> np.ndarray:
    """(M, 7) array of ``x, y, z, qx, qy, qz, qw`` of a SprayProgram's waypoints."""
    return np.array(
        [
            [
                w.position.x,
                w.position.y,
                w.position.z,
                w.orientation.x,
                w.orientation.y,
                w.orientation.z,
                w.orientation.w,
            ]
            for w in msg.waypoints
        ],
        dtype=float,
    ).reshape(-1, 7)


def _check_message(msg: Any, config: CellConfig, now_wall_ns: int | None) -> np.ndarray:
    """Structural checks; returns the (M, 4, 4) waypoint poses in the message frame."""
    pid = str(msg.program_id)
    if not pid.strip():
        raise _reject(FaultCode.PROGRAM_MALFORMED, "program_id is empty")
    where = f"program '{pid}'"
    if not str(msg.recipe_id).strip():
        raise _reject(FaultCode.PROGRAM_MALFORMED, f"{where}: recipe_id is empty")
    n = len(msg.waypoints)
    if n == 0:
        raise _reject(FaultCode.PROGRAM_EMPTY, f"{where} has no waypoints")
    if n < 2:
        raise _reject(FaultCode.PROGRAM_EMPTY, f"{where} has 1 waypoint, needs at least 2")
    for name in ("tool_speed_mm_s", "trigger"):
        if len(getattr(msg, name)) != n:
            raise _reject(
                FaultCode.PROGRAM_MALFORMED,
                f"{where}: {name} has {len(getattr(msg, name))} entries for {n} waypoints",
            )
    raw = message_poses(msg)
    bad = np.flatnonzero(~np.isfinite(raw).all(axis=1))
    if len(bad):
        i = int(bad[0])
        raise _reject(
            FaultCode.POSE_NOT_FINITE,
            f"{where}: waypoints[{i}] has a non-finite value {raw[i].tolist()} "
            f"({len(bad)} waypoint(s) affected)",
        )
    qn = np.linalg.norm(raw[:, 3:], axis=1)
    bad = np.flatnonzero(np.abs(qn - 1.0) > _QUAT_TOL)
    if len(bad):
        i = int(bad[0])
        raise _reject(
            FaultCode.POSE_INVALID,
            f"{where}: waypoints[{i}].orientation has norm {qn[i]:.4f}, expected 1",
        )
    speed = np.asarray(list(msg.tool_speed_mm_s), dtype=float)
    if not (math.isfinite(speed[0]) and speed[0] >= 0):
        raise _reject(
            FaultCode.SPEED_INVALID,
            f"{where}: tool_speed_mm_s[0] = {speed[0]} (the approach to waypoints[0]), "
            "must be finite and >= 0",
        )
    bad = np.flatnonzero(~np.isfinite(speed[1:]) | ~(speed[1:] > 0)) + 1
    if len(bad):
        i = int(bad[0])
        raise _reject(
            FaultCode.SPEED_INVALID, f"{where}: tool_speed_mm_s[{i}] = {speed[i]}, must be > 0"
        )
    vmax = config.limits.max_tool_speed_mm_s
    over = np.flatnonzero(speed[1:] > vmax) + 1
    if len(over):
        i = int(over[0])
        raise _reject(
            FaultCode.SPEED_LIMIT,
            f"{where}: tool_speed_mm_s[{i}] = {speed[i]:.1f} mm/s exceeds the cell's limit of "
            f"{vmax:.0f} mm/s ({len(over)} segment(s))",
        )
    if bool(msg.trigger[0]):
        raise _reject(
            FaultCode.PROGRAM_MALFORMED,
            f"{where}: trigger[0] is true; the approach to the first waypoint is gun-off",
        )
    max_age = config.execution.program_max_age_s
    stamp_ns = int(msg.header.stamp.sec) * 1_000_000_000 + int(msg.header.stamp.nanosec)
    if max_age > 0 and stamp_ns > 0 and now_wall_ns is not None:
        age_s = (now_wall_ns - stamp_ns) / 1e9
        if age_s > max_age:
            raise _reject(
                FaultCode.PROGRAM_STALE,
                f"{where} was stamped {age_s:.0f} s ago (limit {max_age:.0f} s); "
                "send it again to run it",
            )
    T = np.zeros((n, 4, 4))
    T[:, :3, :3] = Rotation.from_quat(raw[:, 3:] / qn[:, None]).as_matrix()
    T[:, :3, 3] = raw[:, :3]
    T[:, 3, 3] = 1.0
    return T


def _check_approval(msg: Any, verifier: ApprovalVerifier | None) -> str:
    """Signature checks; returns the canonical content hash."""
    where = f"program '{msg.program_id}'"
    if verifier is None:
        raise _reject(
            FaultCode.NO_APPROVAL_KEY,
            "the cell has no approval key configured and runs no program "
            "(set approval_key or --approval-key)",
        )
    signature = bytes(msg.signature)
    if not signature:
        raise _reject(FaultCode.SIGNATURE_MISSING, f"{where} is not signed")
    key_id = str(msg.signing_key_id)
    if key_id != verifier.key_id:
        raise _reject(
            FaultCode.SIGNING_KEY_UNKNOWN,
            f"{where} is signed with key '{key_id}', the cell accepts '{verifier.key_id}'",
        )
    try:
        digest = normalize_content_hash(str(msg.recipe_hash), field="recipe_hash")
    except InvalidInputError as exc:
        raise _reject(FaultCode.PROGRAM_MALFORMED, f"{where}: {exc}") from None
    if len(signature) != 64:
        raise _reject(
            FaultCode.SIGNATURE_INVALID,
            f"{where}: signature has {len(signature)} bytes, an Ed25519 signature has 64",
        )
    if not verifier.verify(str(msg.recipe_id), int(msg.recipe_version), digest, signature):
        raise _reject(
            FaultCode.SIGNATURE_INVALID,
            f"{where}: signature does not verify for recipe '{msg.recipe_id}' "
            f"v{msg.recipe_version} {digest} with key '{verifier.key_id}'",
        )
    return digest


def _kabsch(A: np.ndarray, B: np.ndarray) -> np.ndarray:
    """Rigid transform T (4x4) minimising sum |T a_i - b_i|^2; A, B are (N, 3)."""
    ca, cb = A.mean(axis=0), B.mean(axis=0)
    H = (A - ca).T @ (B - cb)
    U, _, Vt = np.linalg.svd(H)
    d = np.sign(np.linalg.det(Vt.T @ U.T)) or 1.0
    R = Vt.T @ np.diag([1.0, 1.0, d]) @ U.T
    T = np.eye(4)
    T[:3, :3] = R
    T[:3, 3] = cb - R @ ca
    return T


def _pose_differences(T_a: np.ndarray, T_b: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """Per-pose position difference (mm) and rotation angle (rad), batched."""
    dp = np.linalg.norm(T_a[:, :3, 3] - T_b[:, :3, 3], axis=1) * 1000.0
    cos = (np.trace(T_a[:, :3, :3].transpose(0, 2, 1) @ T_b[:, :3, :3], axis1=1, axis2=2) - 1) / 2
    return dp, np.arccos(np.clip(cos, -1.0, 1.0))


def _check_against_recipe(
    msg: Any, T_msg: np.ndarray, store: RecipeStore, digest: str, config: CellConfig
) -> tuple[np.ndarray, np.ndarray, float]:
    """Recipe lookup and comparison; returns (T_base_tcp, T_base_part, recipe cycle)."""
    where = f"program '{msg.program_id}'"
    rid, version = str(msg.recipe_id), int(msg.recipe_version)
    doc = store.get(rid, version)
    if doc is None:
        known = store.versions(rid)
        hint = f" (it has versions {known})" if known else ""
        raise _reject(
            FaultCode.RECIPE_UNKNOWN, f"{where}: the cell has no recipe '{rid}' v{version}{hint}"
        )
    if doc.content_hash != digest:
        raise _reject(
            FaultCode.RECIPE_HASH_MISMATCH,
            f"{where}: recipe '{rid}' v{version} is {doc.content_hash} on this cell, "
            f"the program names {digest}",
        )
    program = doc.program.to_program()
    T_recipe = recipe_tool_poses(program)
    W, M = len(T_recipe), len(T_msg)
    if W != M:
        raise _reject(
            FaultCode.PROGRAM_MISMATCH,
            f"{where} has {M} waypoints, recipe '{rid}' v{version} has {W}",
        )
    speed_msg = np.asarray(list(msg.tool_speed_mm_s), dtype=float)
    diff = np.abs(speed_msg[1:] - program.speed_mm_s[1:])
    bad = np.flatnonzero(diff > 1e-6 * np.maximum(1.0, program.speed_mm_s[1:])) + 1
    if len(bad):
        i = int(bad[0])
        raise _reject(
            FaultCode.PROGRAM_MISMATCH,
            f"{where}: tool_speed_mm_s[{i}] = {speed_msg[i]:g}, recipe '{rid}' v{version} "
            f"says {program.speed_mm_s[i]:g} ({len(bad)} segment(s) differ)",
        )
    trig_msg = np.asarray(list(msg.trigger), dtype=bool)
    bad = np.flatnonzero(trig_msg[1:] != program.trigger[1:].astype(bool)) + 1
    if len(bad):
        i = int(bad[0])
        raise _reject(
            FaultCode.PROGRAM_MISMATCH,
            f"{where}: trigger[{i}] = {bool(trig_msg[i])}, recipe '{rid}' v{version} says "
            f"{bool(program.trigger[i])} ({len(bad)} segment(s) differ)",
        )

    frame = str(msg.frame_id)
    T_nominal = config.T_base_part
    if frame == config.part_frame:
        T_place = T_nominal
        T_expected = T_recipe
    elif frame == config.base_frame:
        probe = 0.1  # m along the tool axes, so that the fit also pins orientation

        def points(T: np.ndarray) -> np.ndarray:
            p = T[:, :3, 3]
            return np.concatenate([p, p + probe * T[:, :3, 2], p + probe * T[:, :3, 0]])

        T_place = _kabsch(points(T_recipe), points(T_msg))
        T_expected = T_place @ T_recipe
    else:
        raise _reject(
            FaultCode.FRAME_UNKNOWN,
            f"{where}: frame_id '{frame}' is neither the part frame '{config.part_frame}' nor "
            f"the robot base frame '{config.base_frame}'",
        )
    dp_mm, dr_rad = _pose_differences(T_expected, T_msg)
    tol_mm, tol_rad = config.station.match_tolerance_mm, config.match_tolerance_rad
    if dp_mm.max() > tol_mm or dr_rad.max() > tol_rad:
        i = int(np.argmax(np.maximum(dp_mm / tol_mm, dr_rad / tol_rad)))
        raise _reject(
            FaultCode.PROGRAM_MISMATCH,
            f"{where}: waypoints[{i}] is {dp_mm[i]:.2f} mm / {math.degrees(dr_rad[i]):.2f} deg "
            f"away from recipe '{rid}' v{version} (tolerance {tol_mm} mm / "
            f"{config.station.match_tolerance_deg} deg): the program is not the approved one",
        )
    if frame == config.base_frame:
        T_nom_tcp = T_nominal @ T_recipe
        shift = np.linalg.norm(T_expected[:, :3, 3] - T_nom_tcp[:, :3, 3], axis=1)
        shift_mm = float(shift.max()) * 1000.0
        R_dev = T_nominal[:3, :3].T @ T_place[:3, :3]
        angle_deg = math.degrees(math.acos(max(-1.0, min(1.0, (np.trace(R_dev) - 1) / 2))))
        st = config.station
        if shift_mm > st.placement_tolerance_mm or angle_deg > st.placement_tolerance_deg:
            raise _reject(
                FaultCode.PLACEMENT_OUT_OF_TOLERANCE,
                f"{where}: the part is placed {shift_mm:.1f} mm / {angle_deg:.1f} deg from the "
                f"station pose (tolerance {st.placement_tolerance_mm} mm / "
                f"{st.placement_tolerance_deg} deg)",
            )
    return T_place @ T_recipe, T_place, program.cycle_s


def _check_workspace(T_base_tcp: np.ndarray, config: CellConfig, pid: str) -> None:
    lo, hi = config.workspace_m
    p = T_base_tcp[:, :3, 3]
    outside = np.flatnonzero(((p < lo) | (p > hi)).any(axis=1))
    if len(outside):
        i = int(outside[0])
        x, y, z = p[i] * 1000.0
        raise _reject(
            FaultCode.OUTSIDE_WORKSPACE,
            f"program '{pid}': waypoints[{i}] at ({x:.1f}, {y:.1f}, {z:.1f}) mm in "
            f"{config.base_frame} is outside the workspace {list(config.workspace.min_mm)}.."
            f"{list(config.workspace.max_mm)} mm ({len(outside)} waypoint(s))",
        )


def validate_program(
    msg: Any,
    config: CellConfig,
    verifier: ApprovalVerifier | None,
    store: RecipeStore,
    *,
    now_wall_ns: int | None = None,
) -> AcceptedProgram:
    """Check a ``SprayProgram`` message against the cell's rules (see module docstring).

    Parameters
    ----------
    msg : SprayProgram message (either backend)
    config : CellConfig
    verifier : ApprovalVerifier or None
        None refuses everything (no key configured).
    store : RecipeStore
    now_wall_ns : int, optional
        Wall clock for the stamp-age check; skipped when None.

    Raises
    ------
    ProgramRejected
    """
    T_msg = _check_message(msg, config, now_wall_ns)
    digest = _check_approval(msg, verifier)
    T_base_tcp, T_place, cycle_s = _check_against_recipe(msg, T_msg, store, digest, config)
    _check_workspace(T_base_tcp, config, str(msg.program_id))
    trigger = np.asarray(list(msg.trigger), dtype=bool)
    speed = np.asarray(list(msg.tool_speed_mm_s), dtype=float)
    try:
        path = ToolPath(T_base_tcp, speed, trigger)
    except InvalidInputError as exc:
        raise _reject(FaultCode.PROGRAM_MALFORMED, f"program '{msg.program_id}': {exc}") from None
    return AcceptedProgram(
        program_id=str(msg.program_id),
        part_id=str(msg.part_id),
        recipe_id=str(msg.recipe_id),
        recipe_version=int(msg.recipe_version),
        content_hash=digest,
        signing_key_id=str(msg.signing_key_id),
        path=path,
        T_base_part=T_place,
        recipe_cycle_s=float(cycle_s),
    )


__all__ = ["AcceptedProgram", "message_poses", "validate_program"]
