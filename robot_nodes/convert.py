"""Conversions between ROS 2 messages and the numpy arrays of kinematics and timing.

Functions that build messages take ``message_type``, a callable from a ROS type name to a
message class: ``bus.message_type`` of either backend, or
:func:`robot_nodes.bus.dds_types.get_type`. Field access is the same on both backends.
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from typing import Any

import numpy as np
from scipy.spatial.transform import Rotation

from recipes.errors import InvalidInputError
from robot_nodes.timing import TimedTrajectory
from robot_nodes.toolpath import ToolPath

MessageTypeFn = Callable[[str], type]

_NS = 1_000_000_000


def time_msg(
    message_type: MessageTypeFn, stamp_ns: int, name: str = "builtin_interfaces/msg/Time"
) -> Any:
    """``builtin_interfaces/Time`` (or ``Duration`` via ``name``) from nanoseconds."""
    sec, nanosec = divmod(int(stamp_ns), _NS)
    return message_type(name)(sec=sec, nanosec=nanosec)


def stamp_to_ns(stamp: Any) -> int:
    """Nanoseconds of a ``Time`` or ``Duration`` message."""
    return int(stamp.sec) * _NS + int(stamp.nanosec)


def header_msg(message_type: MessageTypeFn, stamp_ns: int, frame_id: str = "") -> Any:
    """``std_msgs/Header``."""
    return message_type("std_msgs/msg/Header")(
        stamp=time_msg(message_type, stamp_ns), frame_id=frame_id
    )


def pose_to_matrix(pose: Any) -> np.ndarray:
    """4x4 transform of a ``geometry_msgs/Pose`` (metres).

    Raises
    ------
    InvalidInputError
        For a quaternion far from unit length (not a rotation).
    """
    q = np.array([pose.orientation.x, pose.orientation.y, pose.orientation.z, pose.orientation.w])
    norm = float(np.linalg.norm(q))
    if abs(norm - 1.0) > 1e-3:
        raise InvalidInputError("orientation", f"quaternion norm is {norm:.4f}, expected 1")
    T = np.eye(4)
    T[:3, :3] = Rotation.from_quat(q / norm).as_matrix()
    T[:3, 3] = [pose.position.x, pose.position.y, pose.position.z]
    return T


def matrix_to_pose(message_type: MessageTypeFn, T: np.ndarray) -> Any:
    """``geometry_msgs/Pose`` of a 4x4 transform (metres)."""
    x, y, z, w = Rotation.from_matrix(np.asarray(T)[:3, :3]).as_quat()
    Point = message_type("geometry_msgs/msg/Point")
    Quaternion = message_type("geometry_msgs/msg/Quaternion")
    return message_type("geometry_msgs/msg/Pose")(
        position=Point(x=float(T[0, 3]), y=float(T[1, 3]), z=float(T[2, 3])),
        orientation=Quaternion(x=float(x), y=float(y), z=float(z), w=float(w)),
    )


def tool_path_from_program(msg: Any, *, expected_frame: str | None = None) -> ToolPath:
    """The :class:`ToolPath` of a ``coatshare_interfaces/SprayProgram``.

    Parameters
    ----------
    msg : SprayProgram message (either backend)
    expected_frame : str, optional
        Frame the cell plans in; a program in another frame is refused.

    Raises
    ------
    InvalidInputError
        Naming the field: array lengths that differ, a wrong frame, bad quaternions.
    """
    where = f"SprayProgram '{msg.program_id}'"
    n = len(msg.waypoints)
    if n < 2:
        raise InvalidInputError(f"{where}.waypoints", f"needs at least 2, got {n}")
    for name in ("tool_speed_mm_s", "trigger"):
        if len(getattr(msg, name)) != n:
            raise InvalidInputError(
                f"{where}.{name}", f"has {len(getattr(msg, name))} entries for {n} waypoints"
            )
    if expected_frame is not None and msg.frame_id != expected_frame:
        raise InvalidInputError(
            f"{where}.frame_id", f"is '{msg.frame_id}', the cell plans in '{expected_frame}'"
        )
    T = np.empty((n, 4, 4))
    for i, pose in enumerate(msg.waypoints):
        try:
            T[i] = pose_to_matrix(pose)
        except InvalidInputError as exc:
            raise InvalidInputError(f"{where}.waypoints[{i}].{exc.field}", exc.reason) from exc
    try:
        return ToolPath(
            T,
            np.asarray(list(msg.tool_speed_mm_s), dtype=float),
            np.asarray(list(msg.trigger), dtype=bool),
        )
    except InvalidInputError as exc:
        raise InvalidInputError(f"{where}.{exc.field}", exc.reason) from exc


def spray_program_msg(
    message_type: MessageTypeFn,
    path: ToolPath,
    *,
    program_id: str,
    recipe_id: str,
    recipe_version: int,
    recipe_hash: str,
    signature: bytes,
    signing_key_id: str = "",
    part_id: str = "",
    frame_id: str = "base_link",
    stamp_ns: int = 0,
) -> Any:
    """``coatshare_interfaces/SprayProgram`` carrying a :class:`ToolPath`."""
    return message_type("coatshare_interfaces/msg/SprayProgram")(
        header=header_msg(message_type, stamp_ns, frame_id),
        program_id=program_id,
        part_id=part_id,
        recipe_id=recipe_id,
        recipe_version=int(recipe_version),
        recipe_hash=recipe_hash,
        signing_key_id=signing_key_id,
        signature=list(bytes(signature)),
        frame_id=frame_id,
        waypoints=[matrix_to_pose(message_type, T) for T in path.T_base_tcp],
        tool_speed_mm_s=[float(v) for v in path.speed_mm_s],
        trigger=[bool(v) for v in path.trigger],
    )


def joint_trajectory_msg(
    message_type: MessageTypeFn,
    trajectory: TimedTrajectory,
    *,
    stamp_ns: int = 0,
    frame_id: str = "",
) -> Any:
    """``trajectory_msgs/JointTrajectory`` with positions, velocities and accelerations.

    A zero stamp means "start on receipt", as for ``joint_trajectory_controller``.
    """
    Point = message_type("trajectory_msgs/msg/JointTrajectoryPoint")
    points = [
        Point(
            positions=[float(v) for v in trajectory.q_rad[k]],
            velocities=[float(v) for v in trajectory.qd_rad_s[k]],
            accelerations=[float(v) for v in trajectory.qdd_rad_s2[k]],
            effort=[],
            time_from_start=time_msg(
                message_type, round(trajectory.t_s[k] * _NS), "builtin_interfaces/msg/Duration"
            ),
        )
        for k in range(len(trajectory.t_s))
    ]
    return message_type("trajectory_msgs/msg/JointTrajectory")(
        header=header_msg(message_type, stamp_ns, frame_id),
        joint_names=list(trajectory.joint_names),
        points=points,
    )


def joint_state_msg(
    message_type: MessageTypeFn,
    joint_names: Sequence[str],
    q_rad: np.ndarray,
    qd_rad_s: np.ndarray | None = None,
    *,
    stamp_ns: int = 0,
) -> Any:
    """``sensor_msgs/JointState`` (effort left empty)."""
    return message_type("sensor_msgs/msg/JointState")(
        header=header_msg(message_type, stamp_ns),
        name=list(joint_names),
        position=[float(v) for v in q_rad],
        velocity=[] if qd_rad_s is None else [float(v) for v in qd_rad_s],
        effort=[],
    )


def joint_positions(msg: Any, joint_names: Sequence[str]) -> np.ndarray:
    """Positions of ``joint_names`` from a ``JointState``, in that order.

    Raises
    ------
    InvalidInputError
        When a joint is missing from the message.
    """
    index = {name: i for i, name in enumerate(msg.name)}
    missing = [name for name in joint_names if name not in index]
    if missing:
        raise InvalidInputError("JointState.name", f"lacks {', '.join(missing)}")
    position = list(msg.position)
    return np.array([position[index[name]] for name in joint_names])
