"""Dispatching a job to a cell controller running in its own process, over dds: the held
recipe, a part record per part, the job's progress; no recipe, no dispatch."""

from __future__ import annotations

import time
import uuid
from datetime import UTC, datetime, timedelta

import pytest
from sqlalchemy import insert

from edge_gateway.cell_client import CellClient
from edge_gateway.db import firms, jobs, open_database
from edge_gateway.dispatch import dispatch_job
from edge_gateway.factory import load_factory
from edge_gateway.recipe_inbox import RecipeInbox
from edge_gateway.records import PartRecordStore
from edge_gateway.service.quotes import ConflictError
from recipes.approval import ApprovalVerifier
from recipes.publication import publication, recipe_topic
from robot_nodes.bus.dds import LOOPBACK_CONFIG_XML
from robot_nodes.bus.domain_ids import lease_domain_id
from tests.robot_nodes.cell_factories import KEY, signed_recipe, write_cell_setup
from tests.robot_nodes.processes import start_controller, start_plant

DOC = signed_recipe()  # rect_200x120 in the spray-core finish "benchmark", cell t1's station
SPEC = "rect:width_mm=200,height_mm=120"


def _job(engine, quantity: int, *, part_spec: str = SPEC, new_firm: bool = True) -> str:
    now = datetime.now(UTC)
    job_id = str(uuid.uuid4())
    with engine.begin() as conn:
        if new_firm:
            conn.execute(insert(firms).values(id="oak", name="Oak", created_at=now))
        conn.execute(
            insert(jobs).values(
                id=job_id, firm_id="oak", quote_id=None,
                part_spec=part_spec, quantity=quantity,
                finish="oak-stain",  # the demo factory's offer of the finish "benchmark"
                cycle_time_s=10.0, part_size_mm=233.0, due_at=now + timedelta(days=1),
                promise_at=now + timedelta(days=1), weight=1, status="queued", parts_done=0,
                created_at=now, updated_at=now,
            )
        )  # fmt: skip
    return job_id


@pytest.fixture
def edge(tmp_path):
    engine = open_database(sqlite_path=tmp_path / "edge.db")
    inbox = RecipeInbox(engine, ApprovalVerifier(KEY.public_key_hex))
    yield engine, inbox
    engine.dispose()


def test_a_job_without_a_held_recipe_is_not_dispatched(edge) -> None:
    engine, inbox = edge
    job_id = _job(engine, 2)
    with pytest.raises(ConflictError, match="waits for an approved recipe"):
        dispatch_job(engine, load_factory(), inbox, None, job_id)  # type: ignore[arg-type]
    assert PartRecordStore(engine).count() == 0


def test_the_held_recipe_runs_at_the_cell_and_each_part_is_recorded(edge, tmp_path) -> None:
    engine, inbox = edge
    assert inbox.receive(recipe_topic(DOC.id, DOC.version), publication(DOC))
    job_id = _job(engine, 3)
    config = write_cell_setup(tmp_path / "cell", [DOC])
    with lease_domain_id() as lease:
        ctl = start_controller(config, lease.domain_id)
        plant = start_plant(lease.domain_id)
        cell = CellClient("t1", domain_id=lease.domain_id, config_xml=LOOPBACK_CONFIG_XML)
        try:
            plant.expect("READY")
            assert cell.wait_ready(30.0)
            out = dispatch_job(engine, load_factory(), inbox, cell, job_id, parts=2)
        finally:
            cell.close()
            plant.stop()
            ctl.stop()
    assert out.recipe == f"{DOC.id} v1"
    assert [o.state for o in out.outcomes] == ["done", "done"]
    for o in out.outcomes:
        assert o.spray_length_mm == pytest.approx(400.0, abs=40.0)
        assert o.max_tracking_error_mm < 2.0 and o.cycle_s > 0
    assert (out.job["status"], out.job["parts_done"]) == ("running", 2)
    store = PartRecordStore(engine)
    assert store.count() == 2
    messages = [m for m in store.pending_messages() if m["topic"] == "records/part"]
    assert len(messages) == 2  # on their way to the cloud


def test_an_operator_dispatches_over_the_edge_api(edge, tmp_path) -> None:
    from fastapi.testclient import TestClient

    from edge_gateway.service import create_app, ensure_operator

    engine, inbox = edge
    assert inbox.receive(recipe_topic(DOC.id, DOC.version), publication(DOC))
    job_id = _job(engine, 1)
    ensure_operator(engine, "operator-token-for-the-dispatch")
    staff = {"Authorization": "Bearer operator-token-for-the-dispatch"}
    config = write_cell_setup(tmp_path / "cell", [DOC])
    with lease_domain_id() as lease:
        ctl = start_controller(config, lease.domain_id)
        plant = start_plant(lease.domain_id)
        cell = CellClient("t1", domain_id=lease.domain_id, config_xml=LOOPBACK_CONFIG_XML)
        client = TestClient(create_app(engine, load_factory(), recipes=inbox, cells={"t1": cell}))
        try:
            plant.expect("READY")
            assert cell.wait_ready(30.0)
            assert client.get("/cells", headers=staff).json() == [
                {"cell": "t1", "state": "IDLE", "busy": False}
            ]
            res = client.post(f"/jobs/{job_id}/dispatch", json={"cell": "t9"}, headers=staff)
            assert res.status_code == 422 and res.json()["error"]["field"] == "cell"
            res = client.post(f"/jobs/{job_id}/dispatch", json={"cell": "t1"}, headers=staff)
            assert res.status_code == 200, res.text
        finally:
            cell.close()
            plant.stop()
            ctl.stop()
    body = res.json()
    assert [p["state"] for p in body["parts"]] == ["done"]
    assert (body["job"]["status"], body["job"]["parts_done"]) == ("done", 1)
    assert body["job"]["recipe"]["recipe_id"] == DOC.id
    res = client.post(f"/jobs/{job_id}/dispatch", json={"cell": "t1"}, headers=staff)
    assert res.status_code == 409  # the job is done


def test_the_loop_runs_the_queue_in_the_scheduler_s_order(edge, tmp_path) -> None:
    import threading

    from edge_gateway.dispatch_loop import DispatchLoop
    from edge_gateway.factory import Factory
    from edge_gateway.service.queue import JobQueue

    engine, inbox = edge
    assert inbox.receive(recipe_topic(DOC.id, DOC.version), publication(DOC))
    ready = _job(engine, 2)
    data = load_factory().model_dump(by_alias=True)
    data["cells"] = [{"id": "t1", "max_part_size_mm": 1400}]  # the cell of the harness
    factory = Factory.model_validate(data)
    waiting = _job(engine, 1, part_spec="rect:width_mm=300,height_mm=200", new_firm=False)
    config = write_cell_setup(tmp_path / "cell", [DOC])
    stop, threads = threading.Event(), []
    with lease_domain_id() as lease:
        ctl = start_controller(config, lease.domain_id)
        plant = start_plant(lease.domain_id)
        cell = CellClient("t1", domain_id=lease.domain_id, config_xml=LOOPBACK_CONFIG_XML)
        loop = DispatchLoop(engine, factory, inbox, {"t1": cell}, idle_s=0.2)
        try:
            plant.expect("READY")
            assert cell.wait_ready(30.0)
            threads += loop.start(stop)
            queue = JobQueue(engine)
            deadline = time.monotonic() + 90
            while queue.get(ready, None)["status"] != "done":
                assert time.monotonic() < deadline, queue.get(ready, None)
                time.sleep(0.2)
        finally:
            stop.set()
            for t in threads:
                t.join(30)
            cell.close()
            plant.stop()
            ctl.stop()
    assert loop.painted == {"t1": 2}
    assert JobQueue(engine).get(waiting, None)["status"] == "queued"  # no recipe held yet
    assert PartRecordStore(engine).count() == 2
    with pytest.raises(ValueError, match="not cells of the factory"):
        DispatchLoop(engine, load_factory(), inbox, {"t1": cell})
