"""``coatshare cloud serve`` as a real process: the approval key it makes and keeps, a
recipe reviewed over HTTP and verified with the published key after a restart."""

import stat
import subprocess
import sys
import time
import uuid

from recipes.approval import ApprovalVerifier, read_key_file
from recipes.document import loads
from tests.factories import recipe_text
from tests.http_client import call, free_port, wait_up

ADMIN = "cloud-admin-token-for-the-recipe-test"


def _serve(tmp_path, port: int) -> subprocess.Popen:
    return subprocess.Popen(
        [sys.executable, "-m", "coatshare", "cloud", "serve", "--port", str(port),
         "--data", str(tmp_path / "cloud"), "--operator-token", ADMIN,
         "--client-id", f"cloud-{uuid.uuid4().hex[:8]}"],
        stdout=subprocess.PIPE, stderr=subprocess.STDOUT, text=True,
    )  # fmt: skip


def _withdraw(recipe_id: str) -> None:
    """Take a retained publication off the shared broker."""
    import paho.mqtt.client as mqtt

    from recipes.publication import recipe_topic

    client = mqtt.Client(mqtt.CallbackAPIVersion.VERSION2)
    client.connect("127.0.0.1", 1883)
    client.loop_start()
    client.publish(recipe_topic(recipe_id, 1), b"", qos=1, retain=True).wait_for_publish(5)
    client.loop_stop()
    client.disconnect()


def test_a_recipe_approved_in_the_cloud_verifies_with_its_published_key(tmp_path):
    recipe_id = f"door-{uuid.uuid4().hex[:8]}"
    port = free_port()
    base = f"http://127.0.0.1:{port}"
    cloud = _serve(tmp_path, port)
    try:
        status, health = wait_up(base, cloud)
        assert status == 200 and health["approval_key_id"]
        key_file = tmp_path / "cloud" / "approval.key"
        assert stat.S_IMODE(key_file.stat().st_mode) == 0o600
        assert (tmp_path / "cloud" / "approval.pub").exists()
        tokens = {}
        for name, role in (("eve", "engineer"), ("ann", "approver")):
            status, user = call(base, "POST", "/users", ADMIN, {"name": name, "role": role})
            assert status == 201, user
            tokens[name] = user["token"]
        doc = {"document": recipe_text(recipe_id=recipe_id)}
        status, v = call(base, "POST", "/recipes", tokens["eve"], doc)
        assert status == 201 and v["status"] == "pending", v
        status, v = call(base, "POST", f"/recipes/{recipe_id}/versions/1/approve", tokens["ann"])
        assert status == 200 and v["key_id"] == health["approval_key_id"], v
    finally:
        cloud.terminate()
        cloud.wait(timeout=20)
    # a restart keeps the key: what was signed before still verifies with what is published
    cloud = _serve(tmp_path, port)
    try:
        status, again = wait_up(base, cloud)
        assert again["approval_key_id"] == health["approval_key_id"]
        _, key = call(base, "GET", "/approval-key", tokens["eve"])
        assert key["key_id"] == health["approval_key_id"]
        status, current = call(
            base, "GET", "/recipes/current?part=door&finish=white-gloss", tokens["eve"]
        )
        assert status == 200
        assert ApprovalVerifier(key["public_key"]).verify_recipe(loads(current["document"]))
        assert read_key_file(key_file) != key["public_key"]  # the private key stays private
    finally:
        cloud.terminate()
        cloud.wait(timeout=20)
        _withdraw(recipe_id)


def test_a_booking_without_a_recipe_gets_one_planned_approved_and_held(tmp_path):
    """cloud serve and edge serve --approval-pub on the real Mosquitto: a firm books a part
    and finish no recipe exists for; the edge asks the cloud, which plans a candidate; an
    approver approves it over the cloud's API; the edge holds it, verified."""
    from datetime import UTC, datetime, timedelta

    import yaml

    from edge_gateway.factory import DEMO_FACTORY

    site = f"t{uuid.uuid4().hex[:8]}"
    width = 300 + int(uuid.uuid4().int % 200)  # a part no earlier run has a recipe for
    spec, part = f"rect:width_mm={width},height_mm=300", f"rect_{width}x300"
    recipe_id = f"{part}-clear-satin"
    factory = yaml.safe_load(DEMO_FACTORY.read_text())
    factory["site"] = site
    (tmp_path / "factory.yaml").write_text(yaml.safe_dump(factory))
    cloud_port, edge_port = free_port(), free_port()
    cloud = _serve(tmp_path, cloud_port)
    cloud_base, edge_base = f"http://127.0.0.1:{cloud_port}", f"http://127.0.0.1:{edge_port}"
    staff, edge = "edge-operator-token-for-the-test", None
    try:
        assert wait_up(cloud_base, cloud)[0] == 200
        edge = subprocess.Popen(
            [sys.executable, "-m", "coatshare", "edge", "serve", "--port", str(edge_port),
             "--data", str(tmp_path / "edge"), "--factory", str(tmp_path / "factory.yaml"),
             "--operator-token", staff, "--mqtt", "127.0.0.1:1883",
             "--promise-time-limit-s", "0.5",
             "--approval-pub", str(tmp_path / "cloud" / "approval.pub")],
            stdout=subprocess.PIPE, stderr=subprocess.STDOUT, text=True,
        )  # fmt: skip
        assert wait_up(edge_base, edge)[0] == 200
        _, ann = call(cloud_base, "POST", "/users", ADMIN, {"name": "ann", "role": "approver"})
        _, firm = call(edge_base, "POST", "/firms", staff, {"id": "oak", "name": "Oak"})
        due = (datetime.now(UTC) + timedelta(days=3)).isoformat()
        body = {"part_spec": spec, "quantity": 4, "finish": "clear-satin", "due_at": due}
        status, quote = call(edge_base, "POST", "/quotes", firm["token"], body)
        assert status == 201, quote
        status, _ = call(edge_base, "POST", f"/quotes/{quote['id']}/accept", firm["token"])
        assert status == 201
        pending = _wait(
            lambda: [
                v
                for v in call(cloud_base, "GET", "/recipes?status=pending", ADMIN)[1]
                if v["recipe_id"] == recipe_id
            ]
        )
        assert pending[0]["submitted_by"] == "cloud-planner" and pending[0]["part"] == part
        path = f"/recipes/{recipe_id}/versions/1/approve"
        status, approved = call(cloud_base, "POST", path, ann["token"])
        assert status == 200, approved
        query = f"/recipes/current?part={part}&finish=clear-satin"
        held = _wait(lambda: (r := call(edge_base, "GET", query, staff))[0] == 200 and r[1])
        assert held["recipe_id"] == recipe_id
        assert held["document"] == approved["document"] and held["key_id"] == approved["key_id"]
    finally:
        for proc in (edge, cloud):
            if proc is not None:
                proc.terminate()
                proc.wait(timeout=20)
        _withdraw(recipe_id)


def _wait(probe, timeout_s: float = 40.0):
    """The first truthy value of ``probe()``, polled."""
    deadline = time.monotonic() + timeout_s
    while not (value := probe()):
        assert time.monotonic() < deadline, "waited in vain"
        time.sleep(0.3)
    return value
