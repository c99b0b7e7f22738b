"""Dispatching a job's parts to a cell: the held recipe, over ROS 2, recorded.

For a queued or running job the dispatcher takes the recipe version the site holds for
its part and finish (``edge_gateway.recipe_inbox``: verified again before it is handed
out; a job without one waits for the cloud's review and is not dispatched), runs it on
each part at the cell (``edge_gateway.cell_client``), records every part with how it ended
(the record goes to the cloud through the outbox) and reports the job's progress. A part
the cell refused or aborted is recorded as failed with the cell's fault code, and the job
goes on with the next part; a cell that does not answer stops the dispatch.

The part's pose is the station's nominal one (``frame_id`` "part": the cell's configured
part frame); the camera, the locator and the fit in front of it are the pipeline's blocks
(``docs/pipelines.md``) and come into this loop next.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any

from sqlalchemy import Engine

from edge_gateway.factory import Factory
from edge_gateway.recipe_inbox import RecipeInbox
from edge_gateway.records import PartRecord, PartRecordStore
from edge_gateway.service.queue import JobQueue
from edge_gateway.service.quotes import ConflictError
from recipes.document import loads
from recipes.errors import NotFoundError
from recipes.parts.loader import load_part

if TYPE_CHECKING:  # the ROS 2 bus comes with the cell client
    from edge_gateway.cell_client import CellClient, CellOutcome


@dataclass
class Dispatched:
    """What a dispatch did: the outcome per part and the job as it stands."""

    job: dict[str, Any]
    recipe: str
    outcomes: list[CellOutcome] = field(default_factory=list)


def dispatch_job(
    engine: Engine,
    factory: Factory,
    recipes: RecipeInbox,
    cell: CellClient,
    job_id: str,
    *,
    parts: int | None = None,
    timeout_s: float = 120.0,
) -> Dispatched:
    """Run ``parts`` (default: all that remain) of job ``job_id`` at ``cell``.

    Raises
    ------
    ConflictError
        The job is not queued or running, or the site holds no recipe for it yet.
    """
    queue = JobQueue(engine)
    job = queue.get(job_id, None)
    if job["status"] not in ("queued", "running"):
        raise ConflictError(f"job {job_id} is {job['status']}")
    finish = factory.offer(job["finish"]).finish
    try:
        held = recipes.current(load_part(job["part_spec"])[0].name, finish)
    except NotFoundError:
        raise ConflictError(
            f"job {job_id} waits for an approved recipe for {job['part_spec']} in {finish}"
        ) from None
    doc = loads(held["document"], f"{held['recipe_id']} v{held['version']}")
    recipe = f"{doc.id} v{doc.version}"
    remaining = job["quantity"] - job["parts_done"]
    todo = remaining if parts is None else min(parts, remaining)
    store = PartRecordStore(engine)
    out = Dispatched(job, recipe)
    done = job["parts_done"]
    for k in range(todo):
        part_id = f"{job_id[:8]}-{done + k + 1:04d}"
        outcome = cell.run(doc, program_id=f"{part_id}-p1", part_id=part_id, timeout_s=timeout_s)
        out.outcomes.append(outcome)
        store.add(
            PartRecord(
                part_id,
                "done" if outcome.completed else "failed",
                job_id=job_id,
                cell_id=cell.cell_id,
                recipe=recipe,
                passed=None,  # QC of the film comes with the camera after the booth
                report={"cell": outcome.to_dict()},
                tags=() if outcome.completed else (outcome.fault_code or outcome.state,),
            )
        )
        if outcome.state == "timeout":
            break
    painted = sum(o.completed for o in out.outcomes)
    if painted:
        out.job = queue.report_progress(job_id, done + painted)
    return out


__all__ = ["Dispatched", "dispatch_job"]
