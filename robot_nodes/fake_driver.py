"""A minimal in-process robot driver for unit tests of the controller logic only.

:class:`FakeDriver` is the controller's output port (:class:`~robot_nodes.controller.CellOutputs`)
and the robot at once: it records every leg, gun command and report, and produces joint
states by running the last leg it received, on a simulated clock. Real processes and the
``dds`` bus are exercised with :mod:`sim.follower` instead; nothing in production uses this.

Example::

    driver = FakeDriver(robot.joint_names, robot.home_rad)
    controller = CellController(config, robot, driver, verifier=..., recipes=...)
    driver.run(controller, t_from=0.0, t_to=5.0)
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from dataclasses import dataclass, field

import numpy as np

from robot_nodes.controller.legs import Leg
from robot_nodes.controller.reports import CellReport, PartReport, StatusReport


@dataclass
class FakeDriver:
    """Records the controller's outputs and plays legs back as joint states.

    Attributes
    ----------
    joint_names : sequence of str
    q_rad : (n,) ndarray
        Current joint positions.
    lag_tau_s : float
        First-order tracking lag of the simulated axes (0: perfect tracking).
    offset_rad : (n,) ndarray
        Added to the reported positions (a disturbance).
    frozen : bool
        When True the robot does not move (a stalled axis).
    start_delay : float
        Delay between sending a leg and its start (as the node stamps trajectories).
    """

    joint_names: Sequence[str]
    q_rad: np.ndarray
    lag_tau_s: float = 0.0
    offset_rad: np.ndarray | None = None
    frozen: bool = False
    start_delay: float = 0.0
    legs: list[tuple[float, Leg]] = field(default_factory=list)
    gun: list[tuple[float, bool]] = field(default_factory=list)
    statuses: list[StatusReport] = field(default_factory=list)
    cells: list[CellReport] = field(default_factory=list)
    results: list[PartReport] = field(default_factory=list)
    now_s: float = 0.0
    history: list[tuple[float, np.ndarray]] = field(default_factory=list)

    def __post_init__(self) -> None:
        self.q_rad = np.asarray(self.q_rad, dtype=float).copy()
        self._ref = self.q_rad.copy()
        self._last_step_s: float | None = None

    # -- CellOutputs --------------------------------------------------------------------
    def start_delay_s(self, n_points: int) -> float:
        return self.start_delay

    def send_leg(self, leg: Leg, start_delay_s: float) -> None:
        self.legs.append((self.now_s + start_delay_s, leg))

    def set_gun(self, on: bool) -> None:
        self.gun.append((self.now_s, bool(on)))

    def publish_status(self, report: StatusReport) -> None:
        self.statuses.append(report)

    def publish_cell(self, report: CellReport) -> None:
        self.cells.append(report)

    def publish_part_result(self, report: PartReport) -> None:
        self.results.append(report)

    # -- the robot ----------------------------------------------------------------------
    def reference(self, now_s: float) -> np.ndarray:
        """Commanded joints now: the last leg interpolated linearly in time."""
        started = [(t0, leg) for t0, leg in self.legs if t0 <= now_s]
        if not started:
            return self._ref
        t0, leg = started[-1]
        t = np.clip(now_s - t0, 0.0, leg.duration_s)
        return np.array([np.interp(t, leg.t_s, leg.q_rad[:, j]) for j in range(leg.q_rad.shape[1])])

    def step(self, now_s: float) -> np.ndarray:
        """Advance the simulated axes to ``now_s``; returns the reported positions."""
        dt = 0.0 if self._last_step_s is None else max(0.0, now_s - self._last_step_s)
        self._last_step_s = now_s
        self.now_s = max(self.now_s, now_s)
        if not self.frozen:
            ref = self.reference(now_s)
            if self.lag_tau_s > 0:
                self.q_rad = ref + (self.q_rad - ref) * np.exp(-dt / self.lag_tau_s)
            else:
                self.q_rad = ref
        reported = self.q_rad + (0.0 if self.offset_rad is None else self.offset_rad)
        self.history.append((now_s, reported.copy()))
        return reported

    def run(
        self,
        controller: object,
        t_from: float,
        t_to: float,
        *,
        js_period_s: float = 0.004,
        tick_period_s: float = 0.002,
        until: Callable[[], bool] | None = None,
        events: Sequence[tuple[float, Callable[[], None]]] = (),
    ) -> float:
        """Drive ``controller`` (a CellController) on simulated time.

        Steps ``t_from`` + k ``tick_period_s`` up to ``t_to``: joint states every
        ``js_period_s``, a tick every step, and ``events`` (time, callable) at their times.
        Stops early when ``until()`` is true.

        Returns
        -------
        float
            The last simulated time processed.
        """
        pending = sorted(events, key=lambda e: e[0])
        n = max(0, int(round((t_to - t_from) / tick_period_s)))
        next_js = t_from + tick_period_s
        t = t_from
        for i in range(1, n + 1):
            t = t_from + i * tick_period_s
            self.now_s = max(self.now_s, t)
            while pending and pending[0][0] <= t:
                pending.pop(0)[1]()
            if t >= next_js - 1e-9:
                q = self.step(t)
                controller.on_joint_state(self.joint_names, q, t)  # type: ignore[attr-defined]
                next_js += js_period_s
            controller.tick(t)  # type: ignore[attr-defined]
            if until is not None and until():
                return t
        return t

    def gun_is_on(self) -> bool:
        return bool(self.gun and self.gun[-1][1])


__all__ = ["FakeDriver"]
