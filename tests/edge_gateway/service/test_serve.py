"""``coatshare edge serve`` as a real process: HTTP on a port, SQLite file, a quote."""

import subprocess
import sys
from datetime import UTC, datetime, timedelta

from tests.http_client import call, free_port, wait_up

TOKEN = "operator-token-for-the-process-test"


def test_serve_quotes_and_books_over_http(tmp_path):
    port = free_port()
    proc = subprocess.Popen(
        [sys.executable, "-m", "coatshare", "edge", "serve", "--port", str(port),
         "--data", str(tmp_path), "--operator-token", TOKEN, "--promise-time-limit-s", "0.5"],
        stdout=subprocess.PIPE, stderr=subprocess.STDOUT, text=True,
    )  # fmt: skip
    base = f"http://127.0.0.1:{port}"
    try:
        status, health = wait_up(base, proc)
        assert (status, health["database"]) == (200, "sqlite")
        status, firm = call(base, "POST", "/firms", TOKEN, {"id": "oak", "name": "Oak Ltd"})
        assert status == 201
        due = (datetime.now(UTC) + timedelta(days=2)).isoformat()
        body = {"part_spec": "rect:width_mm=400,height_mm=300", "quantity": 10,
                "finish": "clear-satin", "due_at": due}  # fmt: skip
        status, quote = call(base, "POST", "/quotes", firm["token"], body)
        assert status == 201 and quote["details"]["meets_due_date"] is True
        status, job = call(base, "POST", f"/quotes/{quote['id']}/accept", firm["token"])
        assert (status, job["status"]) == (201, "queued")
        status, err = call(base, "GET", "/jobs", "not-a-known-token-at-all")
        assert (status, err["error"]["field"]) == (401, "authorization")
    finally:
        proc.terminate()
        proc.wait(timeout=20)
    assert (tmp_path / "edge.db").is_file()
