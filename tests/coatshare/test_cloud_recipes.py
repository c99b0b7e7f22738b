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


def test_an_approved_recipe_reaches_the_edge_verified(tmp_path):
    """cloud serve and edge serve --approval-pub on the real Mosquitto: a version approved
    in the cloud is held by the edge, verified with the cloud's public key."""
    import yaml

    from edge_gateway.factory import DEMO_FACTORY

    site = f"t{uuid.uuid4().hex[:8]}"
    recipe_id = f"door-{site}"
    factory = yaml.safe_load(DEMO_FACTORY.read_text())
    factory["site"] = site
    (tmp_path / "factory.yaml").write_text(yaml.safe_dump(factory))
    cloud_port, edge_port = free_port(), free_port()
    cloud = _serve(tmp_path, cloud_port)
    cloud_base, edge_base = f"http://127.0.0.1:{cloud_port}", f"http://127.0.0.1:{edge_port}"
    edge = None
    try:
        assert wait_up(cloud_base, cloud)[0] == 200
        edge = subprocess.Popen(
            [sys.executable, "-m", "coatshare", "edge", "serve", "--port", str(edge_port),
             "--data", str(tmp_path / "edge"), "--factory", str(tmp_path / "factory.yaml"),
             "--operator-token", "edge-operator-token-for-the-test", "--mqtt", "127.0.0.1:1883",
             "--approval-pub", str(tmp_path / "cloud" / "approval.pub")],
            stdout=subprocess.PIPE, stderr=subprocess.STDOUT, text=True,
        )  # fmt: skip
        assert wait_up(edge_base, edge)[0] == 200
        tokens = {}
        for name, role in (("eve", "engineer"), ("ann", "approver")):
            tokens[name] = call(cloud_base, "POST", "/users", ADMIN, {"name": name, "role": role})[
                1
            ]["token"]
        text = recipe_text(recipe_id=recipe_id, finish="clear-satin")
        assert call(cloud_base, "POST", "/recipes", tokens["eve"], {"document": text})[0] == 201
        path = f"/recipes/{recipe_id}/versions/1/approve"
        status, approved = call(cloud_base, "POST", path, tokens["ann"])
        assert status == 200, approved
        query = "/recipes/current?part=door&finish=clear-satin"
        deadline = time.monotonic() + 30
        while True:
            status, held = call(edge_base, "GET", query, "edge-operator-token-for-the-test")
            if status == 200 and held["recipe_id"] == recipe_id:
                break
            assert time.monotonic() < deadline, (status, held)
            time.sleep(0.3)
        assert held["content_hash"] == approved["content_hash"]
        assert held["key_id"] == approved["key_id"]
        assert held["document"] == approved["document"]
    finally:
        for proc in (edge, cloud):
            if proc is not None:
                proc.terminate()
                proc.wait(timeout=20)
        _withdraw(recipe_id)
