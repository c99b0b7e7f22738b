"""The cloud API: users, the recipe review over HTTP, errors as answers."""

from __future__ import annotations

import pytest
from fastapi.testclient import TestClient

from cloud_brain.service import create_app
from cloud_brain.users import ensure_admin
from recipes.approval import ApprovalVerifier
from recipes.document import loads
from tests.factories import recipe_text

from .conftest import KEY

ADMIN = "cloud-admin-token-for-tests-01"


def bearer(token: str) -> dict:
    return {"Authorization": f"Bearer {token}"}


@pytest.fixture
def client(engine) -> TestClient:
    ensure_admin(engine, ADMIN)
    return TestClient(create_app(engine, KEY))


@pytest.fixture
def tokens(client) -> dict[str, str]:
    out = {}
    for name, role in (("eve", "engineer"), ("ann", "approver")):
        res = client.post("/users", json={"name": name, "role": role}, headers=bearer(ADMIN))
        assert res.status_code == 201, res.text
        assert res.json()["role"] == role
        out[name] = res.json()["token"]
    return out


def test_submit_review_and_fetch_the_signed_recipe(client, tokens) -> None:
    eve, ann = bearer(tokens["eve"]), bearer(tokens["ann"])
    res = client.post("/recipes", json={"document": recipe_text()}, headers=eve)
    assert res.status_code == 201 and res.json()["status"] == "pending"
    again = client.post("/recipes", json={"document": recipe_text()}, headers=eve)
    assert again.status_code == 200 and again.json()["version"] == 1  # a retry
    queue = client.get("/recipes", params={"status": "pending"}, headers=ann).json()
    assert [(q["recipe_id"], q["version"], q["submitted_by"]) for q in queue] == [
        ("door-white", 1, "eve")
    ]
    res = client.post("/recipes/door-white/versions/1/approve", headers=ann)
    assert res.status_code == 200, res.text
    assert res.json()["status"] == "approved" and res.json()["key_id"] == KEY.key_id
    # what an edge does: the current recipe for its part and finish, verified with the
    # cloud's public key
    key = client.get("/approval-key", headers=eve).json()
    current = client.get(
        "/recipes/current", params={"part": "door", "finish": "white-gloss"}, headers=eve
    )
    assert current.status_code == 200
    doc = loads(current.json()["document"])
    assert ApprovalVerifier(key["public_key"]).verify_recipe(doc)
    yaml_text = client.get("/recipes/door-white/versions/1/document", headers=eve)
    assert yaml_text.headers["content-type"].startswith("application/yaml")
    assert yaml_text.text == current.json()["document"]
    assert client.get("/health").json()["approval_key_id"] == KEY.key_id


def test_errors_name_the_field_and_change_nothing(client, tokens) -> None:
    eve, ann = bearer(tokens["eve"]), bearer(tokens["ann"])
    cases = [
        ("/recipes", {"document": "schema: x\n"}, eve, 422, "schema"),
        ("/recipes", {"document": recipe_text(2)}, eve, 422, "version"),
        ("/recipes", {"doc": "x"}, eve, 422, "document"),
        ("/recipes", {"document": recipe_text()}, ann, 403, "authorization"),
        ("/recipes", {"document": recipe_text()}, {}, 401, "authorization"),
        ("/recipes", {"document": recipe_text()}, bearer("x" * 40), 401, "authorization"),
        ("/users", {"name": "zed", "role": "engineer"}, eve, 403, "authorization"),
        ("/users", {"name": "zed", "role": "boss"}, bearer(ADMIN), 422, "role"),
        ("/recipes/door-white/versions/1/approve", None, ann, 404, "recipe version"),
    ]
    for path, body, headers, status, field in cases:
        res = client.post(path, json=body, headers=headers)
        assert res.status_code == status, (path, res.text)
        assert res.json()["error"]["field"] == field, (path, res.json())
    assert client.get("/recipes", headers=eve).json() == []
    client.post("/recipes", json={"document": recipe_text()}, headers=eve)
    res = client.post("/recipes", json={"document": recipe_text(speed_mm_s=300.0)}, headers=eve)
    assert res.status_code == 409 and "v2" in res.json()["error"]["reason"]
    res = client.post("/recipes/door-white/versions/1/reject", json={"reason": ""}, headers=ann)
    assert res.status_code == 422 and res.json()["error"]["field"] == "reason"
    res = client.post(
        "/recipes/door-white/versions/1/reject", json={"reason": "too thin"}, headers=ann
    )
    assert res.status_code == 200 and res.json()["status"] == "rejected"
    res = client.post("/recipes/door-white/versions/1/approve", headers=ann)
    assert res.status_code == 409
    res = client.get(
        "/recipes/current", params={"part": "door", "finish": "white-gloss"}, headers=eve
    )
    assert res.status_code == 404
    res = client.get("/recipes", params={"status": "done"}, headers=eve)
    assert res.status_code == 422 and res.json()["error"]["field"] == "status"


def test_without_an_approval_key(engine) -> None:
    ensure_admin(engine, ADMIN)
    client = TestClient(create_app(engine, None))
    assert client.get("/health").json()["approval_key_id"] is None
    assert client.get("/approval-key", headers=bearer(ADMIN)).status_code == 404


def test_the_queue_shows_each_version_s_heat_map(client, tokens) -> None:
    import cv2
    import numpy as np

    eve = bearer(tokens["eve"])
    res = client.post(
        "/recipes/candidates",
        json={"part_spec": "rect:width_mm=400,height_mm=300", "finish": "clear-satin"},
        headers=eve,
    )
    assert res.status_code == 201, res.text
    path = f"/recipes/{res.json()['recipe_id']}/versions/1/heatmap.png"
    png = client.get(path, headers=eve)
    assert png.status_code == 200 and png.headers["content-type"] == "image/png"
    image = cv2.imdecode(np.frombuffer(png.content, np.uint8), cv2.IMREAD_COLOR)
    assert image.shape[0] > 400 and image.shape[1] > 1000
    # the film's colours: mostly near the target (light), not blank
    assert image.std() > 10.0
    again = client.post(
        "/recipes/candidates",
        json={"part_spec": "rect:width_mm=400,height_mm=300", "finish": "clear-satin"},
        headers=eve,
    )
    assert again.status_code == 200 and again.json()["version"] == 1
    assert client.get("/recipes/x/versions/1/heatmap.png", headers=eve).status_code == 404


def test_heat_maps_asked_for_at_once_are_each_drawn(client, tokens) -> None:
    from concurrent.futures import ThreadPoolExecutor

    eve = bearer(tokens["eve"])
    for speed, version in ((400.0, 1), (300.0, 2)):
        res = client.post(
            "/recipes", json={"document": recipe_text(version, speed_mm_s=speed)}, headers=eve
        )
        assert res.status_code == 201
    paths = [f"/recipes/door-white/versions/{v}/heatmap.png" for v in (1, 2)] * 2
    with ThreadPoolExecutor(4) as pool:
        answers = list(pool.map(lambda p: client.get(p, headers=eve), paths))
    assert all(a.status_code == 200 and a.content[:8] == b"\x89PNG\r\n\x1a\n" for a in answers)
    assert answers[0].content == answers[2].content != answers[1].content
