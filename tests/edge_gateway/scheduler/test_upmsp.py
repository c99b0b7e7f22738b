import csv
from pathlib import Path

import numpy as np
import pytest

from edge_gateway.scheduler.lns import solve_upmsp
from edge_gateway.scheduler.localsearch import LoadSearch, greedy_construct
from edge_gateway.scheduler.upmsp import (
    machine_loads,
    makespan,
    parse_upmsp,
    read_solution,
    read_upmsp,
    validate_schedule,
)
from edge_gateway.scheduler.upmsp_cpsat import solve_subset
from recipes.errors import InvalidInputError

BENCH = Path(__file__).resolve().parents[4] / "shared" / "benchmarks" / "upmsp"
pytestmark = pytest.mark.skipif(not BENCH.exists(), reason="shared benchmark not present")


def _bks() -> dict[str, int]:
    with open(BENCH / "bks_vallada_ruiz_2011.csv") as fh:
        return {r["instance"]: int(r["best_known_ub"]) for r in csv.DictReader(fh)}


def _path(name: str) -> Path:
    return next(BENCH.glob(f"instances/*/{name}.txt"))


def test_reader_and_evaluator_match_best_solutions():
    bks = _bks()
    for name in ["I_6_2_S_1-9_1", "I_12_5_S_1-99_3", "I_50_10_S_1-9_1", "I_100_10_S_1-49_1"]:
        inst = read_upmsp(_path(name))
        sol = read_solution(BENCH / "best_solutions" / f"{name}.sol")
        assert makespan(inst, sol) == bks[name]


def test_reader_values():
    inst = read_upmsp(_path("I_6_2_S_1-9_1"))
    assert (inst.n, inst.m) == (6, 2)
    assert inst.p[0, 0] == 1 and inst.p[1, 0] == 4 and inst.p[1, 5] == 48
    assert inst.s[0, 0, 1] == 1 and inst.s[0, 1, 0] == 4 and inst.s[1, 0, 1] == 5


def test_truncated_file_is_refused():
    text = _path("I_6_2_S_1-9_1").read_text()
    with pytest.raises(InvalidInputError, match="ends early"):
        parse_upmsp(text[: len(text) // 2], name="cut")


def test_schedule_must_cover_every_job_once():
    inst = read_upmsp(_path("I_6_2_S_1-9_1"))
    with pytest.raises(InvalidInputError):
        validate_schedule(inst, [[0, 1, 2], [2, 3, 4]])


@pytest.mark.parametrize(
    "name",
    ["I_6_5_S_1-124_4", "I_8_3_S_1-124_7", "I_10_3_S_1-9_8", "I_12_4_S_1-99_1", "I_12_5_S_1-99_3"],
)
def test_small_instances_reach_the_proven_optimum(name):
    inst = read_upmsp(_path(name))
    res = solve_upmsp(inst, time_limit_s=10.0, seed=1)
    assert res.makespan == _bks()[name]
    assert makespan(inst, res.machines) == res.makespan
    assert res.optimal


@pytest.mark.parametrize("seed", [0, 1, 2])
def test_local_search_keeps_cached_loads_exact(seed):
    rng = np.random.default_rng(seed)
    m, n = 3, 15
    p = rng.integers(1, 50, size=(m, n))
    s = rng.integers(1, 30, size=(m, n, n))
    start = greedy_construct(p, s)
    ls = LoadSearch(p, s, start)
    before = ls.makespan()
    ls.target = np.int64(before - 1)
    ls.descend()
    from edge_gateway.scheduler.upmsp import UpmspInstance

    inst = UpmspInstance("rand", p, s)
    np.testing.assert_array_equal(ls.L, machine_loads(inst, ls.machines()))
    assert ls.makespan() <= before
    assert sorted(j for q in ls.machines() for j in q) == list(range(n))
    # a perturbation then a descent that prices only moves touching changed machines ends
    # in a true local optimum (checked by pricing every move again)
    snap = ls.snapshot()
    ls.remove_jobs([0, 5, 9])
    for j in (9, 0, 5):
        ls.insert_greedy(j)
    ls.descend()
    ls.dirty[:] = True
    assert ls._best_insertion()[0] >= 0 and ls._best_swap()[0] >= 0
    ls.restore(snap)
    np.testing.assert_array_equal(ls.L, machine_loads(inst, ls.machines()))


def test_cpsat_resequencing_never_worse_than_hint():
    inst = read_upmsp(_path("I_50_10_S_1-124_1"))
    sol = read_solution(BENCH / "best_solutions" / "I_50_10_S_1-124_1.sol")
    k = int(np.argmax([len(q) for q in sol]))
    load = int(machine_loads(inst, sol)[k])
    res = solve_subset(inst.p, inst.s, [k], sol[k], hint=[sol[k]], max_load=load, time_limit_s=5)
    assert res.loads is not None and res.loads[0] <= load
    assert sorted(res.machines[0]) == sorted(sol[k])


def test_medium_instance_short_budget_is_valid_and_close():
    name = "I_50_20_S_1-9_2"
    inst = read_upmsp(_path(name))
    res = solve_upmsp(inst, time_limit_s=3.0, seed=0)
    assert makespan(inst, res.machines) == res.makespan
    assert _bks()[name] <= res.makespan <= 1.25 * _bks()[name]
    assert res.stats["relaxation_start"] == 1


def test_long_sequences_use_both_cores_and_stay_valid():
    name = "I_100_10_S_1-49_1"
    inst = read_upmsp(_path(name))
    res = solve_upmsp(inst, time_limit_s=6.0, seed=0, workers=2)
    assert makespan(inst, res.machines) == res.makespan
    assert res.stats["relaxation_start"] == 1
    # the relaxation start alone is within 10 % of the best known; the search must keep it
    assert _bks()[name] <= res.makespan <= 1.1 * _bks()[name]
    assert res.stats["ig_iterations"] > 0


def test_warm_start_skips_the_relaxation():
    name = "I_100_10_S_1-49_1"
    inst = read_upmsp(_path(name))
    start = read_solution(BENCH / "best_solutions" / f"{name}.sol")
    res = solve_upmsp(inst, time_limit_s=2.0, seed=0, workers=1, warm_start=start)
    assert res.stats["relaxation_start"] == 0
    assert res.makespan <= _bks()[name]  # never worse than the start
