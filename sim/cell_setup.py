"""What a production run gives each cell, and the programs the edge sends.

* :func:`plan_recipes`: a recipe per part spec from the spray core's planner, with ids
  :func:`recipe_id_for` makes safe for files;
* :func:`cell_config`: a cell controller's configuration from the world: the station pose
  (``T_base_part`` of the nominal part frame at the station, :func:`nominal_T_world_part`),
  the placement tolerance, the gun valve's latencies, the approval key and recipe folder;
* :func:`program_message`: the ``SprayProgram`` of an approved recipe placed at a part's
  pose in the robot base frame (tool z = spray axis, x = fan axis made orthogonal, metres:
  the convention the cell controller checks programs against).
"""

from __future__ import annotations

import time
from collections.abc import Callable
from typing import Any

import numpy as np
from scipy.spatial.transform import Rotation

from recipes.document import RecipeDoc
from sim.feed import bbox_centre, panel
from sim.frames import invert
from sim.world_spec import Pose


def recipe_id_for(spec: str, finish: str) -> str:
    """Recipe id of a part spec and finish: ``door-benchmark``,
    ``rect_w560_h380-benchmark`` (a spec with parameters made file- and id-safe)."""
    name, _, params = spec.partition(":")
    if params:
        short = "_".join(
            f"{k.split('_')[0][:1]}{v}" for k, v in (p.split("=", 1) for p in params.split(","))
        )
        name = f"{name}_{short}"
    return "".join(c if c.isalnum() or c in "_-." else "_" for c in f"{name}-{finish}")


def plan_recipes(
    specs: list[str], finish: str, gun: str | None, edge_passes: bool
) -> dict[str, RecipeDoc]:
    """A draft recipe per part spec (the spray core's planner)."""
    from recipes.planner import PlannerParams
    from recipes.recipe import plan_from_spec

    params = PlannerParams(edge_passes=edge_passes)
    out = {}
    for spec in specs:
        doc, _ = plan_from_spec(spec, finish, gun, params, recipe_id=recipe_id_for(spec, finish))
        out[spec] = doc
    return out


def nominal_T_world_part(cell, spec: str) -> np.ndarray:
    """(4, 4) part frame of ``spec`` at the cell's station, exactly at its nominal place."""
    ref = bbox_centre(panel(spec).outline)
    T = np.eye(4)
    T[:2, 3] = [-ref[0], -ref[1]]
    return cell.T_world_station @ T


def _pose_dict(T: np.ndarray) -> dict:
    pose = Pose.model_validate(np.asarray(T, dtype=float).tolist())
    return dict(
        xyz_mm=[round(v, 6) for v in pose.xyz_mm], rpy_deg=[round(v, 9) for v in pose.rpy_deg]
    )


def program_message(
    message_type: Callable[[str], type],
    doc: RecipeDoc,
    *,
    program_id: str,
    part_id: str,
    T_base_part: np.ndarray,
    key_id: str,
) -> Any:
    """The ``SprayProgram`` of an approved recipe placed at ``T_base_part`` (mm), in the
    robot base frame: tool z = spray axis, x = fan axis made orthogonal, metres."""
    program = doc.program.to_program()
    z = program.axis / np.linalg.norm(program.axis, axis=1, keepdims=True)
    x = program.fan_x - np.sum(program.fan_x * z, axis=1, keepdims=True) * z
    x /= np.linalg.norm(x, axis=1, keepdims=True)
    T = np.zeros((len(z), 4, 4))
    T[:, :3, 0], T[:, :3, 1], T[:, :3, 2] = x, np.cross(z, x), z
    T[:, :3, 3] = program.position_mm
    T[:, 3, 3] = 1.0
    T = np.einsum("ij,njk->nik", T_base_part, T)
    T[:, :3, 3] /= 1000.0
    quats = Rotation.from_matrix(T[:, :3, :3]).as_quat()
    Point = message_type("geometry_msgs/msg/Point")
    Quaternion = message_type("geometry_msgs/msg/Quaternion")
    Pose_ = message_type("geometry_msgs/msg/Pose")
    waypoints = [
        Pose_(
            position=Point(x=float(p[0]), y=float(p[1]), z=float(p[2])),
            orientation=Quaternion(x=float(q[0]), y=float(q[1]), z=float(q[2]), w=float(q[3])),
        )
        for p, q in zip(T[:, :3, 3], quats, strict=True)
    ]
    trigger = [bool(v) for v in program.trigger]
    trigger[0] = False  # the approach
    sec, nanosec = divmod(time.time_ns(), 1_000_000_000)
    Time = message_type("builtin_interfaces/msg/Time")
    Header = message_type("std_msgs/msg/Header")
    return message_type("coatshare_interfaces/msg/SprayProgram")(
        header=Header(stamp=Time(sec=sec, nanosec=nanosec), frame_id="base_link"),
        program_id=program_id,
        part_id=part_id,
        recipe_id=doc.id,
        recipe_version=int(doc.version),
        recipe_hash=(doc.content_hash or doc.compute_hash()).removeprefix("sha256:"),
        signing_key_id=key_id,
        signature=list(bytes.fromhex(doc.approval.signature or "")),
        frame_id="base_link",
        waypoints=waypoints,
        tool_speed_mm_s=[float(v) for v in program.speed_mm_s],
        trigger=trigger,
    )


def cell_config(cell, specs: list[str]) -> dict:
    """The controller configuration of a world cell (``coatshare.cell/v1``, over the
    defaults): station pose for the first of the cell's part types in ``specs``, placement
    tolerance covering the others, the world's gun latencies, key and recipe folder beside
    the file."""
    seq = cell.spec.feed.sequence
    own = [s for s in specs if s in seq] or specs
    T_base = [invert(cell.T_world_base) @ nominal_T_world_part(cell, s) for s in own]
    spread = max(float(np.linalg.norm(T[:3, 3] - T_base[0][:3, 3])) for T in T_base)
    data = {
        "schema": "coatshare.cell/v1",
        "cell_id": cell.id,
        "station": {
            "T_base_part": _pose_dict(T_base[0]),
            "placement_tolerance_mm": 50.0 + spread,
        },
        "gun": {
            "on_latency_s": cell.spec.gun.on_latency_s,
            "off_latency_s": cell.spec.gun.off_latency_s,
        },
        "approval_key": "approval.pub",
        "recipe_dir": "recipes",
    }
    return data


__all__ = [
    "cell_config",
    "nominal_T_world_part",
    "plan_recipes",
    "program_message",
    "recipe_id_for",
]
