import itertools

import pytest

from edge_gateway.scheduler import (
    compile_problem,
    explain,
    hard_violations,
    plan,
    promise_date,
    save_gantt,
)
from edge_gateway.scheduler.model import Window
from edge_gateway.scheduler.plans import Decoder
from recipes.errors import InvalidInputError, NotFoundError
from tests.edge_gateway.scheduler.helpers import job, small_problem


def _promised_problem():
    p = small_problem()
    p.cells = p.cells[1:]  # one cell: promises compete for it
    p.jobs = [
        job("a", "black", 10, due_s=900, deadline_s=900),
        job("b", "white", 10, due_s=2400, deadline_s=2400),
        job("c", "grey", 10, due_s=4000),
    ]
    return p


def _earliest_by_enumeration(p, new) -> int:
    """Smallest completion of ``new`` over every order that keeps all deadlines."""
    q = p.model_copy(deep=True)
    q.jobs = [*q.jobs, new]
    comp = compile_problem(q)
    dec = Decoder(comp)
    idx = next(t.index for t in comp.tasks if t.job == new.id)
    best = None
    for order in itertools.permutations(range(len(comp.tasks))):
        time_s, loaded, ok, done = dec.start_t[0], dec.start_f[0], True, None
        for t in order:
            _, _, e = dec.place(0, t, time_s, loaded)
            if dec.dl[t] is not None and e > dec.dl[t]:
                ok = False
                break
            time_s, loaded = e, dec.fin[t]
            if t == idx:
                done = e
        if ok and (best is None or done < best):
            best = done
    return best


def test_promise_is_the_earliest_date_keeping_other_promises():
    p = _promised_problem()
    new = job("q", "white", 10, due_s=10_000, release_s=100)
    pr = promise_date(p, new, time_limit_s=3.0)
    assert pr.promise_s == pr.completion_s == _earliest_by_enumeration(p, new)
    q = p.model_copy(deep=True)
    q.jobs = [*q.jobs, new.model_copy(update={"deadline_s": pr.promise_s})]
    assert hard_violations(compile_problem(q), pr.plan) == []
    # never earlier than the job alone on the fastest cell
    assert pr.promise_s >= new.release_s + (10 * 30 + 60) / 1.2


def test_promise_margin_and_duplicate_id():
    p = _promised_problem()
    pr = promise_date(p, job("q", "grey", 5, due_s=9000), margin_s=1800, time_limit_s=2.0)
    assert pr.promise_s == pr.completion_s + 1800
    with pytest.raises(InvalidInputError, match=r"jobs\[a\]"):
        promise_date(p, job("a", "grey", 5, due_s=9000), time_limit_s=1.0)


def test_explain_a_late_job_names_the_blocking_window():
    p = small_problem()
    p.cells = p.cells[1:]
    p.cells[0].maintenance.append(Window(start_s=0, end_s=3600))
    p.jobs = [job("late", "grey", 10, due_s=1800), job("fine", "grey", 5, due_s=20_000)]
    result = plan(p, time_limit_s=2.0)
    ex = explain(p, result, "late")
    assert ex.late_s == result.job_completion_s()["late"] - 1800 > 0
    assert any("maintenance" in r for r in ex.reasons)
    assert ex.figures["blocked_s"] == 3600
    assert "late by" in ex.text()
    ok = explain(p, result, "fine")
    assert ok.late_s == 0 and "on time" in ok.text()
    with pytest.raises(NotFoundError):
        explain(p, result, "nope")


def test_explain_names_capability_and_hopeless_due():
    p = small_problem()
    p.jobs[3].due_s = 10  # j4: large part, needs 200 s on c2 alone
    result = plan(p, time_limit_s=2.0)
    ex = explain(p, result, "j4")
    text = ex.text()
    assert "cannot be on time even alone" in text
    assert "only 1 of 2 cells can take it: c2" in text


def test_gantt_png(tmp_path):
    p = small_problem()
    p.cells[0].maintenance.append(Window(start_s=400, end_s=1200))
    result = plan(p, time_limit_s=2.0)
    out = save_gantt(result, tmp_path / "plan.png", p)
    data = out.read_bytes()
    assert data[:8] == b"\x89PNG\r\n\x1a\n" and len(data) > 5000
