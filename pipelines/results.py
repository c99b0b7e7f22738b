"""What a run returns: per-block traces, the part's status, and the held state to resume."""

from __future__ import annotations

import hashlib
import json
from dataclasses import dataclass, field
from typing import Any, Literal

from pipelines.trace import Thumbnail, summarize

Status = Literal["completed", "held", "rejected", "stopped"]


@dataclass(frozen=True, slots=True)
class BlockTrace:
    """What happened to one block for one part.

    ``status``: ok, skipped (branch not taken), failed, timeout, held, answered (an
    ``operator.ask`` after the decision). ``work_ms`` is the time inside the implementation
    (all attempts), ``wall_ms`` the runner's time on the block, ``start_ms`` from the start
    of the part.
    """

    block: str
    type: str
    status: str
    attempts: int = 0
    start_ms: float = 0.0
    work_ms: float = 0.0
    wall_ms: float = 0.0
    inputs: dict[str, str] = field(default_factory=dict)
    outputs: dict[str, str] = field(default_factory=dict)
    thumbnails: dict[str, Thumbnail] = field(default_factory=dict)
    error: str | None = None
    children: tuple[BlockTrace, ...] = ()


@dataclass(frozen=True)
class Failure:
    """Why a part left the pipeline early: ``kind`` is error, timeout, output, input or
    condition."""

    block: str
    kind: str
    reason: str

    def __str__(self) -> str:
        return f"block '{self.block}': {self.reason}"


@dataclass(frozen=True)
class HeldState:
    """A part held for an operator, resumable with :meth:`Runner.resume`.

    ``kind`` is ``ask`` (an ``operator.ask`` block: answer with one of ``choices``) or
    ``failure`` (the hold policy after a failed block: resuming runs that block again).
    """

    pipeline: str
    content_hash: str
    part_id: str
    block: str
    kind: Literal["ask", "failure"]
    question: str
    choices: tuple[str, ...]
    reason: str = ""
    _index: int = field(default=0, repr=False)
    _values: dict = field(default_factory=dict, repr=False)
    _summaries: dict = field(default_factory=dict, repr=False)
    _trace: tuple[BlockTrace, ...] = field(default=(), repr=False)
    _elapsed_ns: int = field(default=0, repr=False)


@dataclass
class PartRun:
    """The result of one part: status, pipeline outputs, trace, and why it stopped early."""

    pipeline: str
    part_id: str
    status: Status
    outputs: dict[str, Any]
    trace: list[BlockTrace]
    failure: Failure | None = None
    held: HeldState | None = None
    wall_ms: float = 0.0

    @property
    def work_ms(self) -> float:
        return sum(t.work_ms for t in self.trace)

    @property
    def overhead_ms(self) -> float:
        return self.wall_ms - self.work_ms

    @property
    def stop_cell(self) -> bool:
        return self.status == "stopped"

    def block(self, block_id: str) -> BlockTrace | None:
        return next((t for t in self.trace if t.block == block_id), None)

    def fingerprint(self) -> str:
        """SHA-256 of everything but timings: equal for equal runs."""
        data = {
            "status": self.status,
            "outputs": {k: summarize(v) for k, v in sorted(self.outputs.items())},
            "failure": None if self.failure is None else str(self.failure),
            "trace": [_trace_data(t) for t in self.trace],
        }
        return hashlib.sha256(json.dumps(data, sort_keys=True).encode()).hexdigest()


def _trace_data(t: BlockTrace) -> list:
    children = [_trace_data(c) for c in t.children]
    return [t.block, t.status, t.attempts, t.inputs, t.outputs, t.error, children]


def summarize_runs(runs: list[PartRun]) -> dict[str, Any]:
    """Figures over many parts, as ``coatshare pipeline run`` prints them.

    Per status the part count; per block how often it ran, was skipped or failed, and its
    mean and largest work time; the runner's overhead per part (mean and largest).
    """
    statuses: dict[str, int] = {}
    blocks: dict[str, dict[str, Any]] = {}
    for run in runs:
        statuses[run.status] = statuses.get(run.status, 0) + 1
        for t in run.trace:
            row = blocks.setdefault(
                t.block, {"type": t.type, "ok": 0, "skipped": 0, "failed": 0, "held": 0, "ms": []}
            )
            key = {"timeout": "failed", "answered": "ok"}.get(t.status, t.status)
            row[key] = row.get(key, 0) + 1
            if t.status != "skipped":
                row["ms"].append(t.work_ms)
    for row in blocks.values():
        ms = row.pop("ms")
        row["work_ms_mean"] = round(sum(ms) / len(ms), 3) if ms else 0.0
        row["work_ms_max"] = round(max(ms), 3) if ms else 0.0
    overhead = [r.overhead_ms for r in runs]
    return {
        "parts": len(runs),
        "status": statuses,
        "wall_ms_mean": round(sum(r.wall_ms for r in runs) / len(runs), 3) if runs else 0.0,
        "overhead_ms_mean": round(sum(overhead) / len(overhead), 3) if runs else 0.0,
        "overhead_ms_max": round(max(overhead), 3) if runs else 0.0,
        "failures": [f"{r.part_id}: {r.failure}" for r in runs if r.failure is not None],
        "blocks": blocks,
    }
