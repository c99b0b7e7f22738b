"""``coatshare demo``: the main job end to end on embedded defaults."""

from collections import Counter

import pytest

from coatshare.factory_demo import BOOKINGS, run_factory_demo
from edge_gateway.db import open_database
from edge_gateway.service.queue import JobQueue


@pytest.fixture(scope="module")
def demo(tmp_path_factory):
    out = tmp_path_factory.mktemp("demo") / "out"
    lines: list[str] = []
    return run_factory_demo(out, parts=2, say=lines.append), lines


def test_every_firm_is_quoted_booked_and_planned(demo):
    result, _ = demo
    assert len(result.quotes) == len(BOOKINGS) == len(result.jobs)
    for q, (firm, _, spec, qty, finish, _) in zip(result.quotes, BOOKINGS, strict=True):
        assert (q["firm_id"], q["part_spec"], q["quantity"], q["finish"]) == (
            firm,
            spec,
            qty,
            finish,
        )
        assert float(q["price_eur"]) > 0 and q["details"]["meets_due_date"] is True
    assert all(j["status"] == "queued" for j in result.jobs)
    planned = Counter(r["job"] for r in result.plan_rows)
    assert set(planned) == {j["id"] for j in result.jobs}
    # the door estimate is the cell's recipe: faces only, one coat
    door = next(q for q in result.quotes if q["part_spec"] == "door")
    assert door["cycle_time_s"] == pytest.approx(14.8, abs=0.5)


def test_cell_one_paints_and_the_cloud_gets_every_record(demo):
    result, lines = demo
    assert [p["status"] for p in result.parts] == ["completed", "completed"]
    assert all(p["qc_passed"] for p in result.parts)
    assert result.edge_records == 2 and result.cloud_records == 2
    engine = open_database(sqlite_path=result.out / "edge.db")
    job = JobQueue(engine).get(result.jobs[0]["id"], None)
    assert (job["status"], job["parts_done"]) == ("running", 2)
    assert len(JobQueue(engine).records(job["id"], None)) == 2
    engine.dispose()
    assert any("2 of 2 records stored in the cloud" in line for line in lines)


def test_the_report_shows_the_plan_and_the_films(demo):
    result, _ = demo
    report = result.files["report"].read_text()
    assert "## The plan" in report and "stored in the cloud" in report
    for name in ("schedule.png", "film_1-0000.png", "film_1-0001.png"):
        assert (result.out / name).stat().st_size > 5_000


def test_the_cloud_planned_and_approved_the_recipes_the_cell_used(demo):
    result, lines = demo
    pairs = {(v["part"], v["finish"]) for v in result.recipes}
    assert pairs == {
        ("door", "white-gloss"),
        ("door", "clear-satin"),
        ("rect_560x380", "black-matt"),
    }
    for v in result.recipes:
        assert v["status"] == "approved" and v["decided_by"] == "ana"
        assert v["submitted_by"] == "cloud-planner" and v["metrics"]["within_tol_pct"] > 80
        assert (result.out / f"recipe_{v['recipe_id']}.png").stat().st_size > 5_000
        assert (result.out / "recipes" / f"{v['recipe_id']}-v1.yaml").exists()
    assert any("3 held at the edge, signatures verified" in line for line in lines)
    report = result.files["report"].read_text()
    assert "## Recipes" in report and "door-white-gloss v1" in report
