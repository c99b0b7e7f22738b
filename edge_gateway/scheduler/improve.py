"""Sequence search for the factory problem: constructive starts and simulated annealing.

Moves work on task sequences per cell and are priced by :class:`Decoder.cell_cost` on the
(at most two) cells they touch:

* relocate a task next to a task of the same finish, or to a random position (any cell that
  can take it, its own included);
* relocate a whole campaign (a run of one finish) next to another run of that finish;
* swap two tasks of different cells (where both cells can take the other task);
* move a late task earlier in its cell.
"""

from __future__ import annotations

import math
import time

import numpy as np

from edge_gateway.scheduler.baselines import edd_order, fifo_order, list_schedule
from edge_gateway.scheduler.plans import Decoder


def atcs_schedule(dec: Decoder, k1: float, k2: float) -> list[list[int]]:
    """Apparent tardiness cost with setups (Lee, Bhaskaran & Pinedo 1997), cell by cell.

    The cell that frees first picks, among released tasks it can take, the one with the
    highest ``w/p * exp(-slack / (k1 p_mean)) * exp(-setup / (k2 s_mean))``.
    """
    comp = dec.comp
    n_cells = len(comp.cells)
    free = [t.index for t in comp.tasks if t.index not in dec.frozen]
    if not free:
        return [[] for _ in range(n_cells)]
    idx = np.asarray(free)
    proc = comp.proc_s[idx].astype(float)
    rel = np.asarray([dec.rel[t] for t in free], dtype=float)
    due = np.asarray([dec.due[t] for t in free], dtype=float)
    wt = np.asarray([dec.wt[t] for t in free], dtype=float)
    fin = np.asarray([dec.fin[t] for t in free])
    p_mean = float(proc[proc > 0].mean())
    co = comp.co_time_s.astype(float)
    s_mean = max(1.0, float(co[:, : comp.clean, : comp.clean].mean()))
    left = np.ones(len(free), dtype=bool)
    seqs: list[list[int]] = [[] for _ in range(n_cells)]
    t_cell = list(dec.start_t)
    f_cell = list(dec.start_f)
    active = [c for c in range(n_cells) if (proc[:, c] > 0).any()]
    while left.any():
        c = min(active, key=lambda c: t_cell[c])
        can = left & (proc[:, c] > 0)
        if not can.any():
            active.remove(c)
            continue
        now = t_cell[c]
        ready = can & (rel <= now)
        if not ready.any():
            now = float(rel[can].min())
            ready = can & (rel <= now)
        cand = np.flatnonzero(ready)
        p = proc[cand, c]
        su = np.zeros(len(cand)) if f_cell[c] == comp.clean else co[c, f_cell[c], fin[cand]]
        slack = np.maximum(due[cand] - p - now, 0.0)
        score = (wt[cand] / p) * np.exp(-slack / (k1 * p_mean)) * np.exp(-su / (k2 * s_mean))
        pick = int(cand[int(score.argmax())])
        t = free[pick]
        _, _, end = dec.place(c, t, int(t_cell[c]), f_cell[c])
        seqs[c].append(t)
        t_cell[c], f_cell[c] = end, dec.fin[t]
        left[pick] = False
    return seqs


def insert_best(dec: Decoder, seqs: list[list[int]], cost: list[float], t: int) -> None:
    """Insert task ``t`` where the total cost rises least (positions next to its finish first)."""
    best = None
    for c in range(len(seqs)):
        if dec.proc[t][c] < 0:
            continue
        seq = seqs[c]
        positions = {len(seq)}
        positions.update(i for i, u in enumerate(seq) if dec.fin[u] == dec.fin[t])
        positions.update(i + 1 for i, u in enumerate(seq) if dec.fin[u] == dec.fin[t])
        due = dec.due[t]
        positions.add(sum(1 for u in seq if dec.due[u] <= due))
        for pos in positions:
            trial = seq[:pos] + [t] + seq[pos:]
            delta = dec.cell_cost(c, trial) - cost[c]
            if best is None or delta < best[0]:
                best = (delta, c, pos)
    assert best is not None
    _, c, pos = best
    seqs[c].insert(pos, t)
    cost[c] = dec.cell_cost(c, seqs[c])


def construct(dec: Decoder, warm: list[list[int]] | None = None) -> list[list[int]]:
    """Best of: the warm start (repaired), EDD and FIFO lists, and a few ATCS settings."""
    candidates: list[list[list[int]]] = []
    if warm is not None:
        candidates.append(warm)
    else:
        candidates.append(list_schedule(dec, edd_order(dec)))
        candidates.append(list_schedule(dec, fifo_order(dec)))
        for k1, k2 in ((1.0, 0.3), (2.0, 0.3), (2.0, 0.1), (4.0, 0.1), (1.0, 1.0)):
            candidates.append(atcs_schedule(dec, k1, k2))
    best = min(candidates, key=lambda s: sum(dec.cell_cost(c, q) for c, q in enumerate(s)))
    return [list(q) for q in best]


class Annealer:
    """Simulated annealing over task sequences with cached per-cell costs."""

    def __init__(self, dec: Decoder, seqs: list[list[int]], seed: int = 0) -> None:
        self.dec = dec
        self.seqs = [list(q) for q in seqs]
        self.cost = [dec.cell_cost(c, q) for c, q in enumerate(self.seqs)]
        self.rng = np.random.default_rng(seed)
        self.n_cells = len(seqs)
        self.eligible = [
            [c for c in range(self.n_cells) if dec.proc[t][c] >= 0] for t in range(len(dec.proc))
        ]
        self.best = [list(q) for q in self.seqs]
        self.best_total = sum(self.cost)
        self.moves = 0
        self.accepted = 0

    def total(self) -> float:
        return sum(self.cost)

    def _where(self) -> dict[int, tuple[int, int]]:
        return {t: (c, i) for c, q in enumerate(self.seqs) for i, t in enumerate(q)}

    def _propose(self) -> tuple[list[int], list[list[int]]] | None:
        rng, seqs, dec = self.rng, self.seqs, self.dec
        nonempty = [c for c in range(self.n_cells) if seqs[c]]
        if not nonempty:
            return None
        a = int(rng.choice(nonempty))
        i = int(rng.integers(len(seqs[a])))
        t = seqs[a][i]
        kind = rng.random()
        if kind < 0.35:  # relocate one task
            b = int(rng.choice(self.eligible[t]))
            src = seqs[a][:i] + seqs[a][i + 1 :]
            dst = src if b == a else list(seqs[b])
            same = [k for k, u in enumerate(dst) if dec.fin[u] == dec.fin[t]]
            if same and rng.random() < 0.7:
                k = int(rng.choice(same))
                pos = k + int(rng.integers(2))
            else:
                pos = int(rng.integers(len(dst) + 1))
            dst = dst[:pos] + [t] + dst[pos:]
            return ([a], [dst]) if b == a else ([a, b], [src, dst])
        if kind < 0.6:  # relocate the campaign (run of one finish) around t
            lo, hi = i, i + 1
            f = dec.fin[t]
            while lo > 0 and dec.fin[seqs[a][lo - 1]] == f:
                lo -= 1
            while hi < len(seqs[a]) and dec.fin[seqs[a][hi]] == f:
                hi += 1
            if hi - lo > 1 and rng.random() < 0.5:  # or a random part of it
                lo2 = int(rng.integers(lo, hi))
                hi2 = int(rng.integers(lo2 + 1, hi + 1))
                lo, hi = lo2, hi2
            block = seqs[a][lo:hi]
            options = [c for c in range(self.n_cells) if all(dec.proc[u][c] >= 0 for u in block)]
            b = int(rng.choice(options))
            src = seqs[a][:lo] + seqs[a][hi:]
            dst = src if b == a else list(seqs[b])
            same = [k for k, u in enumerate(dst) if dec.fin[u] == f]
            if same and rng.random() < 0.8:
                k = int(rng.choice(same))
                pos = k + int(rng.integers(2))
            else:
                pos = int(rng.integers(len(dst) + 1))
            dst = dst[:pos] + block + dst[pos:]
            return ([a], [dst]) if b == a else ([a, b], [src, dst])
        if kind < 0.8:  # swap with a task on another cell
            cands = [c for c in self.eligible[t] if c != a and seqs[c]]
            if not cands:
                return None
            b = int(rng.choice(cands))
            j = int(rng.integers(len(seqs[b])))
            u = seqs[b][j]
            if dec.proc[u][a] < 0:
                return None
            sa, sb = list(seqs[a]), list(seqs[b])
            sa[i], sb[j] = u, t
            return [a, b], [sa, sb]
        # move a task a few places earlier or later in its cell
        shift = int(rng.integers(-8, 9))
        pos = min(max(0, i + shift), len(seqs[a]) - 1)
        if pos == i:
            return None
        sa = seqs[a][:i] + seqs[a][i + 1 :]
        sa.insert(pos, t)
        return [a], [sa]

    def run(self, deadline: float, t_start: float, t_end: float) -> None:
        """Anneal until ``deadline`` with temperature falling geometrically."""
        dec = self.dec
        begin = time.perf_counter()
        span = max(1e-3, deadline - begin)
        temp = t_start
        total = self.total()
        while True:
            self.moves += 1
            if self.moves % 64 == 0:
                now = time.perf_counter()
                if now >= deadline:
                    break
                frac = (now - begin) / span
                temp = t_start * (t_end / t_start) ** frac
            prop = self._propose()
            if prop is None:
                continue
            cells, new_seqs = prop
            new_cost = [dec.cell_cost(c, q) for c, q in zip(cells, new_seqs, strict=True)]
            delta = sum(new_cost) - sum(self.cost[c] for c in cells)
            if delta <= 0 or (temp > 0 and self.rng.random() < math.exp(-delta / temp)):
                for c, q, k in zip(cells, new_seqs, new_cost, strict=True):
                    self.seqs[c] = q
                    self.cost[c] = k
                total += delta
                self.accepted += 1
                if total < self.best_total - 1e-9:
                    self.best_total = total
                    self.best = [list(q) for q in self.seqs]
        self.seqs = [list(q) for q in self.best]
        self.cost = [dec.cell_cost(c, q) for c, q in enumerate(self.seqs)]
