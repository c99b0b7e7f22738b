"""Pipelines in the cloud: the shipped library, documents checked against the declarations."""

from __future__ import annotations

from fastapi.testclient import TestClient

from cloud_brain.service import create_app
from cloud_brain.users import ensure_admin
from pipelines import dumps, load_library

AUTH = {"Authorization": "Bearer cloud-admin-token-for-tests-03"}


def _client(engine) -> TestClient:
    ensure_admin(engine, AUTH["Authorization"].removeprefix("Bearer "))
    return TestClient(create_app(engine))


def test_the_library_and_a_valid_document(engine) -> None:
    client = _client(engine)
    shipped = client.get("/pipelines", headers=AUTH).json()
    default = next(p for p in shipped if p["id"] == "spray-default")
    assert default["blocks"] and default["content_hash"].startswith("sha256:")
    text = dumps(load_library("spray_default"))
    res = client.post("/pipelines/validate", json={"document": text}, headers=AUTH)
    assert res.status_code == 200 and res.json()["valid"] is True, res.json()
    assert res.json()["problems"] == []


def test_problems_name_the_block_and_the_rule(engine) -> None:
    client = _client(engine)
    doc = load_library("spray_default")
    broken = doc.model_copy(
        update={"blocks": [*doc.blocks[:1], doc.blocks[1].model_copy(update={"type": "no.such"})]}
    )
    res = client.post("/pipelines/validate", json={"document": dumps(broken)}, headers=AUTH)
    body = res.json()
    assert res.status_code == 200 and body["valid"] is False
    assert any(p["block"] == doc.blocks[1].id for p in body["problems"]), body["problems"]
    res = client.post("/pipelines/validate", json={"document": "schema: x"}, headers=AUTH)
    assert res.status_code == 422 and res.json()["error"]["field"]
