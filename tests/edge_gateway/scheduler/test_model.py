import pytest

from edge_gateway.scheduler.model import (
    Booking,
    Window,
    compile_problem,
    problem_from_dict,
    validate,
)
from recipes.errors import InvalidInputError
from tests.edge_gateway.scheduler.helpers import job, small_problem


def _refused(problem, field_part: str, reason_part: str) -> None:
    with pytest.raises(InvalidInputError) as exc:
        validate(problem)
    assert field_part in exc.value.field
    assert reason_part in exc.value.reason


def test_valid_problem_compiles_with_processing_times():
    comp = compile_problem(small_problem())
    j1 = next(t for t in comp.tasks if t.id == "j1")
    # 10 parts x 30 s + 60 s load/unload; c2 is 1.2x faster
    assert comp.proc_s[j1.index].tolist() == [360, 300]
    j4 = next(t for t in comp.tasks if t.id == "j4")
    assert comp.proc_s[j4.index, 0] == -1  # 2000 mm part: only c2


def test_job_no_cell_can_take_names_the_job():
    p = small_problem()
    p.jobs.append(job("j17", "grey", part_size_mm=5000))
    _refused(p, "jobs[j17]", "no cell can take it")


def test_3d_part_without_3d_cell_and_forbidden_finish():
    p = small_problem()
    p.cells[1].takes_3d = False
    p.jobs.append(job("j9", "white", is_3d=True))
    _refused(p, "jobs[j9]", "3D part")
    p = small_problem()
    p.cells[0].finishes = ["black", "grey", "white"]
    p.cells[1].finishes = ["black", "grey"]
    p.jobs.append(job("j10", "white", part_size_mm=2000))
    _refused(p, "jobs[j10]", "not allowed")


def test_overlapping_windows_are_refused():
    p = small_problem()
    p.cells[1].maintenance.append(Window(start_s=1000, end_s=2000))
    p.cells[1].bookings.append(Booking(start_s=1500, end_s=3000, firm="bolt"))
    _refused(p, "cells[c2].windows[1]", "overlaps")


def test_negative_and_zero_durations_are_refused():
    p = small_problem()
    p.jobs.append(job("j11", "grey", cycle_time_s=-5.0))
    _refused(p, "jobs[j11].cycle_time_s", "negative")
    p = small_problem()
    p.jobs.append(job("j12", "grey", cycle_time_s=0.0, load_unload_s=0.0))
    _refused(p, "jobs[j12]", "positive")
    p = small_problem()
    p.cells[0].maintenance.append(Window(start_s=500, end_s=400))
    _refused(p, "cells[c1].windows[0]", "ends")


def test_unknown_finish_and_due_before_release():
    p = small_problem()
    p.jobs.append(job("j13", "purple"))
    _refused(p, "jobs[j13].finish", "unknown finish 'purple'")
    p = small_problem()
    p.jobs.append(job("j14", "grey", release_s=5000, due_s=100))
    _refused(p, "jobs[j14].due", "before release")


def test_duplicate_ids_and_missing_changeover():
    p = small_problem()
    p.jobs.append(job("j1", "grey"))
    _refused(p, "jobs[j1]", "duplicate")
    p = small_problem()
    p.changeovers = [
        c for c in p.changeovers if not (c.from_finish == "black" and c.to_finish == "white")
    ]
    with pytest.raises(InvalidInputError, match="black -> white"):
        compile_problem(p)


def test_document_errors_name_the_job_id():
    data = small_problem().model_dump()
    data["jobs"][2]["due_s"] = "tomorrow"
    with pytest.raises(InvalidInputError) as exc:
        problem_from_dict(data)
    assert exc.value.field == "jobs[j3].due_s"


def test_split_jobs_become_batches():
    p = small_problem(batch_size=4)
    p.jobs[0].splittable = True  # j1: 10 parts -> 4 + 4 + 2
    comp = compile_problem(p)
    batches = [t for t in comp.tasks if t.job == "j1"]
    assert [t.quantity for t in batches] == [4, 4, 2]
    assert [t.id for t in batches] == ["j1#1", "j1#2", "j1#3"]
    assert sum(t.weight for t in batches) == pytest.approx(1.0)
