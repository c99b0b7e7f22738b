import csv
import itertools
import time
from pathlib import Path

import numpy as np
import pytest

from edge_gateway.scheduler.localsearch import greedy_construct
from edge_gateway.scheduler.upmsp import UpmspInstance, machine_loads, read_upmsp, validate_schedule
from edge_gateway.scheduler.upmsp_relax import (
    allowed_machines,
    relaxation_start,
    relaxed_assignment,
    round_assignment,
    sequence_machines,
)

BENCH = Path(__file__).resolve().parents[4] / "shared" / "benchmarks" / "upmsp"
needs_bench = pytest.mark.skipif(not BENCH.exists(), reason="shared benchmark not present")


def _bks() -> dict[str, int]:
    with open(BENCH / "bks_vallada_ruiz_2011.csv") as fh:
        return {r["instance"]: int(r["best_known_ub"]) for r in csv.DictReader(fh)}


def _path(name: str) -> Path:
    return next(BENCH.glob(f"instances/*/{name}.txt"))


def _random_instance(seed: int, m: int, n: int) -> UpmspInstance:
    rng = np.random.default_rng(seed)
    p = rng.integers(1, 100, size=(m, n))
    s = rng.integers(1, 50, size=(m, n, n))
    for k in range(m):
        np.fill_diagonal(s[k], 0)
    return UpmspInstance(f"rand{seed}", p, s)


@needs_bench
@pytest.mark.parametrize("name", ["I_8_3_S_1-124_7", "I_10_3_S_1-9_8", "I_12_4_S_1-99_1"])
def test_unpruned_relaxation_bounds_the_proven_optimum(name):
    inst = read_upmsp(_path(name))
    relaxed = relaxed_assignment(inst.p, inst.s, machines_per_job=inst.m, preds_per_job=inst.n - 1)
    assert relaxed is not None
    np.testing.assert_allclose(relaxed.x.sum(axis=0), 1.0, atol=1e-6)
    # every job needs at least its fastest processing time somewhere
    assert relaxed.makespan >= inst.p.min(axis=0).sum() / inst.m - 1e-6
    assert relaxed.makespan <= _bks()[name] + 1e-6


@pytest.mark.parametrize("seed", [0, 1])
def test_pruned_relaxation_stays_on_allowed_machines(seed):
    inst = _random_instance(seed, m=6, n=30)
    relaxed = relaxed_assignment(inst.p, inst.s, machines_per_job=2, preds_per_job=3)
    assert relaxed is not None
    allowed = allowed_machines(inst.p, 2)
    assert allowed.sum(axis=0).tolist() == [2] * inst.n
    np.testing.assert_allclose(relaxed.x.sum(axis=0), 1.0, atol=1e-6)
    assert np.all(relaxed.x[~allowed] == 0.0)
    sets = round_assignment(relaxed.x)
    assert all(allowed[k, j] for k, jobs in enumerate(sets) for j in jobs)


def test_rounding_takes_the_largest_share():
    x = np.array([[0.6, 0.0, 0.3], [0.4, 1.0, 0.7]])
    assert round_assignment(x) == [[0], [1, 2]]


@pytest.mark.parametrize("seed", [3, 4])
def test_sequencing_matches_enumeration(seed):
    inst = _random_instance(seed, m=2, n=7)
    sets = [[0, 2, 4, 6], [1, 3, 5]]
    seqs = sequence_machines(inst.p, inst.s, sets, deadline=time.perf_counter() + 30.0)
    for k, jobs in enumerate(sets):
        assert sorted(seqs[k]) == jobs
        best = min(
            inst.p[k, list(order)].sum()
            + sum(inst.s[k, a, b] for a, b in itertools.pairwise(order))
            for order in itertools.permutations(jobs)
        )
        assert machine_loads(inst, seqs)[k] == best


@needs_bench
def test_relaxation_start_needs_less_total_work_than_greedy_insertion():
    inst = read_upmsp(_path("I_100_10_S_1-49_1"))
    start = relaxation_start(inst.p, inst.s, time_limit_s=60.0)
    assert start is not None
    validate_schedule(inst, start)
    greedy = greedy_construct(inst.p, inst.s)
    # jobs on fast machines next to cheap setup partners: well below greedy insertion's work
    assert machine_loads(inst, start).sum() < 0.9 * machine_loads(inst, greedy).sum()
