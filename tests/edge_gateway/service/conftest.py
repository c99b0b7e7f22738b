"""An edge service per test on the ``engine`` of tests/edge_gateway/conftest.py."""

from __future__ import annotations

import pytest
from fastapi.testclient import TestClient

from edge_gateway.factory import load_factory
from edge_gateway.service import create_app, ensure_operator
from edge_gateway.service.estimate import Estimator

OPERATOR = "operator-token-for-tests-0001"


@pytest.fixture(scope="session")
def estimator() -> Estimator:
    """One estimator for the session: each (part, finish) is planned once, as the demo
    factory plans (without edge passes)."""
    return Estimator(edge_passes=load_factory().planning.edge_passes)


def make_client(engine, estimator, factory=None) -> TestClient:
    ensure_operator(engine, OPERATOR)
    app = create_app(
        engine, factory or load_factory(), estimator=estimator, promise_time_limit_s=0.5
    )
    return TestClient(app)


def bearer(token: str) -> dict:
    return {"Authorization": f"Bearer {token}"}


@pytest.fixture
def client(engine, estimator) -> TestClient:
    return make_client(engine, estimator)


@pytest.fixture
def firms(client) -> dict[str, str]:
    """Two firms and their tokens."""
    out = {}
    for fid in ("alder-joinery", "birch-kitchens"):
        res = client.post("/firms", json={"id": fid, "name": fid.title()}, headers=bearer(OPERATOR))
        assert res.status_code == 201, res.text
        out[fid] = res.json()["token"]
    return out
