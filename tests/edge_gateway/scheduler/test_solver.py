import pytest

from edge_gateway.scheduler import (
    InfeasiblePlanError,
    compile_problem,
    edd_plan,
    fifo_plan,
    generate_workload,
    hard_violations,
    plan,
)
from edge_gateway.scheduler.model import Booking, Window
from edge_gateway.scheduler.plans import Decoder, as_index_sequences
from tests.edge_gateway.scheduler.helpers import brute_force_best, job, small_problem


def _cost(problem, result) -> float:
    comp = compile_problem(problem)
    dec = Decoder(comp)
    return sum(dec.cell_cost(c, q) for c, q in enumerate(as_index_sequences(comp, result)))


def _tight_problem():
    p = small_problem()
    p.cells[0].maintenance.append(Window(start_s=400, end_s=1200))
    p.cells[1].bookings.append(Booking(start_s=600, end_s=1500, firm="bolt"))
    for j in p.jobs:
        j.due_s = j.due_s // 3
    return p


@pytest.mark.parametrize("make", [small_problem, _tight_problem])
def test_small_plan_is_optimal_and_matches_brute_force(make):
    p = make()
    result = plan(p, time_limit_s=5.0)
    comp = compile_problem(p)
    assert hard_violations(comp, result) == []
    assert result.optimal
    best = brute_force_best(Decoder(comp), list(range(len(comp.tasks))))
    assert _cost(p, result) == pytest.approx(best)


def test_plan_beats_dispatch_baselines_on_small_problem():
    p = _tight_problem()
    result = plan(p, time_limit_s=5.0)
    for base in (fifo_plan(p), edd_plan(p)):
        assert result.figures.objective <= base.figures.objective
        assert hard_violations(compile_problem(p), base) == []


def test_fifo_and_edd_figures_on_one_cell():
    p = small_problem()
    p.cells = p.cells[1:]  # c2 only (takes everything), speed 1.2
    p.jobs = [
        job("a", "black", 10, due_s=1000, release_s=0),
        job("b", "white", 10, due_s=400, release_s=10),
        job("c", "black", 10, due_s=2000, release_s=20),
    ]
    # 10 x 30 s + 60 s = 360 s / 1.2 = 300 s each; black -> white 900 s, white -> black 300 s
    fifo = fifo_plan(p)  # a [0,300) b [1200,1500) c [1800,2100)
    assert fifo.sequences() == {"c2": ["a", "b", "c"]}
    assert fifo.figures.changeovers == 2
    assert fifo.figures.changeover_time_s == 1200
    assert fifo.figures.weighted_tardiness == (1500 - 400) + (2100 - 2000)
    edd = edd_plan(p)  # b [10,310) a [610,910) c [910,1210)
    assert edd.sequences() == {"c2": ["b", "a", "c"]}
    assert edd.figures.changeovers == 1
    assert edd.figures.weighted_tardiness == 0
    assert edd.figures.makespan_s == 1210


def test_bookings_exclude_other_firms_only():
    p = small_problem()
    p.cells = p.cells[1:]
    p.jobs = [
        job("x", "grey", 10, firm="acme", due_s=100),
        job("y", "grey", 10, firm="bolt", due_s=100),
    ]
    p.cells[0].bookings.append(Booking(start_s=0, end_s=3600, firm="bolt"))
    result = plan(p, time_limit_s=3.0)
    assert hard_violations(compile_problem(p), result) == []
    assert result.slot("y").end_s <= 3600  # bolt uses its own booking
    assert result.slot("x").setup_start_s >= 3600  # acme waits for it to end


def test_conflicting_deadlines_report_the_smallest_set():
    p = small_problem()
    # j4 and j8 are large parts (c2 only), ~200 s each, both promised by 300 s
    p.jobs[3].deadline_s = 300
    p.jobs.append(job("j8", "grey", 6, due_s=300, deadline_s=300, part_size_mm=2000))
    p.jobs[0].deadline_s = 5000  # a promise that is easy to keep
    with pytest.raises(InfeasiblePlanError) as exc:
        plan(p, time_limit_s=5.0)
    assert exc.value.conflict == ["j4", "j8"]
    assert "j4" in exc.value.field and "j1" not in exc.value.field


def test_deadlines_are_met_when_possible():
    p = small_problem()
    p.jobs[4].deadline_s = 1500  # j5, black, released at 600
    p.jobs[1].deadline_s = 900
    result = plan(p, time_limit_s=3.0)
    assert hard_violations(compile_problem(p), result) == []
    assert result.figures.deadline_misses == 0


def test_workload_plan_beats_fifo_changeovers_and_edd_tardiness():
    p = generate_workload(n_jobs=100, n_firms=15, n_cells=4, n_large_cells=1, n_bookings=2, seed=4)
    comp = compile_problem(p)
    result = plan(p, time_limit_s=3.0, seed=0)
    fifo, edd = fifo_plan(comp), edd_plan(comp)
    assert hard_violations(comp, result) == []
    assert result.figures.changeovers <= 0.6 * fifo.figures.changeovers
    assert result.figures.weighted_tardiness <= edd.figures.weighted_tardiness


def test_generator_is_seeded():
    a = generate_workload(n_jobs=30, seed=5)
    b = generate_workload(n_jobs=30, seed=5)
    c = generate_workload(n_jobs=30, seed=6)
    assert a == b
    assert a != c
    assert len(a.jobs) == 30 and len(a.cells) == 8
    assert sum(len(cell.bookings) for cell in a.cells) == 5
