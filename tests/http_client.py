"""A small JSON-over-HTTP client for tests that start the services as real processes."""

from __future__ import annotations

import json
import socket
import subprocess
import time
import urllib.error
import urllib.request
from typing import Any


def free_port() -> int:
    """A TCP port nothing listens on now (127.0.0.1)."""
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def call(base: str, method: str, path: str, token: str | None = None, body: Any = None):
    """(status, decoded JSON) of one request; HTTP errors are answers, not exceptions."""
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


def wait_up(base: str, proc: subprocess.Popen, timeout_s: float = 60.0):
    """``GET /health`` once the service at ``base`` answers; fails if ``proc`` exits."""
    deadline = time.monotonic() + timeout_s
    while True:
        try:
            return call(base, "GET", "/health")
        except (urllib.error.URLError, ConnectionError):
            assert proc.poll() is None, proc.stdout.read()
            assert time.monotonic() < deadline, "the service did not come up"
            time.sleep(0.2)
