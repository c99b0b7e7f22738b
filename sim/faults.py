"""Faults: the schedule of a world file and live injection, as pure bookkeeping.

A fault is a spec (what, where, when, for how long) that becomes an :class:`ActiveFault`
with a start and an end in sim time:

* ``time_s``: at that sim time;
* ``part`` (+ ``offset_s``): when that part's cycle starts on the cell (``start_part``);
* neither (live injection): now.

``duration_s`` bounds it; without one it lasts until cleared (``clear``), or for faults tied
to a part, until that part's cycle ends. ``misplaced_part`` and ``wrong_part`` change a part
as it is fed (``part_overrides``); live ones without ``part`` apply to the next part.

The node that carries live commands (a JSON string on a topic) only parses them with
:func:`parse_fault_command` and calls :meth:`FaultInjector.apply`; the cell's step asks
:meth:`FaultInjector.state`, the deposition asks for ``flow_factor`` and ``spray_allowed``
over its sample times.
"""

from __future__ import annotations

import json
import math
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from typing import Annotated, Any, Literal

import numpy as np
import yaml
from pydantic import BaseModel, ConfigDict, Field, TypeAdapter, ValidationError, model_validator

from recipes.errors import InvalidInputError

FAULT_KINDS = (
    "gun_clog",
    "pressure_loss",
    "estop",
    "servo_fault",
    "camera_dropout",
    "conveyor_stop",
    "misplaced_part",
    "wrong_part",
)
#: faults that change a part as it is fed rather than the cell over a time window
PART_KINDS = ("misplaced_part", "wrong_part")
#: stable fault codes (ProgramStatus.fault_code) of the kinds that stop a program
FAULT_CODES = {
    "estop": "ESTOP",
    "servo_fault": "SERVO_FAULT",
    "pressure_loss": "PAINT_PRESSURE_LOSS",
    "gun_clog": "GUN_CLOG",
    "camera_dropout": "CAMERA_DROPOUT",
    "conveyor_stop": "CONVEYOR_STOP",
}


class _Fault(BaseModel):
    model_config = ConfigDict(extra="forbid", frozen=True)

    cell: str | None = Field(None, description="cell id; None: every cell")
    time_s: float | None = Field(None, ge=0, description="sim time of the start")
    part: int | None = Field(None, ge=0, description="part index (0-based) on the cell")
    offset_s: float = Field(0.0, ge=0, description="with part: after its cycle starts")
    duration_s: float | None = Field(None, gt=0, description="None: until cleared")

    @model_validator(mode="after")
    def _when(self) -> _Fault:
        if self.time_s is not None and self.part is not None:
            raise ValueError("give time_s or part, not both")
        if self.offset_s and self.part is None:
            raise ValueError("offset_s counts from a part's start: it needs part")
        return self


class GunClog(_Fault):
    kind: Literal["gun_clog"]
    flow_factor: float = Field(0.3, ge=0, lt=1, description="share of the flow left")


class PressureLoss(_Fault):
    kind: Literal["pressure_loss"]


class EStop(_Fault):
    kind: Literal["estop"]


class ServoFault(_Fault):
    kind: Literal["servo_fault"]
    joint: str | None = Field(None, description="joint name; None: the whole drive")


class CameraDropout(_Fault):
    kind: Literal["camera_dropout"]


class ConveyorStop(_Fault):
    kind: Literal["conveyor_stop"]


class _PartFault(_Fault):
    @model_validator(mode="after")
    def _part_only(self) -> _PartFault:
        if self.time_s is not None or self.offset_s or self.duration_s is not None:
            raise ValueError("a part fault is tied to a part: use part (or nothing: the next one)")
        return self


class MisplacedPart(_PartFault):
    kind: Literal["misplaced_part"]
    dx_mm: float = 0.0
    dy_mm: float = 0.0
    dtheta_deg: float = 0.0


class WrongPart(_PartFault):
    kind: Literal["wrong_part"]
    spec: str = Field(min_length=1, description="part spec of the part that comes instead")


FaultSpec = Annotated[
    GunClog
    | PressureLoss
    | EStop
    | ServoFault
    | CameraDropout
    | ConveyorStop
    | MisplacedPart
    | WrongPart,
    Field(discriminator="kind"),
]


class ClearFaults(BaseModel):
    """Live command ending active faults (e.g. an e-stop reset)."""

    model_config = ConfigDict(extra="forbid", frozen=True)

    kind: Literal["clear"]
    fault: Literal[FAULT_KINDS] | None = Field(None, description="None: every kind")  # type: ignore[valid-type]
    cell: str | None = None


FaultCommand = Annotated[
    GunClog
    | PressureLoss
    | EStop
    | ServoFault
    | CameraDropout
    | ConveyorStop
    | MisplacedPart
    | WrongPart
    | ClearFaults,
    Field(discriminator="kind"),
]
_COMMAND = TypeAdapter(FaultCommand)


def parse_fault_command(payload: str | bytes | Mapping, source: str = "fault command"):
    """A live command from JSON/YAML text or a mapping: a fault spec or :class:`ClearFaults`.

    Example: ``{"kind": "gun_clog", "cell": "1", "duration_s": 3, "flow_factor": 0.2}``.
    """
    if isinstance(payload, bytes):
        payload = payload.decode("utf-8")
    if isinstance(payload, str):
        try:
            data = json.loads(payload)
        except json.JSONDecodeError:
            try:
                data = yaml.safe_load(payload)
            except yaml.YAMLError as exc:
                raise InvalidInputError(
                    "(root)", f"not JSON or YAML: {exc}", source=source
                ) from None
    else:
        data = dict(payload)
    try:
        return _COMMAND.validate_python(data)
    except ValidationError as exc:
        err = exc.errors()[0]
        loc = ".".join(str(p) for p in err["loc"]) or "(root)"
        raise InvalidInputError(
            loc, err["msg"].removeprefix("Value error, "), source=source
        ) from None


@dataclass(frozen=True)
class ActiveFault:
    """A fault placed in sim time on one cell (``cell`` None: every cell)."""

    id: int
    spec: Any
    cell: str | None
    start_s: float
    end_s: float = math.inf
    source: str = "schedule"

    @property
    def kind(self) -> str:
        return self.spec.kind

    def applies_to(self, cell: str) -> bool:
        return self.cell is None or self.cell == cell

    def active_at(self, t_s: float) -> bool:
        return self.start_s <= t_s < self.end_s


@dataclass(frozen=True)
class FaultState:
    """What the active faults do to a cell at one instant."""

    estop: bool = False
    servo_faults: tuple[str, ...] = ()
    pressure_ok: bool = True
    flow_factor: float = 1.0
    camera_ok: bool = True
    conveyor_running: bool = True
    faults: tuple[ActiveFault, ...] = ()

    @property
    def motion_allowed(self) -> bool:
        return not self.estop and not self.servo_faults

    @property
    def spray_allowed(self) -> bool:
        """The gun may open: no e-stop, no servo fault, paint pressure present."""
        return self.motion_allowed and self.pressure_ok

    @property
    def fault_code(self) -> str:
        """The most severe active code ('' if none), for ProgramStatus.fault_code."""
        for kind in (
            "estop",
            "servo_fault",
            "pressure_loss",
            "gun_clog",
            "conveyor_stop",
            "camera_dropout",
        ):
            if any(f.kind == kind for f in self.faults):
                return FAULT_CODES[kind]
        return ""


@dataclass(frozen=True)
class PartOverrides:
    """What faults do to one fed part."""

    misplace: tuple[float, float, float] | None = None
    wrong_spec: str | None = None
    faults: tuple[ActiveFault, ...] = ()


@dataclass
class FaultInjector:
    """The schedule of a world plus live injections, queried by cell and time."""

    schedule: Sequence[Any] = ()
    _active: list[ActiveFault] = field(default_factory=list, init=False, repr=False)
    _by_part: list[tuple[Any, str]] = field(default_factory=list, init=False, repr=False)
    _next_part: list[ActiveFault] = field(default_factory=list, init=False, repr=False)
    _next_id: int = field(default=0, init=False, repr=False)
    _version: int = field(default=0, init=False, repr=False)
    _cache: dict[str, tuple[int, float, float, FaultState]] = field(
        default_factory=dict, init=False, repr=False
    )

    def __post_init__(self) -> None:
        for spec in self.schedule:
            if spec.part is not None:
                self._by_part.append((spec, "schedule"))
            elif spec.time_s is not None:
                self._add(spec, spec.cell, spec.time_s, "schedule")
            else:
                raise InvalidInputError("faults", f"a scheduled {spec.kind} needs time_s or part")

    # --- changes ------------------------------------------------------------------------
    def _add(self, spec: Any, cell: str | None, start_s: float, source: str) -> ActiveFault:
        end = start_s + spec.duration_s if getattr(spec, "duration_s", None) else math.inf
        fault = ActiveFault(self._next_id, spec, cell, float(start_s), float(end), source)
        self._next_id += 1
        self._active.append(fault)
        self._version += 1
        return fault

    def apply(self, command: Any, now_s: float) -> list[ActiveFault]:
        """Carry out a live command (a fault spec or :class:`ClearFaults`)."""
        if isinstance(command, ClearFaults):
            return self.clear(now_s, kind=command.fault, cell=command.cell)
        return [self.inject(command, now_s)]

    def inject(self, spec: Any, now_s: float) -> ActiveFault:
        """A live fault: at ``time_s`` if that is still ahead, else now; part faults without a
        part index hit the next part fed."""
        if isinstance(spec, Mapping):
            spec = parse_fault_command(spec)
        if spec.part is not None:
            self._by_part.append((spec, "live"))
            return ActiveFault(-1, spec, spec.cell, math.inf, math.inf, "live")
        if spec.kind in PART_KINDS:
            fault = ActiveFault(self._next_id, spec, spec.cell, float(now_s), math.inf, "live")
            self._next_id += 1
            self._next_part.append(fault)
            return fault
        start = spec.time_s if spec.time_s is not None and spec.time_s >= now_s else now_s
        return self._add(spec, spec.cell, start, "live")

    def clear(
        self, now_s: float, *, kind: str | None = None, cell: str | None = None
    ) -> list[ActiveFault]:
        """End the faults active at ``now_s`` (of ``kind``, on ``cell``; None: all)."""
        ended = []
        for i, f in enumerate(self._active):
            if not f.active_at(now_s) or (kind is not None and f.kind != kind):
                continue
            if cell is not None and f.cell is not None and f.cell != cell:
                continue
            self._active[i] = ActiveFault(f.id, f.spec, f.cell, f.start_s, float(now_s), f.source)
            ended.append(self._active[i])
        self._version += 1
        return ended

    def end(self, fault_id: int, now_s: float) -> ActiveFault | None:
        """End one active fault (by :attr:`ActiveFault.id`) at ``now_s``; None if not active."""
        for i, f in enumerate(self._active):
            if f.id == fault_id and f.active_at(now_s):
                self._active[i] = ActiveFault(
                    f.id, f.spec, f.cell, f.start_s, float(now_s), f.source
                )
                self._version += 1
                return self._active[i]
        return None

    def start_part(self, cell: str, part_index: int, now_s: float) -> list[ActiveFault]:
        """Place the time-window faults tied to this part of this cell; returns them."""
        placed = []
        for spec, source in self._by_part:
            if spec.kind in PART_KINDS or spec.part != part_index:
                continue
            if spec.cell is not None and spec.cell != cell:
                continue
            placed.append(self._add(spec, cell, now_s + spec.offset_s, source))
        return placed

    def end_part(self, cell: str, part_index: int, now_s: float) -> None:
        """End the open-ended faults that were tied to this part."""
        for i, f in enumerate(self._active):
            if (
                f.cell == cell
                and f.spec.part == part_index
                and f.end_s == math.inf
                and f.start_s <= now_s
            ):
                self._active[i] = ActiveFault(
                    f.id, f.spec, f.cell, f.start_s, float(now_s), f.source
                )
                self._version += 1

    def part_overrides(self, cell: str, part_index: int) -> PartOverrides:
        """Misplacement and substitution of part ``part_index`` on ``cell`` (consumes live
        'next part' faults of that cell)."""
        hits: list[ActiveFault] = []
        for spec, source in self._by_part:
            if (
                spec.kind in PART_KINDS
                and spec.part == part_index
                and (spec.cell is None or spec.cell == cell)
            ):
                hits.append(ActiveFault(self._next_id, spec, cell, 0.0, math.inf, source))
                self._next_id += 1
        for f in list(self._next_part):
            if f.cell is None or f.cell == cell:
                hits.append(f)
                self._next_part.remove(f)
        misplace, wrong = None, None
        for f in hits:
            if f.kind == "misplaced_part":
                misplace = (f.spec.dx_mm, f.spec.dy_mm, f.spec.dtheta_deg)
            else:
                wrong = f.spec.spec
        return PartOverrides(misplace, wrong, tuple(hits))

    # --- queries ------------------------------------------------------------------------
    def snapshot(self) -> FaultInjector:
        """A copy whose queries do not see later changes (for work in another thread)."""
        copy = FaultInjector()
        copy._active = list(self._active)
        copy._by_part = list(self._by_part)
        copy._next_part = list(self._next_part)
        copy._next_id = self._next_id
        copy._version = self._version
        return copy

    def active(self, cell: str, t_s: float) -> tuple[ActiveFault, ...]:
        return tuple(f for f in self._active if f.applies_to(cell) and f.active_at(t_s))

    def state(self, cell: str, t_s: float) -> FaultState:
        """What the faults do to ``cell`` at ``t_s`` (cached until the next start or end of a
        fault on the cell, or a change of the faults: the simulator asks every step)."""
        hit = self._cache.get(cell)
        if hit is not None and hit[0] == self._version and hit[1] <= t_s < hit[2]:
            return hit[3]
        lo, hi = -math.inf, math.inf
        for f in self._active:
            if f.applies_to(cell):
                for edge in (f.start_s, f.end_s):
                    if edge <= t_s:
                        lo = max(lo, edge)
                    else:
                        hi = min(hi, edge)
        faults = self.active(cell, t_s)
        flow = 1.0
        for f in faults:
            if f.kind == "gun_clog":
                flow *= f.spec.flow_factor
        state = FaultState(
            estop=any(f.kind == "estop" for f in faults),
            servo_faults=tuple((f.spec.joint or "*") for f in faults if f.kind == "servo_fault"),
            pressure_ok=not any(f.kind == "pressure_loss" for f in faults),
            flow_factor=flow,
            camera_ok=not any(f.kind == "camera_dropout" for f in faults),
            conveyor_running=not any(f.kind in ("conveyor_stop", "estop") for f in faults),
            faults=faults,
        )
        self._cache[cell] = (self._version, lo, hi, state)
        return state

    def _windows(self, cell: str, kinds: tuple[str, ...]) -> list[ActiveFault]:
        return [f for f in self._active if f.applies_to(cell) and f.kind in kinds]

    def flow_factor(self, cell: str, t_s: np.ndarray) -> np.ndarray:
        """(N,) share of the nominal flow at times ``t_s`` (N,) (gun clogs multiply)."""
        t = np.asarray(t_s, dtype=float)
        out = np.ones_like(t)
        for f in self._windows(cell, ("gun_clog",)):
            out[(t >= f.start_s) & (t < f.end_s)] *= f.spec.flow_factor
        return out

    def spray_allowed(self, cell: str, t_s: np.ndarray) -> np.ndarray:
        """(N,) bool: the gun may open at times ``t_s`` (no e-stop, servo fault or loss of
        paint pressure)."""
        t = np.asarray(t_s, dtype=float)
        ok = np.ones(t.shape, dtype=bool)
        for f in self._windows(cell, ("estop", "servo_fault", "pressure_loss")):
            ok &= ~((t >= f.start_s) & (t < f.end_s))
        return ok

    def transitions(
        self, cell: str, t0_s: float, t1_s: float
    ) -> list[tuple[float, str, ActiveFault]]:
        """Faults that start or end in [t0, t1) on ``cell``: (time, 'start'|'end', fault)."""
        out = []
        for f in self._active:
            if not f.applies_to(cell):
                continue
            if t0_s <= f.start_s < t1_s:
                out.append((f.start_s, "start", f))
            if t0_s <= f.end_s < t1_s:
                out.append((f.end_s, "end", f))
        return sorted(out, key=lambda e: (e[0], e[2].id))
