"""The edge API as firms and operators use it, on SQLite and PostgreSQL."""

from datetime import UTC, datetime, timedelta
from decimal import Decimal

import pytest

from edge_gateway.factory import load_factory
from edge_gateway.records import PartRecord, PartRecordStore
from tests.edge_gateway.service.conftest import OPERATOR, bearer, make_client

A, B = "alder-joinery", "birch-kitchens"


def _due(days: float = 3.0) -> str:
    return (datetime.now(UTC) + timedelta(days=days)).isoformat()


def _quote(client, token, **kw):
    body = {"part_spec": "door", "quantity": 40, "finish": "white-gloss", "due_at": _due()}
    body.update(kw)
    return client.post("/quotes", json=body, headers=bearer(token))


def test_health_and_who_may_call(client, firms):
    assert client.get("/health").json()["site"] == "demo"
    res = client.get("/jobs")
    assert res.status_code == 401 and res.json()["error"]["field"] == "authorization"
    assert client.get("/jobs", headers=bearer("x" * 40)).status_code == 401
    res = client.post("/firms", json={"id": "cedar", "name": "Cedar"}, headers=bearer(firms[A]))
    assert res.status_code == 403
    res = client.post("/firms", json={"id": A, "name": "again"}, headers=bearer(OPERATOR))
    assert res.status_code == 422 and res.json()["error"]["field"] == "id"


def test_a_quote_prices_every_term_and_promises_a_proved_date(client, firms):
    before = datetime.now(UTC)
    res = _quote(client, firms[A])
    assert res.status_code == 201, res.text
    q = res.json()
    assert (q["firm_id"], q["quantity"], q["status"]) == (A, 40, "open")
    est, terms = q["details"]["estimate"], q["details"]["price"]
    prices = load_factory().prices
    cell_h = 40 * (est["cycle_time_s"] + prices.load_unload_s_per_part) / 3600
    assert terms["cell_time_h"] == pytest.approx(cell_h, abs=1e-3)
    assert terms["cell_eur"] == pytest.approx(cell_h * prices.cell_eur_per_h, abs=0.02)
    assert terms["paint_eur"] == pytest.approx(40 * est["paint_ml"] / 1000 * 22.0, abs=0.02)
    subtotal = terms["cell_eur"] + terms["paint_eur"] + terms["setup_eur"]
    assert float(Decimal(q["price_eur"])) == pytest.approx(subtotal * 1.18, abs=0.03)
    promise = datetime.fromisoformat(q["promise_at"])
    # an empty queue: the job alone plus the 4 h margin
    assert before + timedelta(hours=4, seconds=cell_h * 3600 * 0.9) <= promise
    assert promise <= datetime.now(UTC) + timedelta(hours=4, seconds=cell_h * 3600 * 1.1 + 60)
    assert q["details"]["meets_due_date"] is True


def test_firms_see_only_their_own(client, firms):
    q = _quote(client, firms[A]).json()
    assert client.get(f"/quotes/{q['id']}", headers=bearer(firms[B])).status_code == 404
    assert client.get(f"/quotes/{q['id']}", headers=bearer(OPERATOR)).json()["id"] == q["id"]
    res = client.post(f"/quotes/{q['id']}/accept", headers=bearer(firms[B]))
    assert res.status_code == 404
    job = client.post(f"/quotes/{q['id']}/accept", headers=bearer(firms[A])).json()
    assert job["status"] == "queued" and job["promise_at"] == q["promise_at"]
    assert [j["id"] for j in client.get("/jobs", headers=bearer(firms[A])).json()] == [job["id"]]
    assert client.get("/jobs", headers=bearer(firms[B])).json() == []
    assert len(client.get("/jobs", headers=bearer(OPERATOR)).json()) == 1
    assert client.get(f"/jobs/{job['id']}/records", headers=bearer(firms[B])).status_code == 404


def test_accepting_twice_or_cancelling_twice_is_a_conflict(client, firms):
    q = _quote(client, firms[A], quantity=5).json()
    job = client.post(f"/quotes/{q['id']}/accept", headers=bearer(firms[A])).json()
    res = client.post(f"/quotes/{q['id']}/accept", headers=bearer(firms[A]))
    assert res.status_code == 409 and "accepted" in res.json()["error"]["reason"]
    res = client.post(f"/jobs/{job['id']}/cancel", headers=bearer(firms[A]))
    assert res.json()["status"] == "cancelled"
    res = client.post(f"/jobs/{job['id']}/cancel", headers=bearer(firms[A]))
    assert res.status_code == 409 and "only a queued job" in res.json()["error"]["reason"]
    assert client.get("/jobs?status=queued", headers=bearer(firms[A])).json() == []


@pytest.mark.parametrize(
    ("change", "field"),
    [
        ({"finish": "purple-glitter"}, "finish"),
        ({"part_spec": "/etc/passwd"}, "part_spec"),
        ({"part_spec": "../door.stl"}, "part_spec"),
        ({"due_at": "2020-01-01T00:00:00Z"}, "due_at"),
        ({"quantity": 0}, "quantity"),
        ({"colour": "red"}, "colour"),
    ],
)
def test_bad_quotes_name_the_field_and_store_nothing(client, firms, change, field):
    res = _quote(client, firms[A], **change)
    assert res.status_code == 422, res.text
    assert res.json()["error"]["field"] == field
    assert client.get("/jobs", headers=bearer(OPERATOR)).json() == []


def test_a_promise_that_no_longer_holds_is_refused(engine, estimator):
    one_cell = load_factory().model_copy(deep=True)
    one_cell.cells = one_cell.cells[:1]
    client = make_client(engine, estimator, one_cell)
    tokens = {}
    for fid in (A, B):
        res = client.post("/firms", json={"id": fid, "name": fid}, headers=bearer(OPERATOR))
        tokens[fid] = res.json()["token"]
    # 500 doors take about 6 h on the one cell: more than the 4 h promise margin
    first = _quote(client, tokens[A], quantity=500, due_at=_due(1)).json()
    second = _quote(client, tokens[B], quantity=500, due_at=_due(1)).json()
    assert first["promise_at"][:13] == second["promise_at"][:13]  # both on an empty queue
    res = client.post(f"/quotes/{second['id']}/accept", headers=bearer(tokens[B]))
    assert res.status_code == 201
    res = client.post(f"/quotes/{first['id']}/accept", headers=bearer(tokens[A]))
    assert res.status_code == 409
    assert "no longer holds" in res.json()["error"]["reason"]
    still = client.get(f"/quotes/{first['id']}", headers=bearer(tokens[A])).json()
    assert still["status"] == "open"
    again = _quote(client, tokens[A], quantity=500, due_at=_due(1)).json()
    assert again["promise_at"] > second["promise_at"]  # behind the booked job now


def test_a_jobs_records_are_listed_for_its_firm(client, firms, engine):
    q = _quote(client, firms[A], quantity=2).json()
    job = client.post(f"/quotes/{q['id']}/accept", headers=bearer(firms[A])).json()
    store = PartRecordStore(engine)
    rid = store.add(PartRecord(f"{job['id'][:8]}-001", "done", job_id=job["id"], passed=True))
    rows = client.get(f"/jobs/{job['id']}/records", headers=bearer(firms[A])).json()
    assert [(r["id"], r["passed"], r["status"]) for r in rows] == [(rid, True, "done")]


def test_a_cells_progress_moves_the_job_to_running_then_done(client, firms, engine):
    from edge_gateway.service.queue import JobQueue

    q = _quote(client, firms[A], quantity=3).json()
    job = client.post(f"/quotes/{q['id']}/accept", headers=bearer(firms[A])).json()
    queue = JobQueue(engine)
    assert queue.report_progress(job["id"], 2)["status"] == "running"
    assert queue.report_progress(job["id"], 3)["status"] == "done"
    res = client.post(f"/jobs/{job['id']}/cancel", headers=bearer(firms[A]))
    assert res.status_code == 409
    with pytest.raises(Exception, match="is done"):
        queue.report_progress(job["id"], 3)


def _inbox_client(engine, estimator):
    from fastapi.testclient import TestClient

    from edge_gateway.recipe_inbox import RecipeInbox
    from edge_gateway.service import create_app
    from recipes.approval import ApprovalVerifier, generate_key_pair

    key = generate_key_pair(bytes(range(32)))
    inbox = RecipeInbox(engine, ApprovalVerifier(key.public_key_hex))
    app = create_app(engine, load_factory(), estimator=estimator, recipes=inbox)
    return TestClient(app), inbox, key


def _held(inbox, key, **kw) -> None:
    from recipes.approval import approve_recipe
    from recipes.document import loads
    from recipes.publication import publication, recipe_topic
    from tests.factories import recipe_text

    doc = approve_recipe(loads(recipe_text(**kw)), key.signing_key_hex, "ann")
    assert inbox.receive(recipe_topic(doc.id, doc.version), publication(doc))


def test_recipes_held_are_for_staff(engine, estimator, firms) -> None:
    client, inbox, key = _inbox_client(engine, estimator)
    _held(inbox, key)
    staff = bearer(OPERATOR)
    held = client.get("/recipes", headers=staff).json()
    assert [(h["recipe_id"], h["version"]) for h in held] == [("door-white", 1)]
    query = {"part": "door", "finish": "white-gloss"}
    res = client.get("/recipes/current", params=query, headers=staff)
    assert res.status_code == 200 and res.json()["recipe_id"] == "door-white"
    res = client.get("/recipes/current", params={**query, "finish": "oak-stain"}, headers=staff)
    assert res.status_code == 404
    firm = bearer(next(iter(firms.values())))
    assert client.get("/recipes", headers=firm).status_code == 403


def test_a_booking_without_a_held_recipe_asks_the_cloud_for_one(engine, estimator, firms):
    import json

    from edge_gateway.records import PartRecordStore

    client, inbox, key = _inbox_client(engine, estimator)
    _held(inbox, key, part="door", finish="white-gloss")
    for finish in ("white-gloss", "oak-stain"):  # held; not held (spray-core "benchmark")
        q = _quote(client, firms[A], finish=finish, quantity=4).json()
        res = client.post(f"/quotes/{q['id']}/accept", headers=bearer(firms[A]))
        assert res.status_code == 201, res.text
    jobs = client.get("/jobs", headers=bearer(OPERATOR)).json()
    held = {j["finish"]: j["recipe"] for j in jobs}
    assert held["white-gloss"]["recipe_id"] == "door-white" and held["oak-stain"] is None
    waiting = PartRecordStore(engine).pending_messages()
    requests = [m for m in waiting if m["topic"] == "recipes/request"]
    assert len(requests) == 1
    assert json.loads(requests[0]["payload"]) == {
        "part_spec": "door",
        "part": "door",
        "finish": "benchmark",
        "edge_passes": False,  # the demo factory's robots fly none
    }
