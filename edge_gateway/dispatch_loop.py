"""Keeping the cells busy: the queue in the scheduler's order, one part at a time per cell.

Each linked cell has a thread of its own. It takes the scheduler's current plan of the
active queue (``edge_gateway.scheduler.plan`` on ``queue_problem``, replanned when a part
was painted or ``replan_s`` has passed), walks its cell's slots in time order and runs one
part of the first job that still has parts left and a recipe the site holds
(``edge_gateway.dispatch.dispatch_job``); jobs waiting for the cloud's review are passed
over until their recipe arrives. With nothing to run it waits ``idle_s``. A cell that does
not answer, or fails to start a part, is retried after ``idle_s``; the loop stops on
``stop``.
"""

from __future__ import annotations

import logging
import threading
import time
from collections.abc import Mapping
from datetime import UTC, datetime
from typing import TYPE_CHECKING

from sqlalchemy import Engine

from edge_gateway.dispatch import dispatch_job
from edge_gateway.factory import Factory
from edge_gateway.recipe_inbox import RecipeInbox
from edge_gateway.scheduler import plan as schedule
from edge_gateway.service.queue import JobQueue
from edge_gateway.service.quotes import ConflictError, queue_problem
from recipes.errors import NotFoundError

if TYPE_CHECKING:
    from edge_gateway.cell_client import CellClient
    from edge_gateway.scheduler.plans import Plan

log = logging.getLogger(__name__)


class DispatchLoop:
    """Runs the active queue on ``cells`` (factory cell id -> its link)."""

    def __init__(
        self,
        engine: Engine,
        factory: Factory,
        recipes: RecipeInbox,
        cells: Mapping[str, CellClient],
        *,
        plan_time_limit_s: float = 2.0,
        replan_s: float = 30.0,
        idle_s: float = 2.0,
    ) -> None:
        known = {c.id for c in factory.cells}
        unknown = sorted(set(cells) - known)
        if unknown:
            raise ValueError(f"cells {unknown} are not cells of the factory ({sorted(known)})")
        self.engine, self.factory, self.recipes, self.cells = engine, factory, recipes, cells
        self.plan_time_limit_s, self.replan_s, self.idle_s = plan_time_limit_s, replan_s, idle_s
        self.painted: dict[str, int] = {c: 0 for c in cells}
        self._plan: Plan | None = None
        self._planned_at = -1e9
        self._plan_lock = threading.Lock()

    # --- the plan ---------------------------------------------------------------------------
    def invalidate(self) -> None:
        """Plan again before the next part (a part was painted, the queue changed)."""
        with self._plan_lock:
            self._plan = None

    def current_plan(self) -> Plan | None:
        with self._plan_lock:
            stale = time.monotonic() - self._planned_at > self.replan_s
            if self._plan is None or stale:
                problem = queue_problem(self.engine, self.factory, datetime.now(UTC))
                self._plan = (
                    schedule(problem, time_limit_s=self.plan_time_limit_s) if problem.jobs else None
                )
                self._planned_at = time.monotonic()
            return self._plan

    def next_job(self, cell_id: str) -> str | None:
        """The first job in ``cell_id``'s sequence with parts left and a held recipe."""
        plan = self.current_plan()
        if plan is None:
            return None
        queue = JobQueue(self.engine)
        seen: set[str] = set()
        for slot in plan.cells.get(cell_id, []):
            if slot.job in seen:
                continue
            seen.add(slot.job)
            job = queue.get(slot.job, None)
            if job["status"] not in ("queued", "running") or job["parts_done"] >= job["quantity"]:
                continue
            finish = self.factory.offer(job["finish"]).finish
            if self.recipes.held_for(job["part_spec"], finish) is not None:
                return slot.job
        return None

    # --- the cells --------------------------------------------------------------------------
    def step(self, cell_id: str) -> bool:
        """Run one part at ``cell_id``; False when there was nothing to run."""
        job_id = self.next_job(cell_id)
        if job_id is None:
            return False
        cell = self.cells[cell_id]
        with cell.lock:
            try:
                done = dispatch_job(self.engine, self.factory, self.recipes, cell, job_id, parts=1)
            except (ConflictError, NotFoundError) as exc:  # the job changed meanwhile
                log.info("cell %s: %s", cell_id, exc)
                self.invalidate()
                return False
        self.painted[cell_id] += sum(o.completed for o in done.outcomes)
        self.invalidate()
        return bool(done.outcomes) and done.outcomes[-1].state != "timeout"

    def run_cell(self, cell_id: str, stop: threading.Event) -> None:
        while not stop.is_set():
            try:
                busy = self.step(cell_id)
            except Exception:  # noqa: BLE001 - the loop keeps the other parts going
                log.exception("cell %s: dispatch failed", cell_id)
                busy = False
            if not busy:
                stop.wait(self.idle_s)

    def start(self, stop: threading.Event) -> list[threading.Thread]:
        """A thread per cell, running until ``stop`` is set."""
        threads = [
            threading.Thread(
                target=self.run_cell, args=(c, stop), name=f"dispatch-{c}", daemon=True
            )
            for c in self.cells
        ]
        for t in threads:
            t.start()
        return threads


__all__ = ["DispatchLoop"]
