"""Unrelated parallel machines with sequence-dependent setups (Vallada & Ruiz 2011 files).

An instance holds ``p : (m, n)`` processing times and ``s : (m, n, n)`` setups (row =
predecessor, column = successor). A schedule is one job list per machine in processing
order; its makespan is the largest machine load (no setup before a machine's first job).
"""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path

import numpy as np

from recipes.errors import InvalidInputError


@dataclass(frozen=True)
class UpmspInstance:
    """One UPMSP-SDST instance.

    Attributes
    ----------
    name : str
    p : (m, n) int64 array
        Processing time of job ``j`` on machine ``k``.
    s : (m, n, n) int64 array
        Setup on machine ``k`` when job ``j`` directly follows job ``i``.
    """

    name: str
    p: np.ndarray
    s: np.ndarray

    @property
    def n(self) -> int:
        return int(self.p.shape[1])

    @property
    def m(self) -> int:
        return int(self.p.shape[0])


def _ints(tokens: list[str], start: int, count: int, source: str) -> list[int]:
    chunk = tokens[start : start + count]
    if len(chunk) != count:
        raise InvalidInputError("file", "ends early", source=source)
    try:
        return [int(t) for t in chunk]
    except ValueError as exc:
        raise InvalidInputError("file", f"expected integers: {exc}", source=source) from exc


def parse_upmsp(text: str, name: str = "instance") -> UpmspInstance:
    """Parse the text of an instance file (format in the benchmark README)."""
    tokens = text.split()
    n, m, _ = _ints(tokens, 0, 3, name)
    if n <= 0 or m <= 0:
        raise InvalidInputError(
            "header", f"n and m must be positive, got n={n}, m={m}", source=name
        )
    pos = 4  # header (3) + repeated m
    p = np.zeros((m, n), dtype=np.int64)
    for j in range(n):
        row = _ints(tokens, pos, 2 * m, name)
        pos += 2 * m
        for k in range(m):
            p[row[2 * k], j] = row[2 * k + 1]
    if pos >= len(tokens) or tokens[pos] != "SSD":
        raise InvalidInputError("SSD", "setup section missing", source=name)
    pos += 1
    s = np.zeros((m, n, n), dtype=np.int64)
    for k in range(m):
        if tokens[pos] != f"M{k}":
            raise InvalidInputError(f"M{k}", f"expected setup block M{k}", source=name)
        pos += 1
        s[k] = np.asarray(_ints(tokens, pos, n * n, name), dtype=np.int64).reshape(n, n)
        pos += n * n
    if (p < 0).any() or (s < 0).any():
        raise InvalidInputError("times", "negative processing or setup time", source=name)
    return UpmspInstance(name=name, p=p, s=s)


def read_upmsp(path: str | Path) -> UpmspInstance:
    """Read an instance file ``I_<n>_<m>_S_1-<X>_<rep>.txt``."""
    path = Path(path)
    return parse_upmsp(path.read_text(), name=path.stem)


def read_solution(path: str | Path) -> list[list[int]]:
    """Read a ``.sol`` file: line 1 = m, then ``count job job ...`` per machine."""
    lines = [ln.split() for ln in Path(path).read_text().splitlines() if ln.strip()]
    m = int(lines[0][0])
    machines = []
    for k in range(m):
        row = [int(t) for t in lines[1 + k]]
        if row[0] != len(row) - 1:
            raise InvalidInputError(f"machine[{k}]", "job count does not match", source=str(path))
        machines.append(row[1:])
    return machines


def machine_loads(inst: UpmspInstance, machines: list[list[int]]) -> np.ndarray:
    """Completion time of each machine, ``(m,)`` int64."""
    loads = np.zeros(inst.m, dtype=np.int64)
    for k, seq in enumerate(machines):
        if not seq:
            continue
        idx = np.asarray(seq, dtype=np.int64)
        loads[k] = inst.p[k, idx].sum() + inst.s[k, idx[:-1], idx[1:]].sum()
    return loads


def validate_schedule(inst: UpmspInstance, machines: list[list[int]]) -> None:
    """Raise InvalidInputError unless every job appears exactly once on some machine."""
    if len(machines) != inst.m:
        raise InvalidInputError("machines", f"expected {inst.m} machine lists, got {len(machines)}")
    seen = sorted(j for seq in machines for j in seq)
    if seen != list(range(inst.n)):
        raise InvalidInputError("machines", "every job 0..n-1 must appear exactly once")


def makespan(inst: UpmspInstance, machines: list[list[int]]) -> int:
    """Largest machine load of a complete schedule (validated)."""
    validate_schedule(inst, machines)
    return int(machine_loads(inst, machines).max())
