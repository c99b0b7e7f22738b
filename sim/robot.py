"""The robot in PyBullet (DIRECT mode): joint state, tool pose and collisions.

Each :class:`RobotSim` owns its own PyBullet client (no GUI), loads the robot's URDF with a
fixed base at ``T_world_base`` and holds static collision boxes for the booth (floor,
ceiling, walls), the conveyor and the part. The robot is kinematic: the joint follower sets
joint positions every step (its tracking lag is its own model); PyBullet gives forward
kinematics of those joints and the distances between robot links and obstacles. No
dynamics are stepped.

Units at this interface are the world's: millimetres and 4x4 transforms; joints in radians.
"""

from __future__ import annotations

import contextlib
import ctypes
import os
from collections.abc import Iterator, Sequence
from dataclasses import dataclass
from functools import cached_property
from pathlib import Path

import numpy as np
from scipy.spatial.transform import Rotation

from recipes.errors import InvalidInputError
from recipes.parts.panel import PanelPart
from robot_nodes.kinematics.chain import SerialChain
from robot_nodes.kinematics.urdf import load_urdf
from sim.clock import DEFAULT_STEP_S, SimClock

_MM = 1e-3
#: walls, floor and ceiling of the booth are slabs this thick outside its bounds (mm)
BOOTH_SLAB_MM = 200.0


@contextlib.contextmanager
def _quiet() -> Iterator[None]:
    """Silence PyBullet's C-level prints (build banner, URDF importer warnings)."""
    libc = ctypes.CDLL(None)
    saved = [os.dup(1), os.dup(2)]
    devnull = os.open(os.devnull, os.O_WRONLY)
    try:
        libc.fflush(None)
        os.dup2(devnull, 1)
        os.dup2(devnull, 2)
        yield
    finally:
        libc.fflush(None)
        os.dup2(saved[0], 1)
        os.dup2(saved[1], 2)
        for fd in (*saved, devnull):
            os.close(fd)


def _pybullet():
    with _quiet():
        import pybullet

    return pybullet


@dataclass(frozen=True)
class Contact:
    """A robot link closer to an obstacle than the margin (negative: penetrating)."""

    link: str
    obstacle: str
    distance_mm: float


class RobotSim:
    """One robot in its own PyBullet client.

    Parameters
    ----------
    urdf_path : Path
    T_world_base : (4, 4) array, mm
    tcp_link : str
        Link whose pose is the tool pose (spray axis = its +z).
    clock : SimClock, optional
        The cell's clock (default: a new one with ``step_s``).
    """

    def __init__(
        self,
        urdf_path: str | Path,
        T_world_base: np.ndarray | None = None,
        *,
        tcp_link: str = "gun_tcp",
        clock: SimClock | None = None,
        step_s: float = DEFAULT_STEP_S,
    ) -> None:
        self._p = _pybullet()
        p = self._p
        self.clock = clock or SimClock(step_s)
        self.T_world_base = np.eye(4) if T_world_base is None else np.asarray(T_world_base, float)
        with _quiet():
            self._cid = p.connect(p.DIRECT)
            pos = self.T_world_base[:3, 3] * _MM
            quat = Rotation.from_matrix(self.T_world_base[:3, :3]).as_quat()
            try:
                self._robot = p.loadURDF(
                    str(urdf_path),
                    basePosition=pos.tolist(),
                    baseOrientation=quat.tolist(),
                    useFixedBase=True,
                    physicsClientId=self._cid,
                )
            except p.error as exc:
                p.disconnect(self._cid)
                raise InvalidInputError(
                    "urdf", f"PyBullet cannot load it: {exc}", source=str(urdf_path)
                ) from None
        names, joints, link_names = (
            [],
            [],
            {-1: p.getBodyInfo(self._robot, physicsClientId=self._cid)[0].decode()},
        )
        lower, upper, velocity = [], [], []
        tcp_index = None
        for j in range(p.getNumJoints(self._robot, physicsClientId=self._cid)):
            info = p.getJointInfo(self._robot, j, physicsClientId=self._cid)
            link_names[j] = info[12].decode()
            if info[12].decode() == tcp_link:
                tcp_index = j
            if info[2] in (p.JOINT_REVOLUTE, p.JOINT_PRISMATIC):
                names.append(info[1].decode())
                joints.append(j)
                lower.append(info[8])
                upper.append(info[9])
                velocity.append(info[11])
        if tcp_index is None:
            self.close()
            raise InvalidInputError("tcp_link", f"no link '{tcp_link}' in {urdf_path}")
        self.joint_names: tuple[str, ...] = tuple(names)
        self.lower_rad = np.array(lower)
        self.upper_rad = np.array(upper)
        self.velocity_rad_s = np.array(velocity)
        self._joints = joints
        self._tcp = tcp_index
        self._urdf_path = Path(urdf_path)
        self._link_names = link_names
        self._obstacles: dict[str, int] = {}
        self._q = np.zeros(len(joints))
        self.set_joint_positions(self._q)

    # --- lifecycle ------------------------------------------------------------------------
    def close(self) -> None:
        if getattr(self, "_cid", None) is not None:
            with contextlib.suppress(Exception):
                self._p.disconnect(self._cid)
            self._cid = None

    def __enter__(self) -> RobotSim:
        return self

    def __exit__(self, *exc) -> None:
        self.close()

    def __del__(self) -> None:
        self.close()

    # --- joints and tool ------------------------------------------------------------------
    @property
    def dof(self) -> int:
        return len(self._joints)

    def set_joint_positions(self, q_rad: Sequence[float]) -> None:
        """Put the joints at ``q_rad`` (n,) (kinematic: no dynamics, no limit clamping)."""
        q = np.asarray(q_rad, dtype=float)
        if q.shape != (self.dof,):
            raise InvalidInputError("q_rad", f"expects {self.dof} joint values, got {q.shape}")
        self._p.resetJointStatesMultiDof(
            self._robot, self._joints, [[v] for v in q], physicsClientId=self._cid
        )
        self._q = q.copy()

    def joint_positions(self) -> np.ndarray:
        return self._q.copy()

    def within_limits(self, q_rad: np.ndarray, tol_rad: float = 1e-9) -> np.ndarray:
        """(...) bool: joint vectors (..., n) inside the position limits."""
        q = np.asarray(q_rad, dtype=float)
        return np.all((q >= self.lower_rad - tol_rad) & (q <= self.upper_rad + tol_rad), axis=-1)

    def _tcp_pose(self) -> np.ndarray:
        st = self._p.getLinkState(
            self._robot, self._tcp, computeForwardKinematics=True, physicsClientId=self._cid
        )
        T = np.eye(4)
        T[:3, :3] = np.array(self._p.getMatrixFromQuaternion(st[5])).reshape(3, 3)
        T[:3, 3] = np.asarray(st[4]) / _MM
        return T

    def tool_pose(self) -> np.ndarray:
        """(4, 4) ``T_world_tcp`` (mm) of the current joints."""
        return self._tcp_pose()

    def tool_poses(self, q_rad: np.ndarray) -> np.ndarray:
        """``T_world_tcp`` (N, 4, 4), mm, for joint vectors ``q_rad`` (N, n): the URDF's
        kinematic chain evaluated for all rows at once (the same model PyBullet loaded; a
        test holds the two together), or PyBullet's forward kinematics row by row when the
        URDF is not a plain serial chain of revolute joints; the robot is left where it was."""
        q = np.atleast_2d(np.asarray(q_rad, dtype=float))
        if q.shape[1] != self.dof:
            raise InvalidInputError("q_rad", f"expects {self.dof} joint values, got {q.shape[1]}")
        chain = self._chain
        if chain is not None:
            T_base_tcp = chain.fk(q)
            T_base_tcp[:, :3, 3] /= _MM
            return self.T_world_base @ T_base_tcp
        return self.pybullet_tool_poses(q)

    @cached_property
    def _chain(self) -> SerialChain | None:
        """The URDF's chain from the root link to the TCP, when its joints are this robot's
        actuated joints in order (else None)."""
        try:
            model = load_urdf(self._urdf_path)
            chain = SerialChain.from_urdf(model, model.root_link, self._link_names[self._tcp])
        except (InvalidInputError, KeyError, ValueError):
            return None
        return chain if chain.joint_names == self.joint_names else None

    def pybullet_tool_poses(self, q_rad: np.ndarray) -> np.ndarray:
        """:meth:`tool_poses` by PyBullet's forward kinematics, one joint vector at a time."""
        q = np.atleast_2d(np.asarray(q_rad, dtype=float))
        p, cid, robot, joints = self._p, self._cid, self._robot, self._joints
        pos = np.empty((len(q), 3))
        quat = np.empty((len(q), 4))
        for k, row in enumerate(q):
            p.resetJointStatesMultiDof(robot, joints, [[v] for v in row], physicsClientId=cid)
            st = p.getLinkState(
                robot, self._tcp, computeForwardKinematics=True, physicsClientId=cid
            )
            pos[k] = st[4]
            quat[k] = st[5]
        self.set_joint_positions(self._q)
        T = np.zeros((len(q), 4, 4))
        T[:, :3, :3] = Rotation.from_quat(quat).as_matrix()
        T[:, :3, 3] = pos / _MM
        T[:, 3, 3] = 1.0
        return T

    # --- obstacles ------------------------------------------------------------------------
    def add_box(self, name: str, T_world_box: np.ndarray, size_mm: Sequence[float]) -> None:
        """A static box (centre pose ``T_world_box``, full size in mm); replaces ``name``."""
        p = self._p
        half = (np.asarray(size_mm, dtype=float) * 0.5 * _MM).tolist()
        shape = p.createCollisionShape(p.GEOM_BOX, halfExtents=half, physicsClientId=self._cid)
        self._add_body(name, shape, T_world_box)

    def set_part(self, name: str, part: PanelPart, T_world_part: np.ndarray) -> None:
        """The part as the convex hull of its outline, extruded by its thickness."""
        p = self._p
        ring = np.asarray(part.outline.convex_hull.exterior.coords)[:-1]
        pts = np.concatenate(
            [
                np.column_stack([ring, np.zeros(len(ring))]),
                np.column_stack([ring, np.full(len(ring), part.thickness_mm)]),
            ]
        )
        shape = p.createCollisionShape(
            p.GEOM_MESH, vertices=(pts * _MM).tolist(), physicsClientId=self._cid
        )
        self._add_body(name, shape, T_world_part)

    def _add_body(self, name: str, shape: int, T: np.ndarray) -> None:
        p = self._p
        self.remove(name)
        body = p.createMultiBody(
            baseMass=0.0,
            baseCollisionShapeIndex=shape,
            basePosition=(T[:3, 3] * _MM).tolist(),
            baseOrientation=Rotation.from_matrix(T[:3, :3]).as_quat().tolist(),
            physicsClientId=self._cid,
        )
        self._obstacles[name] = body

    def remove(self, name: str) -> None:
        body = self._obstacles.pop(name, None)
        if body is not None:
            self._p.removeBody(body, physicsClientId=self._cid)

    @property
    def obstacles(self) -> tuple[str, ...]:
        return tuple(self._obstacles)

    def set_booth(self, min_mm: Sequence[float], max_mm: Sequence[float]) -> None:
        """Floor, ceiling and four walls as slabs just outside the booth's bounds."""
        lo, hi = np.asarray(min_mm, float), np.asarray(max_mm, float)
        t = BOOTH_SLAB_MM
        size = hi - lo
        centre = 0.5 * (lo + hi)
        for name, axis, side in (
            ("booth_floor", 2, -1),
            ("booth_ceiling", 2, 1),
            ("booth_wall_x-", 0, -1),
            ("booth_wall_x+", 0, 1),
            ("booth_wall_y-", 1, -1),
            ("booth_wall_y+", 1, 1),
        ):
            dims = size + 2 * t
            dims[axis] = t
            c = centre.copy()
            c[axis] = (lo[axis] - t / 2) if side < 0 else (hi[axis] + t / 2)
            T = np.eye(4)
            T[:3, 3] = c
            self.add_box(name, T, dims)

    # --- collisions -------------------------------------------------------------------------
    @property
    def obstacle_names(self) -> tuple[str, ...]:
        return tuple(self._obstacles)

    def contacts(
        self,
        margin_mm: float = 0.0,
        *,
        ignore_links: Sequence[str] = ("base_link",),
        obstacles: Sequence[str] | None = None,
    ) -> list[Contact]:
        """Robot links within ``margin_mm`` of an obstacle (of ``obstacles``, default all),
        closest first."""
        p = self._p
        out = []
        names = self._obstacles if obstacles is None else obstacles
        for name in names:
            body = self._obstacles.get(name)
            if body is None:
                continue
            for c in p.getClosestPoints(
                self._robot, body, distance=margin_mm * _MM, physicsClientId=self._cid
            ):
                link = self._link_names[c[3]]
                if link in ignore_links:
                    continue
                out.append(Contact(link, name, c[8] / _MM))
        out.sort(key=lambda c: c.distance_mm)
        return out

    def collision(self, margin_mm: float = 0.0) -> tuple[str, str] | None:
        """The (link, obstacle) pair closest to (or deepest in) contact, or None."""
        found = self.contacts(margin_mm)
        return (found[0].link, found[0].obstacle) if found else None

    @classmethod
    def for_cell(cls, cell, *, clock: SimClock | None = None) -> RobotSim:
        """The robot of a world cell (:class:`sim.world.CellWorld`) with its booth and belt."""
        robot = cls(cell.urdf_path, cell.T_world_base, clock=clock)
        spec = cell.spec
        robot.set_booth(spec.booth.min_mm, spec.booth.max_mm)
        conv = spec.conveyor
        belt = cell.belt
        centre = belt.to_world(0.5 * conv.length_mm, 0.0)
        T = np.eye(4)
        a = np.deg2rad(conv.direction_deg)
        T[:3, :3] = [[np.cos(a), -np.sin(a), 0.0], [np.sin(a), np.cos(a), 0.0], [0.0, 0.0, 1.0]]
        T[:3, 3] = [centre[0], centre[1], -0.5 * conv.depth_mm]
        robot.add_box("conveyor", T, (conv.length_mm, conv.width_mm, conv.depth_mm))
        return robot
