"""``coatshare edge serve --mqtt`` and ``coatshare cloud serve`` as real processes on the
real Mosquitto: a booking at the edge, a part record, the record in the cloud's API."""

import subprocess
import sys
import time
import uuid
from datetime import UTC, datetime, timedelta

import yaml

from edge_gateway.db import open_database
from edge_gateway.factory import DEMO_FACTORY
from edge_gateway.records import PartRecord, PartRecordStore
from tests.http_client import call, free_port, wait_up

EDGE_TOKEN = "edge-operator-token-for-the-test"
CLOUD_TOKEN = "cloud-operator-token-for-the-test"


def test_a_record_made_at_the_edge_reaches_the_cloud_api(tmp_path):
    site = f"t{uuid.uuid4().hex[:8]}"
    factory = yaml.safe_load(DEMO_FACTORY.read_text())
    factory["site"] = site
    factory_file = tmp_path / "factory.yaml"
    factory_file.write_text(yaml.safe_dump(factory))
    cloud_port, edge_port = free_port(), free_port()
    cli = [sys.executable, "-m", "coatshare"]
    cloud = subprocess.Popen(
        [*cli, "cloud", "serve", "--port", str(cloud_port), "--data", str(tmp_path / "cloud"),
         "--operator-token", CLOUD_TOKEN, "--client-id", f"cloud-{site}"],
        stdout=subprocess.PIPE, stderr=subprocess.STDOUT, text=True,
    )  # fmt: skip
    edge = subprocess.Popen(
        [*cli, "edge", "serve", "--port", str(edge_port), "--data", str(tmp_path / "edge"),
         "--factory", str(factory_file), "--operator-token", EDGE_TOKEN,
         "--mqtt", "127.0.0.1:1883", "--promise-time-limit-s", "0.5"],
        stdout=subprocess.PIPE, stderr=subprocess.STDOUT, text=True,
    )  # fmt: skip
    cloud_base, edge_base = f"http://127.0.0.1:{cloud_port}", f"http://127.0.0.1:{edge_port}"
    try:
        assert wait_up(cloud_base, cloud)[0] == 200 and wait_up(edge_base, edge)[0] == 200
        _, firm = call(edge_base, "POST", "/firms", EDGE_TOKEN, {"id": "oak", "name": "Oak"})
        due = (datetime.now(UTC) + timedelta(days=2)).isoformat()
        body = {"part_spec": "rect:width_mm=400,height_mm=300", "quantity": 4,
                "finish": "clear-satin", "due_at": due}  # fmt: skip
        status, quote = call(edge_base, "POST", "/quotes", firm["token"], body)
        assert status == 201, quote
        _, job = call(edge_base, "POST", f"/quotes/{quote['id']}/accept", firm["token"])
        engine = open_database(sqlite_path=tmp_path / "edge" / "edge.db")
        rid = PartRecordStore(engine).add(
            PartRecord("oak-001", "done", job_id=job["id"], passed=True, report={"ok": 1})
        )
        engine.dispose()
        deadline = time.monotonic() + 30
        while True:
            status, rows = call(cloud_base, "GET", f"/sites/{site}/records", CLOUD_TOKEN)
            if rows:
                break
            assert time.monotonic() < deadline, "the record did not reach the cloud"
            time.sleep(0.3)
        assert [(r["id"], r["job_id"], r["part_id"], r["passed"]) for r in rows] == [
            (rid, job["id"], "oak-001", True)
        ]
        assert call(edge_base, "GET", "/outbox", EDGE_TOKEN)[1]["waiting"] == 0
        status, sites = call(cloud_base, "GET", "/sites", CLOUD_TOKEN)
        ours = next(s for s in sites if s["site"] == site)
        assert (ours["messages"], ours["last_seq"]) == (1, 1)
        assert call(cloud_base, "GET", "/sites", "wrong")[0] == 401
    finally:
        for proc in (edge, cloud):
            proc.terminate()
            proc.wait(timeout=20)
