"""The cloud's intake: each (site, key) stored once; malformed messages refused."""

import json

import pytest

from cloud_brain.db import open_database
from cloud_brain.intake import ResultIntake, parse_up


@pytest.fixture
def intake(tmp_path):
    engine = open_database(sqlite_path=tmp_path / "cloud.db")
    yield ResultIntake(engine, client_id="unused")
    engine.dispose()


def test_a_message_sent_twice_is_stored_once(intake):
    data = {"key": "part-record/x", "seq": 1, "topic": "records/part", "body": {"a": 1}}
    assert intake.store("s1", data) is True
    assert intake.store("s1", data) is False
    assert intake.store("s2", data) is True  # another site's key space
    assert intake.count("s1") == 1 and intake.count() == 2
    assert intake.keys("s1") == ["part-record/x"]


def test_parse_up_reads_the_site_and_refuses_what_is_malformed():
    good = {"key": "k", "seq": 3, "topic": "records/part", "body": {}}
    assert parse_up("coatshare/f1/up/records/part", json.dumps(good).encode()) == ("f1", good)
    bad = [
        ("coatshare/f1/ack", good),
        ("other/f1/up/x", good),
        ("coatshare/f1/up/x", {"seq": 1, "body": {}}),
        ("coatshare/f1/up/x", {"key": "k", "body": {}}),
        ("coatshare/f1/up/x", {"key": "k", "seq": 1}),
    ]
    for topic, data in bad:
        with pytest.raises(ValueError):
            parse_up(topic, json.dumps(data).encode())
    with pytest.raises(ValueError):
        parse_up("coatshare/f1/up/x", b"not json")
