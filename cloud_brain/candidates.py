"""Candidate recipes: planned and simulated in the cloud, then waiting for review.

When a site books a part in a finish for which no recipe is approved or under review, the
cloud plans one (``recipes.recipe.plan_from_spec``: the coverage planner, the deposition
prediction, the metrics) and submits it to the approval queue as the system user
``PLANNER`` (an engineer). An approver then decides as for any submission; the planner is
never an approver, so every candidate passes four eyes. Asking again while a version for
the pair is pending or approved gives that version and plans nothing.
"""

from __future__ import annotations

import logging
from typing import Any

from cloud_brain.recipe_store import RecipeStore
from cloud_brain.users import User
from recipes.document import dumps
from recipes.errors import InvalidInputError
from recipes.parts.loader import load_part
from recipes.planner.params import PlannerParams
from recipes.recipe import plan_from_spec

log = logging.getLogger(__name__)

#: the user candidates are submitted as (a name no person can take: ``users.RESERVED``)
PLANNER = User("cloud-planner", "engineer")


def request_candidate(
    store: RecipeStore, part_spec: str, finish: str, *, edge_passes: bool = True
) -> tuple[dict, bool]:
    """The version under review or approved for the part of ``part_spec`` in ``finish``
    (a spray-core finish name), else a newly planned one (with edge passes or not, as the
    site's robots can fly them); and whether it is new.

    Raises
    ------
    InvalidInputError, NotFoundError
        For a part spec or finish the spray core does not know (naming it).
    """
    part, _ = load_part(part_spec)
    held = [
        v
        for v in store.list(part=part.name, finish=finish)
        if v["status"] in ("pending", "approved")
    ]
    if held:
        newest = max(held, key=lambda v: (v["status"] == "approved", v["submitted_at"]))
        return store.get(newest["recipe_id"], newest["version"]), False
    recipe_id = f"{part.name}-{finish}"
    versions = [v["version"] for v in store.list(recipe_id=recipe_id)]
    version = max(versions, default=0) + 1
    params = PlannerParams(edge_passes=edge_passes)
    doc, _ = plan_from_spec(part_spec, finish, None, params, recipe_id=recipe_id, version=version)
    done = store.submit(dumps(doc), PLANNER)
    return done.version, done.created


def request_from_site(store: RecipeStore, body: dict[str, Any]) -> tuple[dict, bool]:
    """:func:`request_candidate` for a site's ``recipes/request`` message body
    ``{"part_spec", "finish", "edge_passes"}`` (edge passes unless it says false)."""
    part_spec, finish = body.get("part_spec"), body.get("finish")
    if not isinstance(part_spec, str) or not isinstance(finish, str):
        raise InvalidInputError("body", "a recipe request names part_spec and finish")
    edge_passes = body.get("edge_passes", True)
    if not isinstance(edge_passes, bool):
        raise InvalidInputError("body.edge_passes", f"must be true or false, got {edge_passes!r}")
    return request_candidate(store, part_spec, finish, edge_passes=edge_passes)


class CandidateWorker:
    """Plans the candidates the sites ask for (``recipes/request`` messages), one at a
    time in a thread of its own, so that the intake goes on storing and acknowledging."""

    TOPIC = "recipes/request"

    def __init__(self, store: RecipeStore) -> None:
        from concurrent.futures import ThreadPoolExecutor

        self.store = store
        self.planned: list[tuple[str, int]] = []
        self.failed: list[str] = []
        self._pool = ThreadPoolExecutor(max_workers=1, thread_name_prefix="candidates")

    def on_stored(self, site: str, message: dict[str, Any]) -> None:
        """For :class:`cloud_brain.intake.ResultIntake`: plan what a request asks for."""
        if message.get("topic") == self.TOPIC:
            self._pool.submit(self._plan, site, message.get("body") or {})

    def _plan(self, site: str, body: dict[str, Any]) -> None:
        try:
            version, created = request_from_site(self.store, body)
        except Exception as exc:  # noqa: BLE001 - a bad request must not stop the worker
            self.failed.append(f"{site}: {body}: {exc}")
            log.warning("candidate for %s failed: %s: %s", site, body, exc)
            return
        if created:
            self.planned.append((version["recipe_id"], version["version"]))
            log.info(
                "candidate %s v%s planned for %s", version["recipe_id"], version["version"], site
            )

    def shutdown(self) -> None:
        self._pool.shutdown(wait=True)


__all__ = ["PLANNER", "CandidateWorker", "request_candidate", "request_from_site"]
