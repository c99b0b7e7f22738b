"""The simulator's fixed-step clock (what ``/clock`` publishes) and its lock-step with
controllers on sim time."""

from __future__ import annotations

import time
from collections.abc import Callable

from recipes.errors import InvalidInputError

DEFAULT_STEP_S = 0.004


class SimClock:
    """Sim time in whole nanoseconds, advanced one fixed step at a time.

    Parameters
    ----------
    step_s : float
        Length of a step (default 4 ms). Time is kept as ``steps x step_ns`` so a cell-hour
        of steps does not drift.
    real_time_factor : float, optional
        Sim seconds per wall second; ``tick`` sleeps to hold it. None runs as fast as the
        caller goes.
    wall, sleep : callables
        Monotonic wall clock and sleep (injectable for tests).
    """

    def __init__(
        self,
        step_s: float = DEFAULT_STEP_S,
        real_time_factor: float | None = None,
        *,
        wall: Callable[[], float] = time.monotonic,
        sleep: Callable[[float], None] = time.sleep,
    ) -> None:
        if not step_s > 0:
            raise InvalidInputError("step_s", f"must be > 0, got {step_s}")
        if real_time_factor is not None and not real_time_factor > 0:
            raise InvalidInputError("real_time_factor", f"must be > 0, got {real_time_factor}")
        self.step_ns = round(step_s * 1e9)
        self.real_time_factor = real_time_factor
        self.steps = 0
        self._wall = wall
        self._sleep = sleep
        self._wall0: float | None = None

    @property
    def step_s(self) -> float:
        return self.step_ns * 1e-9

    @property
    def now_ns(self) -> int:
        return self.steps * self.step_ns

    @property
    def now_s(self) -> float:
        return self.now_ns * 1e-9

    def set_real_time_factor(self, real_time_factor: float | None) -> None:
        """Change the pacing from the next step on (None: as fast as possible).

        The wall-clock anchor is taken afresh at the next paced step, so a phase run as fast
        as possible is not made up for by sleeping afterwards.
        """
        if real_time_factor is not None and not real_time_factor > 0:
            raise InvalidInputError("real_time_factor", f"must be > 0, got {real_time_factor}")
        if real_time_factor != self.real_time_factor:
            self.real_time_factor = real_time_factor
            self._wall0 = None

    def sim_time_at(self, wall_s: float) -> float | None:
        """Sim time (s) that a paced clock holds at monotonic wall time ``wall_s``; None
        when not paced (or not yet anchored)."""
        if self.real_time_factor is None or self._wall0 is None:
            return None
        return (wall_s - self._wall0) * self.real_time_factor

    def due_in_s(self) -> float:
        """Wall seconds until the next step is due (0 when not paced or behind)."""
        if self.real_time_factor is None or self._wall0 is None:
            return 0.0
        due = self._wall0 + (self.now_ns + self.step_ns) * 1e-9 / self.real_time_factor
        return max(0.0, due - self._wall())

    def tick(self) -> int:
        """Advance one step (pacing to the real-time factor if set); returns the new time in ns.

        The injected ``sleep`` may return early (a bus spin woken by a message): the clock
        sleeps again until the step is due.
        """
        if self.real_time_factor is not None:
            if self._wall0 is None:
                self._wall0 = self._wall() - self.now_s / self.real_time_factor
            ahead = self.due_in_s()
            while ahead > 0:
                self._sleep(ahead)
                ahead = self.due_in_s()
        self.steps += 1
        return self.now_ns


GRANT_TIMEOUT_S = 10.0
"""Wall seconds without a new grant after which a peer is no longer waited for."""


class Lockstep:
    """The clock's lock-step with controllers on sim time.

    A peer (a cell controller with ``use_sim_time``) that grants is waited for: the clock
    may take a step from a time only when every such peer has granted at least that time.
    A peer is waited for from its first grant on, and given up when its grant has not moved
    for ``timeout_s`` of wall time while the clock waits for it (a controller that died);
    a later grant takes it back.

    Parameters
    ----------
    timeout_s : float
    wall : callable
        Monotonic wall clock (injectable for tests).
    """

    def __init__(
        self, timeout_s: float = GRANT_TIMEOUT_S, *, wall: Callable[[], float] = time.monotonic
    ) -> None:
        self.timeout_s = float(timeout_s)
        self._wall = wall
        self._grants: dict[str, tuple[int, float]] = {}  # peer -> (grant ns, wall of change)

    def grant(self, peer: str, until_ns: int) -> bool:
        """``peer`` lets the clock step from times up to ``until_ns``; True for a new peer."""
        known = self._grants.get(peer)
        if known is None or known[0] != until_ns:
            self._grants[peer] = (int(until_ns), self._wall())
        return known is None

    def synced(self, peer: str) -> bool:
        """Whether ``peer`` is waited for."""
        return peer in self._grants

    @property
    def active(self) -> bool:
        """Some peer is waited for."""
        return bool(self._grants)

    def allows(self, now_ns: int) -> bool:
        """Every peer has granted a step from ``now_ns``."""
        return all(g >= now_ns for g, _ in self._grants.values())

    def expire(self, now_ns: int) -> list[str]:
        """Give up the peers that hold the clock at ``now_ns`` and have been silent for
        ``timeout_s``; returns them."""
        wall = self._wall()
        gone = [
            p
            for p, (g, since) in self._grants.items()
            if g < now_ns and wall - since > self.timeout_s
        ]
        for peer in gone:
            del self._grants[peer]
        return gone
