"""``coatshare cloud serve`` as a real process: the approval key it makes and keeps, a
recipe reviewed over HTTP and verified with the published key after a restart."""

import stat
import subprocess
import sys
import uuid

from recipes.approval import ApprovalVerifier, read_key_file
from recipes.document import loads
from tests.cloud_brain.conftest import recipe_text
from tests.http_client import call, free_port, wait_up

ADMIN = "cloud-admin-token-for-the-recipe-test"


def _serve(tmp_path, port: int) -> subprocess.Popen:
    return subprocess.Popen(
        [sys.executable, "-m", "coatshare", "cloud", "serve", "--port", str(port),
         "--data", str(tmp_path / "cloud"), "--operator-token", ADMIN,
         "--client-id", f"cloud-{uuid.uuid4().hex[:8]}"],
        stdout=subprocess.PIPE, stderr=subprocess.STDOUT, text=True,
    )  # fmt: skip


def test_a_recipe_approved_in_the_cloud_verifies_with_its_published_key(tmp_path):
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
        status, v = call(base, "POST", "/recipes", tokens["eve"], {"document": recipe_text()})
        assert status == 201 and v["status"] == "pending", v
        status, v = call(base, "POST", "/recipes/door-white/versions/1/approve", tokens["ann"])
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
