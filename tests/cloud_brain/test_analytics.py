"""A site's records summed up: by status, QC pass rate, per recipe and cell."""

from __future__ import annotations

import pytest
from fastapi.testclient import TestClient

from cloud_brain.analytics import site_summary
from cloud_brain.intake import ResultIntake
from cloud_brain.service import create_app
from cloud_brain.users import ensure_admin
from recipes.errors import NotFoundError

RECORDS = [
    dict(status="done", passed=True, recipe="door-white-gloss v1", cell_id="1"),
    dict(status="done", passed=False, recipe="door-white-gloss v1", cell_id="1"),
    dict(status="done", passed=True, recipe="door-clear-satin v1", cell_id="2"),
    dict(status="failed", passed=None, recipe="door-white-gloss v1", cell_id="2"),
    dict(status="held", passed=None, recipe=None, cell_id="1"),
]


def _stored(engine, site: str) -> None:
    intake = ResultIntake(engine, client_id="unused")
    for seq, body in enumerate(RECORDS, 1):
        msg = {"key": f"part-record/{seq}", "seq": seq, "topic": "records/part", "body": body}
        assert intake.store(site, msg)
    intake.store(
        site, {"key": "recipe-request/x", "seq": 9, "topic": "recipes/request", "body": {}}
    )


def test_a_site_s_parts_by_outcome(engine) -> None:
    _stored(engine, "f1")
    s = site_summary(engine, "f1")
    assert s["parts"] == 5  # the recipe request is no part
    assert s["statuses"] == {"done": 3, "failed": 1, "held": 1}
    assert (s["qc_measured"], s["qc_pass_pct"]) == (3, pytest.approx(66.67))
    white = s["recipes"]["door-white-gloss v1"]
    assert (white["parts"], white["qc_measured"], white["qc_pass_pct"]) == (3, 2, 50.0)
    assert s["recipes"]["(none)"]["statuses"] == {"held": 1}
    assert s["cells"]["2"]["statuses"] == {"done": 1, "failed": 1}
    assert s["first_at"] <= s["last_at"]
    with pytest.raises(NotFoundError):
        site_summary(engine, "f2")


def test_the_summary_over_http(engine) -> None:
    _stored(engine, "f1")
    ensure_admin(engine, "cloud-admin-token-for-tests-02")
    client = TestClient(create_app(engine))
    auth = {"Authorization": "Bearer cloud-admin-token-for-tests-02"}
    assert client.get("/sites/f1/summary", headers=auth).json()["parts"] == 5
    res = client.get("/sites/nowhere/summary", headers=auth)
    assert res.status_code == 404 and res.json()["error"]["field"] == "site"
    assert client.get("/sites/f1/summary").status_code == 401
