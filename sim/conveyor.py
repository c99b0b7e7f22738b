"""The infeed belt of a cell: parts ride it from the entry zone, past the camera, to the
spray station, where the belt stops until the station releases the part; released parts
ride on to the exit zone and are taken off.

Pure kinematics in belt coordinates: every part's reference point has a position ``s_mm``
along the belt; its lateral place and heading are the station's (plus the part's own
placement error), so the pose the camera sees and the pose at the station differ by a
translation along the belt only. The belt is one piece: it runs at ``speed_mm_s`` unless
a part waits at the station or a fault stops it.
"""

from __future__ import annotations

import math
from dataclasses import dataclass, field

import numpy as np

from sim.feed import FedPart
from sim.frames import BeltFrame, PlanarPose, yaw_deg
from sim.scene import PartView

INBOUND, AT_STATION, OUTBOUND = "inbound", "at_station", "outbound"


@dataclass
class BeltPart:
    """A part on the belt."""

    uid: int
    fed: FedPart
    s_mm: float
    state: str = INBOUND
    half_length_mm: float = 0.0
    imaged: bool = False


@dataclass(frozen=True)
class ConveyorEvent:
    """``kind``: "camera" (the part's reference point crossed the camera's view centre),
    "station" (it arrived at the station), "exit" (it reached the exit zone and was taken
    off)."""

    kind: str
    part: BeltPart


@dataclass
class Conveyor:
    """One cell's belt. Build it with :meth:`for_cell`.

    Attributes
    ----------
    belt : BeltFrame
    speed_mm_s : float
    entry_zone_mm, exit_zone_mm : (from, to) along the belt.
    station_s_mm, camera_s_mm : float
    station_l_mm, station_theta_deg, station_z_mm : the nominal placement at the station.
    gap_mm : free belt kept between parts when loading.
    """

    belt: BeltFrame
    speed_mm_s: float
    entry_zone_mm: tuple[float, float]
    exit_zone_mm: tuple[float, float]
    station_s_mm: float
    camera_s_mm: float
    station_l_mm: float = 0.0
    station_theta_deg: float = 0.0
    station_z_mm: float = 0.0
    gap_mm: float = 300.0
    parts: list[BeltPart] = field(default_factory=list)
    travel_mm: float = 0.0
    _next_uid: int = 0
    _waiting: tuple[FedPart, float] | None = field(default=None, repr=False, compare=False)

    @classmethod
    def for_cell(cls, cell) -> Conveyor:
        """The belt of a world cell (:class:`sim.world.CellWorld`)."""
        spec = cell.spec.conveyor
        T = cell.T_world_station
        _, lateral = cell.belt.to_belt(T[None, :2, 3])[0]
        return cls(
            belt=cell.belt,
            speed_mm_s=spec.speed_mm_s,
            entry_zone_mm=spec.entry_zone_mm,
            exit_zone_mm=spec.exit_zone_mm,
            station_s_mm=cell.station_s_mm,
            camera_s_mm=cell.camera_s_mm,
            station_l_mm=float(lateral),
            station_theta_deg=yaw_deg(T),
            station_z_mm=float(T[2, 3]),
            gap_mm=cell.spec.feed.gap_mm,
        )

    # --- poses ------------------------------------------------------------------------------
    def nominal_pose(self, s_mm: float, *, lifted: bool = False) -> PlanarPose:
        """Where a part's reference point should be at ``s_mm`` along the belt."""
        xy = self.belt.to_world(s_mm, self.station_l_mm)
        z = self.station_z_mm if lifted else 0.0
        return PlanarPose(float(xy[0]), float(xy[1]), self.station_theta_deg, z)

    def pose(self, part: BeltPart) -> PlanarPose:
        """The part's real pose (its placement error included)."""
        return part.fed.pose(self.nominal_pose(part.s_mm, lifted=part.state == AT_STATION))

    def T_world_part(self, part: BeltPart) -> np.ndarray:
        """(4, 4) real pose of the part frame: at the station, what the gun paints."""
        return self.pose(part).T_world_part(part.fed.reference_xy_mm)

    def views(self) -> list[PartView]:
        """The parts on the belt, for the camera renderer."""
        return [
            PartView(p.fed.part, self.T_world_part(p), p.fed.albedo, p.fed.reference_xy_mm)
            for p in self.parts
        ]

    def half_length_mm(self, fed: FedPart) -> float:
        """Half the part's extent along the belt at its nominal heading."""
        theta = self.station_theta_deg + fed.offset[2] - self.belt.direction_deg
        ring = np.asarray(fed.part.outline.exterior.coords)
        along = np.array([math.cos(math.radians(theta)), -math.sin(math.radians(theta))])
        proj = (ring - fed.reference_xy_mm) @ along
        return float(np.abs(proj).max())

    # --- flow -------------------------------------------------------------------------------
    @property
    def at_station(self) -> BeltPart | None:
        for p in self.parts:
            if p.state == AT_STATION:
                return p
        return None

    def can_load(self, fed: FedPart) -> bool:
        """The entry zone has room for ``fed`` with the gap to the part ahead."""
        s = 0.5 * sum(self.entry_zone_mm)
        if self._waiting is None or self._waiting[0] is not fed:  # asked every step while full
            self._waiting = (fed, self.half_length_mm(fed))
        half = self._waiting[1]
        return all(p.s_mm - p.half_length_mm >= s + half + self.gap_mm for p in self.parts)

    def load(self, fed: FedPart) -> BeltPart:
        """Put ``fed`` on the belt in the middle of the entry zone."""
        part = BeltPart(
            self._next_uid,
            fed,
            0.5 * sum(self.entry_zone_mm),
            half_length_mm=self.half_length_mm(fed),
        )
        self._next_uid += 1
        self.parts.append(part)
        return part

    def release(self) -> BeltPart | None:
        """The station is done with its part: it rides on to the exit."""
        part = self.at_station
        if part is not None:
            part.state = OUTBOUND
        return part

    def step(self, dt_s: float, *, stopped: bool = False) -> list[ConveyorEvent]:
        """Advance the belt by ``dt_s`` (not at all when ``stopped`` or a part is held at the
        station); returns what happened, in order along the belt."""
        if stopped or self.at_station is not None or not self.parts:
            return []
        travel = self.speed_mm_s * dt_s
        lead = [p for p in self.parts if p.state == INBOUND]
        if lead:
            travel = min(travel, self.station_s_mm - max(p.s_mm for p in lead))
        travel = max(travel, 0.0)
        events = []
        for p in self.parts:
            before = p.s_mm
            p.s_mm += travel
            if not p.imaged and before <= self.camera_s_mm <= p.s_mm and travel > 0:
                p.imaged = True
                events.append(ConveyorEvent("camera", p))
            if p.state == INBOUND and p.s_mm >= self.station_s_mm - 1e-9:
                p.s_mm = self.station_s_mm
                p.state = AT_STATION
                events.append(ConveyorEvent("station", p))
            elif p.state == OUTBOUND and p.s_mm >= self.exit_zone_mm[0]:
                events.append(ConveyorEvent("exit", p))
        self.parts = [
            p for p in self.parts if not (p.state == OUTBOUND and p.s_mm >= self.exit_zone_mm[0])
        ]
        self.travel_mm += travel
        return events
