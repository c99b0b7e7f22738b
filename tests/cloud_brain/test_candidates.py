"""Candidates planned in the cloud for pairs without a recipe, queued for review."""

from __future__ import annotations

import pytest

from cloud_brain.candidates import PLANNER, CandidateWorker, request_candidate
from cloud_brain.recipe_store import RecipeStore
from cloud_brain.users import add_user
from recipes.document import loads
from recipes.errors import InvalidInputError, NotFoundError

from .conftest import KEY

SPEC = "rect:width_mm=400,height_mm=300"


@pytest.fixture
def store(engine) -> RecipeStore:
    return RecipeStore(engine, KEY)


def test_a_candidate_is_planned_once_and_reviewed_with_four_eyes(store, users) -> None:
    v, created = request_candidate(store, SPEC, "clear-satin")
    assert created and v["status"] == "pending" and v["submitted_by"] == PLANNER.name
    assert (v["recipe_id"], v["version"], v["part"]) == (
        "rect_400x300-clear-satin",
        1,
        "rect_400x300",
    )
    doc = loads(v["document"])
    assert doc.finish.name == "clear-satin" and len(doc.program.waypoints) > 10
    assert v["metrics"]["within_tol_pct"] > 90.0  # the prediction comes with it
    again, created = request_candidate(store, SPEC, "clear-satin")
    assert not created and again["version"] == 1
    store.approve(v["recipe_id"], 1, users["ann"][0])
    held, created = request_candidate(store, SPEC, "clear-satin")
    assert not created and held["status"] == "approved"


def test_after_a_rejection_the_next_version_is_planned(store, users) -> None:
    v, _ = request_candidate(store, SPEC, "clear-satin")
    store.reject(v["recipe_id"], 1, users["ann"][0], "edge passes missing")
    v2, created = request_candidate(store, SPEC, "clear-satin")
    assert created and v2["version"] == 2 and v2["status"] == "pending"


def test_unknown_parts_and_finishes_name_themselves(store) -> None:
    with pytest.raises((InvalidInputError, NotFoundError)):
        request_candidate(store, "rect:width_mm=-4", "clear-satin")
    with pytest.raises(NotFoundError):
        request_candidate(store, SPEC, "no-such-finish")
    assert store.list() == []


def test_the_planner_s_name_is_reserved(engine) -> None:
    with pytest.raises(InvalidInputError) as exc:
        add_user(engine, PLANNER.name, "approver")
    assert exc.value.field == "name"


def test_the_worker_plans_what_sites_ask_for(store) -> None:
    worker = CandidateWorker(store)
    worker.on_stored("f1", {"topic": "records/part", "body": {}})  # not a request
    body = {"part_spec": SPEC, "finish": "clear-satin", "edge_passes": False}
    worker.on_stored("f1", {"topic": "recipes/request", "body": body})
    worker.on_stored("f1", {"topic": "recipes/request", "body": {"part_spec": SPEC}})
    worker.on_stored("f1", {"topic": "recipes/request", "body": {**body, "edge_passes": "no"}})
    worker.shutdown()
    assert worker.planned == [("rect_400x300-clear-satin", 1)]
    assert len(worker.failed) == 2 and "part_spec and finish" in worker.failed[0]
    assert "edge_passes" in worker.failed[1]
    doc = loads(store.get("rect_400x300-clear-satin", 1)["document"])
    assert doc.planner.edge_passes is False  # as the site's robots can fly
