"""Edge to cloud over a real MQTT broker: every part record stored once, across outages.

Mosquitto (127.0.0.1:1883) is the production broker; amqtt is the embedded default. Each
test uses a site id of its own, so tests never see each other's messages.
"""

import time
import uuid

import pytest

from cloud_brain.db import open_database as open_cloud
from cloud_brain.intake import ResultIntake
from coatshare.factory_demo import EmbeddedBroker
from edge_gateway.cloud_link import CloudLink
from edge_gateway.db import open_database as open_edge
from edge_gateway.records import PartRecord, PartRecordStore

MOSQUITTO = ("127.0.0.1", 1883)


def _wait(cond, timeout_s: float, pump=None) -> None:
    deadline = time.monotonic() + timeout_s
    while not cond():
        assert time.monotonic() < deadline, "timed out"
        if pump is not None:
            pump()
        time.sleep(0.05)


def _site() -> str:
    return f"t{uuid.uuid4().hex[:10]}"


@pytest.fixture
def edge(tmp_path):
    engine = open_edge(sqlite_path=tmp_path / "edge.db")
    yield engine, PartRecordStore(engine)
    engine.dispose()


@pytest.fixture
def cloud(tmp_path):
    engine = open_cloud(sqlite_path=tmp_path / "cloud.db")
    yield engine
    engine.dispose()


def _add(store, n, start=0):
    return [store.add(PartRecord(f"p{start + i:03d}", "done", passed=True)) for i in range(n)]


def test_records_reach_the_cloud_once_through_an_outage(edge, cloud):
    engine, store = edge
    site = _site()
    intake = ResultIntake(cloud, host=MOSQUITTO[0], port=MOSQUITTO[1], client_id=f"cloud-{site}")
    link = CloudLink(engine, site, host=MOSQUITTO[0], port=MOSQUITTO[1], resend_s=1.0)
    assert intake.start() and link.start()
    try:
        ids = _add(store, 20)
        _wait(lambda: link.fill().waiting == 0, 20.0, link.pump)
        assert intake.count(site) == 20
        # the cloud goes away: rows wait at the edge, sent again and again, none lost
        intake.stop()
        ids += _add(store, 10, start=20)
        for _ in range(6):
            link.pump()
            time.sleep(0.3)
        fill = link.fill()
        assert fill.waiting == 10 and fill.oldest_age_s is not None
        assert link.sent > 30  # resent while unacknowledged
        intake.start()  # same client id, persistent session: queued messages arrive too
        _wait(lambda: link.fill().waiting == 0, 30.0, link.pump)
        assert intake.count(site) == 30
        assert sorted(intake.keys(site)) == sorted(f"part-record/{i}" for i in ids)
    finally:
        link.stop()
        intake.stop()


def test_the_embedded_broker_carries_the_same_exchange(edge, cloud):
    broker = EmbeddedBroker()
    port = broker.port
    engine, store = edge
    site = _site()
    intake = ResultIntake(cloud, port=port, client_id=f"cloud-{site}")
    link = CloudLink(engine, site, port=port, resend_s=1.0)
    try:
        assert intake.start() and link.start()
        _add(store, 5)
        _wait(lambda: link.fill().waiting == 0, 20.0, link.pump)
        assert intake.count(site) == 5
    finally:
        link.stop()
        intake.stop()
        broker.close()
