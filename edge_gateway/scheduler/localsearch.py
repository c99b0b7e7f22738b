"""Fast local search for machine loads with sequence-dependent setups (numpy, incremental).

The state is one job sequence per machine. Two neighbourhoods are evaluated in full,
vectorised:

* **insertion**: move job ``j`` to any gap of any machine (its own included),
* **swap**: exchange two jobs, each taking the other's place (on one machine: not adjacent).

A descent takes the best insertion while one improves and prices the swaps (an ``n x n``
table, most of the work on 250 jobs) only at insertion local optima.

Moves are priced by ``W * (load above target, summed over machines) + total load``. With
the target just below the best makespan, a descent first removes the excess (which lowers
the makespan) and otherwise keeps shortening total load, instead of stalling on the plateau
of equal makespans. Every accepted move lowers this objective, so a descent ends. Cost tables
are kept per machine and refreshed only for the machines a move touches, and a descent
prices only moves that touch a machine changed since the last local optimum (the others
were not improving then and are not now).

Indices: jobs ``0..n-1``; index ``n`` is the dummy (no predecessor / no successor) whose
setups are zero.
"""

from __future__ import annotations

import numpy as np

_BIG = np.int64(1) << 36  # masks impossible moves; far above any load, W * _BIG fits int64


class LoadSearch:
    """Mutable schedule with cached move costs.

    Parameters
    ----------
    p : (m, n) int array
        Processing times.
    s : (m, n, n) int array
        Sequence-dependent setups.
    machines : list of m lists
        Initial sequences (every job exactly once).
    """

    def __init__(self, p: np.ndarray, s: np.ndarray, machines: list[list[int]]) -> None:
        m, n = p.shape
        self.m, self.n = m, n
        self.P = np.zeros((m, n + 1), dtype=np.int64)
        self.P[:, :n] = p
        self.S = np.zeros((m, n + 1, n + 1), dtype=np.int64)
        self.S[:, :n, :n] = s
        self.ST = np.ascontiguousarray(self.S.transpose(0, 2, 1))
        self._jobs = np.arange(n, dtype=np.int64)
        self.W = np.int64(4 * (int(p.sum()) + int(s.max(initial=0)) * n + 1))
        self._target = np.int64(_BIG)
        self.set_machines(machines)

    # -- state ---------------------------------------------------------------------------
    def set_machines(self, machines: list[list[int]]) -> None:
        self.seqs = [list(seq) for seq in machines]
        n, m = self.n, self.m
        self.mach = np.zeros(n, dtype=np.int64)
        self.prv = np.full(n, n, dtype=np.int64)
        self.nxt = np.full(n, n, dtype=np.int64)
        self.L = np.zeros(m, dtype=np.int64)
        self.rem = np.zeros(n, dtype=np.int64)
        self.min_ins = np.zeros((n, m), dtype=np.int64)
        self.arg_ins = np.zeros((n, m), dtype=np.int64)
        self.Ct = np.zeros((n, n), dtype=np.int64)
        self.dirty = np.ones(m, dtype=bool)
        for k in range(m):
            self._refresh(k)

    _ARRAYS = ("mach", "prv", "nxt", "L", "rem", "min_ins", "arg_ins", "Ct")

    def snapshot(self) -> tuple:
        """The whole state, to :meth:`restore` cheaply (cheaper than re-deriving it)."""
        return [list(q) for q in self.seqs], [getattr(self, a).copy() for a in self._ARRAYS]

    def restore(self, snap: tuple, local_optimum: bool = True) -> None:
        """Go back to a snapshot; ``local_optimum``: it was taken after a finished descent."""
        seqs, arrays = snap
        self.seqs = [list(q) for q in seqs]
        for name, arr in zip(self._ARRAYS, arrays, strict=True):
            getattr(self, name)[...] = arr
        self.dirty[:] = not local_optimum

    def _refresh(self, k: int) -> None:
        """Recompute every cached quantity that depends on machine ``k``'s sequence."""
        self.dirty[k] = True
        n = self.n
        seq = np.asarray(self.seqs[k], dtype=np.int64)
        Pk, Sk = self.P[k], self.S[k]
        u = np.concatenate(([n], seq))  # gap predecessors
        v = np.concatenate((seq, [n]))  # gap successors
        if seq.size:
            self.mach[seq] = k
            self.prv[seq] = u[:-1]
            self.nxt[seq] = v[1:]
            self.L[k] = Pk[seq].sum() + Sk[seq[:-1], seq[1:]].sum()
            pr, nx = u[:-1], v[1:]
            self.rem[seq] = Sk[pr, seq] + Pk[seq] + Sk[seq, nx] - Sk[pr, nx]
        else:
            self.L[k] = 0
        # ins[g, j]: added load when job j enters gap g = (u_g, v_g) of machine k; rows are
        # gathered from S and its transpose so that every gather reads contiguous memory
        STk = self.ST[k]
        ins = Pk[None, :n] + Sk[u, :n] + STk[v, :n] - Sk[u, v][:, None]
        if seq.size:
            pos = np.arange(seq.size)
            ins[pos, seq] = _BIG
            ins[pos + 1, seq] = _BIG
        arg = ins.argmin(axis=0)
        self.arg_ins[:, k] = arg
        self.min_ins[:, k] = ins[arg, self._jobs]
        if seq.size:
            # Ct[i, x]: added load when x takes the place of i (i on machine k)
            pr, nx = u[:-1], v[1:]
            self.Ct[seq] = Pk[None, :n] + Sk[pr, :n] + STk[nx, :n] - Sk[pr, nx][:, None]

    @property
    def target(self) -> np.int64:
        """Machine loads above this count as excess (default: none, pure total load)."""
        return self._target

    @target.setter
    def target(self, value: int) -> None:
        self._target = np.int64(value)
        self.dirty = np.ones(self.m, dtype=bool)  # every move must be priced anew

    def objective(self) -> int:
        """``W * (load above target, summed) + total load``: the quantity descents lower."""
        return int(self._excess(self.L).sum() * self.W + self.L.sum())

    def makespan(self) -> int:
        return int(self.L.max())

    def machines(self) -> list[list[int]]:
        return [list(seq) for seq in self.seqs]

    # -- moves ---------------------------------------------------------------------------
    def _excess(self, loads: np.ndarray) -> np.ndarray:
        return np.maximum(loads - self.target, 0)

    def _best_insertion(self) -> tuple[int, int, int]:
        L, W = self.L, self.W
        a = self.mach
        La = L[a]
        exL = self._excess(L)
        La_new = La - self.rem
        Lb_new = L[None, :] + self.min_ins
        d_ex = (self._excess(La_new) - exL[a])[:, None] + self._excess(Lb_new) - exL[None, :]
        key = d_ex * W + (self.min_ins - self.rem[:, None])
        own = self._jobs
        delta_same = self.min_ins[own, a] - self.rem
        same_new = La + delta_same
        key[own, a] = (self._excess(same_new) - exL[a]) * W + delta_same
        # moves between two clean machines were not improving and still are not
        key[~(self.dirty[a][:, None] | self.dirty[None, :])] = _BIG
        flat = int(key.argmin())
        j, b = divmod(flat, self.m)
        return int(key[j, b]), j, b

    def _best_swap(self) -> tuple[int, int, int]:
        # swaps are symmetric: rows over jobs of dirty machines cover every pair touching one
        rows = np.flatnonzero(self.dirty[self.mach])
        if rows.size == 0:
            return 0, 0, 0
        L, W = self.L, self.W
        La = L[self.mach]
        exA = self._excess(La)
        base = La - self.rem
        M1 = base[rows, None] + self.Ct[rows, :]  # new load of i's machine (j takes i's place)
        M2 = base[None, :] + self.Ct[:, rows].T  # new load of j's machine (i takes j's place)
        d_ex = self._excess(M1) + self._excess(M2) - exA[rows, None] - exA[None, :]
        key = d_ex * W + (M1 + M2 - La[rows, None] - La[None, :])
        # two jobs of one machine, not adjacent: both holes stay as they are
        same = self.mach[rows, None] == self.mach[None, :]
        Lr = La[rows, None]
        L_same = M1 + M2 - Lr
        key_same = (self._excess(L_same) - exA[rows, None]) * W + (L_same - Lr)
        adjacent = (self.nxt[rows, None] == self._jobs[None, :]) | (
            self.prv[rows, None] == self._jobs[None, :]
        )
        key = np.where(same, key_same, key)
        key[same & adjacent] = _BIG
        key[np.arange(rows.size), rows] = _BIG
        flat = int(key.argmin())
        r, j = divmod(flat, self.n)
        return int(key[r, j]), int(rows[r]), j

    def _apply_insertion(self, j: int, b: int) -> None:
        a = int(self.mach[j])
        g = int(self.arg_ins[j, b])
        seq_b = self.seqs[b]
        # the gap index refers to b's sequence before j is removed
        target = seq_b[g] if g < len(seq_b) else None
        self.seqs[a].remove(j)
        seq_b = self.seqs[b]
        seq_b.insert(seq_b.index(target) if target is not None else len(seq_b), j)
        self._refresh(a)
        if b != a:
            self._refresh(b)

    def _apply_swap(self, i: int, j: int) -> None:
        a, b = int(self.mach[i]), int(self.mach[j])
        sa, sb = self.seqs[a], self.seqs[b]
        pi, pj = sa.index(i), sb.index(j)
        sa[pi], sb[pj] = j, i
        self._refresh(a)
        if b != a:
            self._refresh(b)

    def descend(self, max_moves: int = 1_000_000) -> int:
        """Descent over insertion and swap moves; returns the number of moves.

        The best insertion is taken while one improves; swaps (an ``n x n`` table, the
        costly part) are priced only when no insertion improves.
        """
        moves = 0
        while moves < max_moves:
            k_ins, j, b = self._best_insertion()
            if k_ins < 0:
                k_swp, i2, j2 = 0, 0, 0
            else:
                k_swp, i2, j2 = self._best_swap() if self.m > 1 else (0, 0, 0)
            if min(k_ins, k_swp) >= 0:
                self.dirty[:] = False
                break
            if k_ins <= k_swp:
                self._apply_insertion(j, b)
            else:
                self._apply_swap(i2, j2)
            moves += 1
        return moves

    # -- perturbation --------------------------------------------------------------------
    def remove_jobs(self, jobs: list[int]) -> None:
        touched = {int(self.mach[j]) for j in jobs}
        drop = set(jobs)
        for k in touched:
            self.seqs[k] = [x for x in self.seqs[k] if x not in drop]
            self._refresh(k)

    def insert_greedy(self, j: int) -> None:
        """Insert a job that is on no machine where the resulting load is smallest."""
        key = self._excess(self.L + self.min_ins[j]) * self.W + self.min_ins[j]
        b = int(key.argmin())
        g = int(self.arg_ins[j, b])
        self.seqs[b].insert(g, j)
        self._refresh(b)


def greedy_construct(
    p: np.ndarray, s: np.ndarray, order: np.ndarray | None = None
) -> list[list[int]]:
    """Insert jobs one by one at the gap that gives the smallest machine completion.

    Jobs go in decreasing order of their best processing time unless ``order`` is given.
    """
    m, n = p.shape
    if order is None:
        order = np.argsort(-p.min(axis=0), kind="stable")
    ls = LoadSearch(p, s, [[] for _ in range(m)])
    ls.target = np.int64(0)  # every load is excess: insert where the completion is smallest
    for j in order:
        ls.insert_greedy(int(j))
    return ls.machines()
