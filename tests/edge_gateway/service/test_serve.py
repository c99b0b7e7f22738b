"""``coatshare edge serve`` as a real process: HTTP on a port, SQLite file, a quote."""

import json
import socket
import subprocess
import sys
import time
import urllib.error
import urllib.request
from datetime import UTC, datetime, timedelta

TOKEN = "operator-token-for-the-process-test"


def _free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def _call(base, method, path, token=None, body=None):
    req = urllib.request.Request(base + path, method=method)
    if token:
        req.add_header("Authorization", f"Bearer {token}")
    data = None
    if body is not None:
        data = json.dumps(body).encode()
        req.add_header("Content-Type", "application/json")
    try:
        with urllib.request.urlopen(req, data=data, timeout=120) as res:
            return res.status, json.loads(res.read())
    except urllib.error.HTTPError as err:
        return err.code, json.loads(err.read())


def test_serve_quotes_and_books_over_http(tmp_path):
    port = _free_port()
    proc = subprocess.Popen(
        [sys.executable, "-m", "coatshare", "edge", "serve", "--port", str(port),
         "--data", str(tmp_path), "--operator-token", TOKEN, "--promise-time-limit-s", "0.5"],
        stdout=subprocess.PIPE, stderr=subprocess.STDOUT, text=True,
    )  # fmt: skip
    base = f"http://127.0.0.1:{port}"
    try:
        deadline = time.monotonic() + 60
        while True:
            try:
                status, health = _call(base, "GET", "/health")
                break
            except (urllib.error.URLError, ConnectionError):
                assert proc.poll() is None, proc.stdout.read()
                assert time.monotonic() < deadline, "the edge did not come up"
                time.sleep(0.2)
        assert (status, health["database"]) == (200, "sqlite")
        status, firm = _call(base, "POST", "/firms", TOKEN, {"id": "oak", "name": "Oak Ltd"})
        assert status == 201
        due = (datetime.now(UTC) + timedelta(days=2)).isoformat()
        body = {"part_spec": "rect:width_mm=400,height_mm=300", "quantity": 10,
                "finish": "clear-satin", "due_at": due}  # fmt: skip
        status, quote = _call(base, "POST", "/quotes", firm["token"], body)
        assert status == 201 and quote["details"]["meets_due_date"] is True
        status, job = _call(base, "POST", f"/quotes/{quote['id']}/accept", firm["token"])
        assert (status, job["status"]) == (201, "queued")
        status, err = _call(base, "GET", "/jobs", "not-a-known-token-at-all")
        assert (status, err["error"]["field"]) == (401, "authorization")
    finally:
        proc.terminate()
        proc.wait(timeout=20)
    assert (tmp_path / "edge.db").is_file()
