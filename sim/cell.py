"""One simulated cell, free of any bus: what the simulator node steps every clock tick.

A :class:`SimCell` owns the cell's robot (PyBullet, kinematic), its joint trajectory
follower, the gun valve, the belt with its feed and the camera renderer. The node hands it
what arrives on the cell's topics (:meth:`SimCell.on_trajectory`, :meth:`SimCell.on_trigger`,
:meth:`SimCell.finish`) and calls :meth:`SimCell.step` once per clock step::

    state = faults.state(cell, t)                     # e-stop, servo, pressure, clog, ...
    q = follower.step(t) (frozen unless motion is allowed)
    robot.set_joint_positions(q); collision check     # a hit stops the drives (servo fault)
    gun = valve.output(t) and state.spray_allowed     # off from this step on any fault
    log (t, q, commanded, gun) while a part is at the station
    belt.step(dt, stopped=not state.conveyor_running) # camera / station / exit events

The step returns the joint state to publish and the belt's events (a camera frame, a part
arriving at the station). The film of a finished cycle is computed from its log by
:func:`sim.results.cycle_result`.

**Gun valve.** The controller switches ``gun/trigger``; paint starts ``on_latency_s`` and
stops ``off_latency_s`` later (world file, ``cells[i].gun``), which the controller
compensates by commanding early. Faults act at once: the gun output is the valve's AND
``spray_allowed`` (no e-stop, servo fault or pressure loss) AND no collision.

**Collision checks** are exact but not run every step: after a check that finds the nearest
obstacle ``d`` mm away, the next one comes when the robot could have closed that distance.
No point of the robot moves more than ``sum |dq_j| x reach_mm`` between two joint vectors
(``reach_mm`` bounds every point's distance from every joint axis), so the check runs
again once that sum reaches ``d``: every step near an obstacle, rarely in free space.
"""

from __future__ import annotations

import logging
import time
from dataclasses import dataclass, field
from typing import Any

import numpy as np

from sim.conveyor import BeltPart, Conveyor
from sim.faults import FaultInjector, FaultState, parse_fault_command
from sim.feed import FedPart, PartFeed
from sim.follower import PAINTER6_HOME, PAINTER6_JOINTS, TrajectoryFollower
from sim.frames import PlanarPose
from sim.robot import RobotSim
from sim.scene import Frame, PartTruth

log = logging.getLogger(__name__)

#: obstacles farther than this are not measured (the next check of one is due after this
#: travel)
COLLISION_RANGE_MM = 400.0
#: bound of any robot point's distance from any of its joint axes (painter6: about 2.0 m)
REACH_MM = 2500.0
#: a robot link closer than this to an obstacle has hit it (Bullet's margins make
#: distances conservative by 1-2 mm)
CONTACT_MM = 0.0
#: follower time constant (ros2_control-like tracking lag)
TRACKING_TAU_S = 0.02


class GunValve:
    """The gun's on/off valve with its switching latencies.

    Parameters
    ----------
    on_latency_s, off_latency_s : float
        Time from a trigger command to paint flowing / stopping.
    """

    def __init__(self, on_latency_s: float, off_latency_s: float) -> None:
        self.on_latency_s = float(on_latency_s)
        self.off_latency_s = float(off_latency_s)
        self.commanded = False
        self._out = False
        self._pending: list[tuple[float, bool]] = []

    def command(self, on: bool, now_s: float) -> None:
        """The trigger signal changed to ``on`` at ``now_s``."""
        on = bool(on)
        if on == self.commanded:
            return
        self.commanded = on
        effect = now_s + (self.on_latency_s if on else self.off_latency_s)
        if self._pending:  # switching takes effect in the order commanded
            effect = max(effect, self._pending[-1][0])
        self._pending.append((effect, on))

    def output(self, now_s: float) -> bool:
        """Whether paint flows at ``now_s`` (by the valve alone)."""
        while self._pending and self._pending[0][0] <= now_s + 1e-12:
            self._out = self._pending.pop(0)[1]
        return self._out


@dataclass(frozen=True)
class CameraEvent:
    """A part's reference point crossed the camera's view centre at ``t_s``.

    ``frame`` is None when the camera dropped out; ``truth`` is the part's ground truth
    either way."""

    cell: str
    part: BeltPart
    t_s: float
    frame: Frame | None
    truth: PartTruth


@dataclass(frozen=True)
class StationEvent:
    """A part arrived at the spray station: its cycle starts."""

    cell: str
    cycle: PartCycle


@dataclass(frozen=True)
class CollisionEvent:
    cell: str
    t_s: float
    link: str
    obstacle: str
    distance_mm: float

    @property
    def text(self) -> str:
        return (
            f"cell {self.cell}: {self.link} hit {self.obstacle} at t = {self.t_s:.3f} s "
            f"({self.distance_mm:.1f} mm): drives stopped"
        )


@dataclass
class PartCycle:
    """One part's stay at the station and what the robot did meanwhile.

    The log has one row per clock step: time, actual joints, the commanded trigger and the
    gun output (paint flowing) over the step that starts then.
    """

    cell: str
    part: BeltPart
    part_id: str
    t_start_s: float
    T_world_part: np.ndarray
    camera: dict | None = None
    collisions: list[CollisionEvent] = field(default_factory=list)
    program: dict = field(default_factory=dict)
    t_end_s: float | None = None
    _t: list[float] = field(default_factory=list, repr=False)
    _q: list[np.ndarray] = field(default_factory=list, repr=False)
    _cmd: list[bool] = field(default_factory=list, repr=False)
    _gun: list[bool] = field(default_factory=list, repr=False)
    _wall: list[float] = field(default_factory=list, repr=False)

    @property
    def fed(self) -> FedPart:
        return self.part.fed

    @property
    def index(self) -> int:
        return self.part.fed.index

    def record(self, t_s: float, q: np.ndarray, commanded: bool, gun_on: bool) -> None:
        self._t.append(t_s)
        self._q.append(q)
        self._cmd.append(commanded)
        self._gun.append(gun_on)
        self._wall.append(time.monotonic())

    def log_arrays(self) -> dict[str, np.ndarray]:
        """``t_s`` (N,), ``q_rad`` (N, n), ``trigger_cmd`` (N,), ``gun_on`` (N,) and
        ``wall_s`` (N,), the monotonic wall clock when each step ran (pacing diagnostics)."""
        n = len(self._t)
        return dict(
            t_s=np.asarray(self._t, dtype=float),
            q_rad=np.asarray(self._q, dtype=float).reshape(n, -1),
            trigger_cmd=np.asarray(self._cmd, dtype=bool),
            gun_on=np.asarray(self._gun, dtype=bool),
            wall_s=np.asarray(self._wall, dtype=float),
        )

    @property
    def pose(self) -> PlanarPose:
        return PlanarPose.of(self.T_world_part, self.fed.reference_xy_mm)


@dataclass(frozen=True)
class StepOutput:
    """What one step of a cell gives the node to publish."""

    q_rad: np.ndarray
    qd_rad_s: np.ndarray
    gun_on: bool
    moving: bool
    state: FaultState
    events: tuple[Any, ...] = ()


def _home(joint_names: tuple[str, ...]) -> np.ndarray:
    if joint_names == PAINTER6_JOINTS:
        return np.array(PAINTER6_HOME, dtype=float)
    return np.zeros(len(joint_names))


class SimCell:
    """One cell of a world (see the module docstring).

    Parameters
    ----------
    cell : sim.world.CellWorld
    seed : int
        The world's seed (feed, lighting and sensor noise per part).
    max_parts : int, optional
        Stop feeding after this many parts (None: keep feeding).
    camera : bool
        Render camera frames (the renderer's set-up takes about 0.5 s per camera).
    """

    def __init__(
        self, cell, seed: int, *, max_parts: int | None = None, camera: bool = True
    ) -> None:
        from sim.render import CameraRenderer

        self.world_cell = cell
        self.id: str = cell.id
        self.seed = int(seed)
        self.max_parts = max_parts
        self.robot = RobotSim.for_cell(cell)
        names = self.robot.joint_names
        self.follower = TrajectoryFollower(names, _home(names), tau_s=TRACKING_TAU_S)
        self.robot.set_joint_positions(self.follower.q)
        gun = cell.spec.gun
        self.valve = GunValve(gun.on_latency_s, gun.off_latency_s)
        self.conveyor = Conveyor.for_cell(cell)
        self.feed = PartFeed(cell.spec.feed, seed, stream=cell.index)
        self.renderer = (
            CameraRenderer(cell.calibration, cell.belt, texture_seed=self.seed * 101 + cell.index)
            if camera
            else None
        )
        self.cycle: PartCycle | None = None
        self.fed_count = 0
        self.finished_count = 0
        self._next_fed: FedPart | None = None
        self._belt_when_full: tuple[float, int] | None = None
        self._q_checked = self.follower.q.copy()
        # a bound of how far any robot point moved since the start (mm), and for each
        # obstacle the value of it at which the obstacle is checked again
        self._travel_mm = 0.0
        self._check_due_mm: dict[str, float] = {}
        self._next_check_mm = 0.0
        self._collision_fault: int | None = None
        self._camera_truth: dict[int, dict] = {}

    # -- inputs ------------------------------------------------------------------------------
    def on_trajectory(self, msg: Any, now_s: float, clock_ns: int | None) -> None:
        """A ``JointTrajectory`` (see :meth:`TrajectoryFollower.set_from_message`)."""
        self.follower.set_from_message(msg, now_s, clock_ns)

    def on_trigger(self, on: bool, now_s: float) -> None:
        self.valve.command(on, now_s)

    def part_id(self, index: int) -> str:
        return f"{self.id}-{index:04d}"

    # -- the step ------------------------------------------------------------------------------
    def step(self, now_s: float, dt_s: float, faults: FaultInjector) -> StepOutput:
        """Advance the cell from ``now_s`` by ``dt_s`` (see the module docstring)."""
        state = faults.state(self.id, now_s)
        follower = self.follower
        follower.frozen = not state.motion_allowed
        q_before = follower.q
        q_rep, qd = follower.step(now_s)
        q = follower.q
        moving = bool((q != q_before).any())
        events: list[Any] = []
        hit = self._check_collision(now_s, faults)
        if hit is not None:
            events.append(hit)
        gun_on = self.valve.output(now_s) and state.spray_allowed and self._collision_fault is None
        if self.cycle is not None:
            self.cycle.record(now_s, q, self.valve.commanded, gun_on)
        self._feed(faults)
        for event in self.conveyor.step(dt_s, stopped=not state.conveyor_running):
            t_event = now_s + dt_s
            if event.kind == "camera":
                events.append(self._camera(event.part, t_event, state))
            elif event.kind == "station":
                events.append(self._start_cycle(event.part, t_event, faults))
        return StepOutput(q_rep, qd, gun_on, moving, state, tuple(events))

    def _feed(self, faults: FaultInjector) -> None:
        if self.max_parts is not None and self.fed_count >= self.max_parts:
            return
        if self._next_fed is None:
            i = self.fed_count
            self._next_fed = self.feed.part(i, faults.part_overrides(self.id, i))
        belt = (self.conveyor.travel_mm, len(self.conveyor.parts))
        if belt == self._belt_when_full:  # no room then, nothing moved since
            return
        if self.conveyor.can_load(self._next_fed):
            self.conveyor.load(self._next_fed)
            self.fed_count += 1
            self._next_fed = None
            self._belt_when_full = None
        else:
            self._belt_when_full = belt

    def _recheck_obstacles(self) -> None:
        """Check every obstacle at the next step (one was placed or removed)."""
        self._check_due_mm.clear()
        self._next_check_mm = self._travel_mm

    def _check_collision(self, now_s: float, faults: FaultInjector) -> CollisionEvent | None:
        """Robot links against the obstacles, each measured only when the robot may have
        covered its last clearance: no point of the robot moves farther than ``REACH_MM``
        times the summed joint travel (a bound for a chain of revolute joints)."""
        if self._collision_fault is not None:
            return None
        q = self.follower.q
        self._travel_mm += float(np.abs(q - self._q_checked).sum()) * REACH_MM
        self._q_checked = q  # the follower replaces its q, never changes it in place
        travel = self._travel_mm
        if travel < self._next_check_mm:
            return None
        due = self._check_due_mm
        names = [n for n in self.robot.obstacle_names if due.get(n, -1.0) <= travel]
        if (self.robot.joint_positions() != q).any():  # PyBullet's joints follow lazily
            self.robot.set_joint_positions(q)
        contacts = self.robot.contacts(COLLISION_RANGE_MM, obstacles=names)
        for name in names:
            due[name] = travel + COLLISION_RANGE_MM - CONTACT_MM
        for c in contacts:
            due[c.obstacle] = min(due[c.obstacle], travel + c.distance_mm - CONTACT_MM)
        self._next_check_mm = min(due.values(), default=travel + COLLISION_RANGE_MM)
        nearest = contacts[0] if contacts else None
        if nearest is None or nearest.distance_mm > CONTACT_MM:
            return None
        event = CollisionEvent(self.id, now_s, nearest.link, nearest.obstacle, nearest.distance_mm)
        stop = parse_fault_command({"kind": "servo_fault", "cell": self.id})
        self._collision_fault = faults.inject(stop, now_s).id
        if self.cycle is not None:
            self.cycle.collisions.append(event)
        log.warning("%s", event.text)
        return event

    def _camera(self, part: BeltPart, t_s: float, state: FaultState) -> CameraEvent:
        views = self.conveyor.views()
        k = self.conveyor.parts.index(part)
        frame = None
        if self.renderer is None:
            truth = None
        elif state.camera_ok:
            spec = self.world_cell.spec
            rng = np.random.default_rng([self.seed, self.world_cell.index, part.fed.index, 1])
            frame = self.renderer.render(
                views,
                lighting=spec.lighting.draw(rng),
                noise_std=float(rng.uniform(*spec.camera.noise_std)),
                blur_sigma_px=float(rng.uniform(*spec.camera.blur_sigma_px)),
                belt_offset_mm=self.conveyor.travel_mm,
                rng=rng,
            )
            truth = frame.truth[k]
        else:
            truth = self.renderer.truth(views)[k]
        if truth is None:
            truth = PartTruth(
                part.fed.name,
                self.conveyor.pose(part),
                np.zeros((0, 2)),
                (),
                part.fed.part.thickness_mm,
                np.zeros((0, 2)),
                "none",
                0.0,
            )
        self._camera_truth[part.uid] = dict(
            t_s=round(t_s, 6), published=frame is not None, truth=truth.to_dict()
        )
        return CameraEvent(self.id, part, t_s, frame, truth)

    def _start_cycle(self, part: BeltPart, t_s: float, faults: FaultInjector) -> StationEvent:
        T = self.conveyor.T_world_part(part)
        cycle = PartCycle(
            self.id,
            part,
            self.part_id(part.fed.index),
            t_s,
            T,
            camera=self._camera_truth.pop(part.uid, None),
        )
        self.cycle = cycle
        faults.start_part(self.id, part.fed.index, t_s)
        self.robot.set_part("part", part.fed.part, T)
        self._recheck_obstacles()
        return StationEvent(self.id, cycle)

    # -- the end of a cycle ----------------------------------------------------------------------
    def finish(
        self, part_id: str, program: dict, now_s: float, faults: FaultInjector
    ) -> PartCycle | None:
        """The cell is done with the part at the station (its program ended, or the edge
        released it): the part rides on; returns its cycle, or None when ``part_id`` is not
        the part at the station (an empty ``part_id`` means whichever is there)."""
        cycle = self.cycle
        if cycle is None or (part_id and part_id != cycle.part_id):
            return None
        cycle.t_end_s = now_s
        cycle.program = dict(program)
        faults.end_part(self.id, cycle.index, now_s)
        if self._collision_fault is not None:
            faults.end(self._collision_fault, now_s)
            self._collision_fault = None
        self.robot.remove("part")
        self._recheck_obstacles()
        self.conveyor.release()
        self.cycle = None
        self.finished_count += 1
        return cycle

    @property
    def busy(self) -> bool:
        """A part is at the station."""
        return self.cycle is not None

    @property
    def done(self) -> bool:
        """Every part this cell was to paint has been through the station."""
        return self.max_parts is not None and self.finished_count >= self.max_parts

    def close(self) -> None:
        self.robot.close()


__all__ = [
    "COLLISION_RANGE_MM",
    "REACH_MM",
    "CameraEvent",
    "CollisionEvent",
    "GunValve",
    "PartCycle",
    "SimCell",
    "StationEvent",
    "StepOutput",
]
