"""Calling a block implementation with a time-out.

A call runs on a worker thread while the runner waits for it at most ``timeout_s``. Python
cannot stop a thread: a call that overruns is abandoned (its result, if it ever comes, is
dropped; the thread is a daemon and ends after that call) and the next call gets a fresh
worker. ``inline`` mode calls on the runner's own thread and judges the time-out after the
call returns: for libraries that must stay on one thread, at the price of not getting
control back from a block that hangs.
"""

from __future__ import annotations

import threading
import time
from collections.abc import Callable
from typing import Any, Literal

Isolation = Literal["thread", "inline"]


class CallTimeoutError(Exception):
    """The call did not return within its time-out."""


class _Job:
    __slots__ = ("fn", "args", "done", "result", "error", "ns")

    def __init__(self, fn: Callable[..., Any], args: tuple) -> None:
        self.fn = fn
        self.args = args
        self.done = threading.Event()
        self.result: Any = None
        self.error: BaseException | None = None
        self.ns = 0


class _Thread:
    """One daemon thread taking jobs one at a time."""

    def __init__(self) -> None:
        self._cond = threading.Condition(threading.Lock())
        self._job: _Job | None = None
        self.abandoned = False
        self._thread = threading.Thread(target=self._loop, name="pipeline-block", daemon=True)
        self._thread.start()

    def submit(self, job: _Job) -> None:
        with self._cond:
            self._job = job
            self._cond.notify()

    def stop(self) -> None:
        with self._cond:
            self.abandoned = True
            self._cond.notify()

    def _loop(self) -> None:
        while True:
            with self._cond:
                while self._job is None and not self.abandoned:
                    self._cond.wait()
                job, self._job = self._job, None
            if job is None:
                return
            t0 = time.perf_counter_ns()
            try:
                job.result = job.fn(*job.args)
            except BaseException as exc:  # handed to the runner, which decides
                job.error = exc
            job.ns = time.perf_counter_ns() - t0
            job.done.set()
            if self.abandoned:
                return


class Caller:
    """Calls ``fn(*args)`` and returns ``(result, work_ns)``, or raises the call's error or
    :class:`CallTimeoutError`."""

    def __init__(self, isolation: Isolation = "thread") -> None:
        self.isolation = isolation
        self._thread: _Thread | None = None

    def call(self, fn: Callable[..., Any], args: tuple, timeout_s: float) -> tuple[Any, int]:
        if self.isolation == "inline":
            t0 = time.perf_counter_ns()
            result = fn(*args)
            ns = time.perf_counter_ns() - t0
            if ns > timeout_s * 1e9:
                raise CallTimeoutError(ns)
            return result, ns
        if self._thread is None:
            self._thread = _Thread()
        job = _Job(fn, args)
        self._thread.submit(job)
        if not job.done.wait(timeout_s):
            self._thread.stop()  # abandoned: it ends after its current call
            self._thread = None
            raise CallTimeoutError(int(timeout_s * 1e9))
        if job.error is not None:
            raise job.error
        return job.result, job.ns

    def close(self) -> None:
        if self._thread is not None:
            self._thread.stop()
            self._thread = None
