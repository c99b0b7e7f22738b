"""Processes of a cell for tests: the controller (``coatshare cell run``) and the plant
(``cell_plant.py``: the simulated robot and booth), over ``dds`` on loopback, their output
read line by line."""

from __future__ import annotations

import os
import queue
import signal
import subprocess
import sys
import threading
import time
from collections.abc import Callable
from pathlib import Path
from typing import Any

import pytest

from robot_nodes.bus.dds import LOOPBACK_CONFIG_XML

HERE = Path(__file__).resolve().parent
REPO = HERE.parents[1]
NS = "/cell_t1"
ENV = {
    **os.environ,
    "CYCLONEDDS_URI": LOOPBACK_CONFIG_XML,
    "PYTHONPATH": str(REPO),
    "OPENBLAS_NUM_THREADS": "1",
}


class Proc:
    """A child process with its stdout read line by line in the background."""

    def __init__(self, args: list[str], *, stdin: bool = False) -> None:
        self.proc = subprocess.Popen(
            args,
            stdin=subprocess.PIPE if stdin else subprocess.DEVNULL,
            stdout=subprocess.PIPE,
            stderr=subprocess.PIPE,
            text=True,
            env=ENV,
            cwd=str(REPO),
        )
        self.lines: queue.Queue[str] = queue.Queue()
        self.err: list[str] = []
        threading.Thread(
            target=self._pump, args=(self.proc.stdout, self.lines.put), daemon=True
        ).start()
        threading.Thread(
            target=self._pump, args=(self.proc.stderr, self.err.append), daemon=True
        ).start()

    @staticmethod
    def _pump(stream: Any, sink: Callable[[str], None]) -> None:
        for line in stream:
            sink(line.rstrip("\n"))

    def expect(self, prefix: str, timeout_s: float = 20.0) -> str:
        deadline = time.monotonic() + timeout_s
        while time.monotonic() < deadline:
            try:
                line = self.lines.get(timeout=0.1)
            except queue.Empty:
                if self.proc.poll() is not None:
                    break
                continue
            if line.startswith(prefix):
                return line
        pytest.fail(f"no '{prefix}' from {self.proc.args[:3]}; stderr: {self.err[-20:]}")

    def send(self, line: str) -> None:
        assert self.proc.stdin is not None
        self.proc.stdin.write(line + "\n")
        self.proc.stdin.flush()

    def stop(self) -> int:
        if self.proc.poll() is None:
            self.proc.send_signal(signal.SIGINT)
            try:
                self.proc.wait(15)
            except subprocess.TimeoutExpired:
                self.proc.kill()
                self.proc.wait()
        return self.proc.returncode


def start_controller(config: Path, domain_id: int) -> Proc:
    code = "from coatshare.cli_cell import cell_app; cell_app()"
    return Proc(
        [sys.executable, "-c", code, "run", "--cell", "t1", "--config", str(config),
         "--domain-id", str(domain_id)]
    )  # fmt: skip


def start_plant(domain_id: int, *, legacy: bool = False) -> Proc:
    extra = ["legacy"] if legacy else []
    return Proc(
        [sys.executable, str(HERE / "cell_plant.py"), NS, str(domain_id), *extra], stdin=True
    )
