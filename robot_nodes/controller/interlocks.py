"""Interlock signals of a spray booth and whether they permit spraying.

The signals are the fields of ``coatshare_interfaces/Interlocks`` on ``interlocks``
(reliable, transient local), published by the safety PLC bridge on every change and
periodically (the deprecated per-signal ``std_msgs/Bool`` topics ``interlocks/<name>`` feed
the same values). A signal never received, or not refreshed within ``timeout_s``, counts as
unsafe: spraying needs every required signal present, fresh and safe.

| signal | safe value | when unsafe while running |
|---|---|---|
| ``estop`` | False | ESTOP (state ESTOP) |
| ``door_closed`` | True | DOOR_OPEN (fault) |
| ``paint_pressure_ok`` | True | PAINT_PRESSURE_LOST (fault) |
| ``booth_airflow_ok`` | True | BOOTH_AIRFLOW_LOST (fault) |
| any, stale | | INTERLOCK_STALE (fault) |
"""

from __future__ import annotations

from dataclasses import dataclass

from robot_nodes.controller.config import INTERLOCK_SIGNALS, InterlockConfig
from robot_nodes.controller.faults import FaultCode

SAFE_VALUE = {
    "estop": False,
    "door_closed": True,
    "paint_pressure_ok": True,
    "booth_airflow_ok": True,
}
_FAULT = {
    "estop": (FaultCode.ESTOP, "emergency stop engaged"),
    "door_closed": (FaultCode.DOOR_OPEN, "booth door open"),
    "paint_pressure_ok": (FaultCode.PAINT_PRESSURE_LOST, "paint pressure lost"),
    "booth_airflow_ok": (FaultCode.BOOTH_AIRFLOW_LOST, "booth extraction airflow lost"),
}


@dataclass(frozen=True)
class InterlockProblem:
    """The first reason spraying is not permitted."""

    signal: str
    code: FaultCode
    text: str


class Interlocks:
    """Latest value and arrival time of each interlock signal.

    Parameters
    ----------
    config : InterlockConfig
        Required signals and the staleness timeout (0: values never go stale).
    """

    def __init__(self, config: InterlockConfig) -> None:
        self.required = tuple(config.required)
        self._order = tuple(sorted(self.required, key=lambda s: s != "estop"))
        self.timeout_s = float(config.timeout_s)
        self._value: dict[str, bool] = {}
        self.updates = 0
        """Values received so far (a change count for caches of what depends on them)."""
        self._stamp: dict[str, float] = {}

    def update(self, signal: str, value: bool, now_s: float) -> None:
        """Record a received value.

        Raises
        ------
        KeyError
            For a signal name that is not an interlock.
        """
        if signal not in INTERLOCK_SIGNALS:
            raise KeyError(signal)
        self._value[signal] = bool(value)
        self._stamp[signal] = float(now_s)
        self.updates += 1

    def value(self, signal: str) -> bool | None:
        """Last received value, None when never received."""
        return self._value.get(signal)

    def is_fresh(self, signal: str, now_s: float) -> bool:
        if signal not in self._stamp:
            return False
        return self.timeout_s <= 0 or now_s - self._stamp[signal] <= self.timeout_s

    def estop_engaged(self) -> bool:
        """True while the last e-stop value received says engaged (staleness aside)."""
        return bool(self._value.get("estop", False))

    def problems(self, now_s: float) -> list[InterlockProblem]:
        """Every reason spraying is not permitted now, e-stop first."""
        if self._all_safe(now_s):
            return []
        out: list[InterlockProblem] = []
        for signal in self._order:
            value = self._value.get(signal)
            if value is None:
                out.append(
                    InterlockProblem(
                        signal, FaultCode.INTERLOCK_STALE, f"interlocks/{signal} never received"
                    )
                )
            elif not self.is_fresh(signal, now_s):
                age = now_s - self._stamp[signal]
                out.append(
                    InterlockProblem(
                        signal,
                        FaultCode.INTERLOCK_STALE,
                        f"interlocks/{signal} not refreshed for {age:.1f} s "
                        f"(timeout {self.timeout_s:g} s)",
                    )
                )
            elif value != SAFE_VALUE[signal]:
                code, text = _FAULT[signal]
                out.append(InterlockProblem(signal, code, text))
        return out

    def _all_safe(self, now_s: float) -> bool:
        """Every required signal received, fresh and safe (the common case, checked often)."""
        value, stamp, timeout = self._value, self._stamp, self.timeout_s
        for signal in self._order:
            if value.get(signal) is not SAFE_VALUE[signal]:
                return False
            if timeout > 0 and now_s - stamp[signal] > timeout:
                return False
        return True

    def spray_permitted(self, now_s: float) -> bool:
        """Whether the interlock chain permits triggering the gun."""
        return self._all_safe(now_s)

    def snapshot(self) -> dict[str, bool | None]:
        return {s: self._value.get(s) for s in INTERLOCK_SIGNALS}


__all__ = ["SAFE_VALUE", "InterlockProblem", "Interlocks"]
