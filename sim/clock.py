"""The simulator's fixed-step clock (what ``/clock`` publishes)."""

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
