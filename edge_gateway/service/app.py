"""The edge gateway's HTTP API (FastAPI).

``create_app(engine, factory)`` builds the app; ``coatshare edge serve`` runs it with
uvicorn. Every route names the caller by its bearer token (``edge_gateway.service.auth``).
Domain errors are turned into HTTP answers here and nowhere else: 422 (a field and its
reason), 404 (not found, or another firm's), 409 (a conflict with the state), 401 and 403.

| route | who | what |
|---|---|---|
| ``GET /health`` | anyone | site, database, version |
| ``POST /firms`` | operator | register a firm; returns its token |
| ``POST /quotes`` | firm | price and promised date for parts in a finish |
| ``GET /quotes/{id}`` | firm (own), operator | a quote |
| ``POST /quotes/{id}/accept`` | firm (own) | book it: a job in the queue |
| ``GET /jobs`` | firm (own), operator (all) | the queue, ``?status=``; each job's held recipe |
| ``GET /jobs/{id}`` | firm (own), operator | a job |
| ``POST /jobs/{id}/cancel`` | firm (own), operator | cancel a queued job |
| ``GET /jobs/{id}/records`` | firm (own), operator | QC records of the job's parts |
| ``POST /jobs/{id}/dispatch`` | operator | ``{cell, parts}``: parts run at a cell, recorded |
| ``GET /cells`` | operator | the linked cells: the controller's state, busy with a dispatch |
| ``GET /factory`` | anyone with a token | cells, finishes, price list |
| ``GET /outbox`` | operator | results waiting for the cloud, age of the oldest |
| ``GET /recipes`` | operator | the approved recipe versions this site holds (verified) |
| ``GET /recipes/current?part=&finish=`` | operator | the newest held for a part and finish |
"""

from collections.abc import Mapping
from datetime import datetime
from typing import TYPE_CHECKING, Annotated

from fastapi import Depends, FastAPI, Header, Request
from fastapi.exceptions import RequestValidationError
from fastapi.responses import JSONResponse
from pydantic import BaseModel, ConfigDict, Field
from sqlalchemy import Engine, text

from edge_gateway.cloud_link import outbox_fill
from edge_gateway.factory import Factory
from edge_gateway.recipe_inbox import RecipeInbox
from edge_gateway.service.auth import (
    AuthError,
    ForbiddenError,
    Principal,
    add_firm,
    authenticate,
)
from edge_gateway.service.estimate import Estimator
from edge_gateway.service.queue import STATUSES, JobQueue
from edge_gateway.service.quotes import ConflictError, QuoteDesk, QuoteRequest
from recipes.errors import InvalidInputError, NotFoundError

if TYPE_CHECKING:  # the ROS 2 bus is imported only where cells are configured
    from edge_gateway.cell_client import CellClient

API_VERSION = "1"


class _Body(BaseModel):
    model_config = ConfigDict(extra="forbid")


class FirmIn(_Body):
    id: str = Field(pattern=r"^[a-z0-9][a-z0-9-]{1,39}$")
    name: str = Field(min_length=1, max_length=200)


class DispatchIn(_Body):
    cell: str = Field(min_length=1, max_length=40)
    parts: int = Field(1, ge=1, le=50)


class QuoteIn(_Body):
    part_spec: str = Field(min_length=1, max_length=200)
    quantity: int = Field(ge=1, le=100_000)
    finish: str = Field(min_length=1, max_length=40)
    due_at: datetime


def _error(status: int, field: str, reason: str) -> JSONResponse:
    return JSONResponse(status_code=status, content={"error": {"field": field, "reason": reason}})


def create_app(
    engine: Engine,
    factory: Factory,
    *,
    estimator: Estimator | None = None,
    promise_time_limit_s: float = 2.0,
    recipes: RecipeInbox | None = None,
    cells: Mapping[str, "CellClient"] | None = None,
) -> FastAPI:
    """The edge API on ``engine`` (migrated) for ``factory``; ``recipes`` holds the
    approved recipes the cloud published (None: this edge verifies none, holds none);
    ``cells`` are the links to the cell controllers jobs are dispatched to."""
    app = FastAPI(title=f"coatshare edge gateway ({factory.site})", version=API_VERSION)
    estimator = estimator or Estimator(edge_passes=factory.planning.edge_passes)
    desk = QuoteDesk(engine, factory, estimator, time_limit_s=promise_time_limit_s, recipes=recipes)
    queue = JobQueue(engine)

    @app.exception_handler(RequestValidationError)
    async def _bad_request(_: Request, exc: RequestValidationError) -> JSONResponse:
        err = exc.errors()[0]
        loc = [str(p) for p in err.get("loc", ()) if p not in ("body", "query", "path")]
        return _error(422, ".".join(loc) or "(body)", str(err.get("msg", "invalid")))

    @app.exception_handler(InvalidInputError)
    async def _invalid(_: Request, exc: InvalidInputError) -> JSONResponse:
        return _error(422, exc.field, exc.reason)

    @app.exception_handler(NotFoundError)
    async def _not_found(_: Request, exc: NotFoundError) -> JSONResponse:
        return _error(404, getattr(exc, "kind", "id"), str(exc))

    @app.exception_handler(ConflictError)
    async def _conflict(_: Request, exc: ConflictError) -> JSONResponse:
        return _error(409, "state", str(exc))

    @app.exception_handler(AuthError)
    async def _auth(_: Request, exc: AuthError) -> JSONResponse:
        return _error(401, "authorization", str(exc))

    @app.exception_handler(ForbiddenError)
    async def _forbidden(_: Request, exc: ForbiddenError) -> JSONResponse:
        return _error(403, "authorization", str(exc))

    def caller(authorization: Annotated[str | None, Header()] = None) -> Principal:
        return authenticate(engine, authorization)

    Caller = Annotated[Principal, Depends(caller)]

    def scope(who: Principal) -> str | None:
        """The firm whose data the caller may see (None: all, for staff)."""
        return None if who.is_operator else who.require_firm()

    @app.get("/health")
    def health() -> dict:
        with engine.connect() as conn:
            conn.execute(text("SELECT 1"))
        return {"site": factory.site, "database": engine.dialect.name, "api": API_VERSION}

    @app.get("/outbox")
    def outbox_view(who: Caller) -> dict:
        who.require_operator()
        waiting, age = outbox_fill(engine)
        return {"waiting": waiting, "oldest_age_s": None if age is None else round(age, 1)}

    @app.get("/recipes")
    def recipes_held(who: Caller) -> list[dict]:
        who.require_operator()
        return recipes.list() if recipes is not None else []

    @app.get("/recipes/current")
    def recipe_current(who: Caller, part: str, finish: str) -> dict:
        who.require_operator()
        if recipes is None:
            raise NotFoundError("approved recipe", f"{part} in {finish} (no approval key)")
        return recipes.current(part, finish)

    @app.get("/factory")
    def factory_view(who: Caller) -> dict:
        return factory.model_dump(mode="json", by_alias=True)

    @app.post("/firms", status_code=201)
    def register_firm(body: FirmIn, who: Caller) -> dict:
        who.require_operator()
        return {"id": body.id, "name": body.name, "token": add_firm(engine, body.id, body.name)}

    @app.post("/quotes", status_code=201)
    def make_quote(body: QuoteIn, who: Caller) -> dict:
        firm = who.require_firm()
        req = QuoteRequest(body.part_spec, body.quantity, body.finish, body.due_at)
        return desk.quote(firm, req)

    @app.get("/quotes/{quote_id}")
    def get_quote(quote_id: str, who: Caller) -> dict:
        return desk.get_quote(quote_id, scope(who))

    def with_recipe(job: dict) -> dict:
        """The job with the recipe version the site holds for it (None: waiting for the
        cloud's review), where this edge holds recipes."""
        if recipes is not None:
            finish = factory.offer(job["finish"]).finish
            job["recipe"] = recipes.held_for(job["part_spec"], finish)
        return job

    @app.post("/quotes/{quote_id}/accept", status_code=201)
    def accept_quote(quote_id: str, who: Caller) -> dict:
        firm = who.require_firm()
        return with_recipe(queue.get(desk.accept(quote_id, firm), firm))

    @app.get("/jobs")
    def list_jobs(who: Caller, status: str | None = None) -> list[dict]:
        if status is not None and status not in STATUSES:
            raise InvalidInputError("status", f"must be one of {STATUSES}")
        return [with_recipe(job) for job in queue.list(scope(who), status)]

    @app.get("/jobs/{job_id}")
    def get_job(job_id: str, who: Caller) -> dict:
        return with_recipe(queue.get(job_id, scope(who)))

    @app.post("/jobs/{job_id}/cancel")
    def cancel_job(job_id: str, who: Caller) -> dict:
        return queue.cancel(job_id, scope(who))

    @app.get("/cells")
    def cells_view(who: Caller) -> list[dict]:
        who.require_operator()
        return [client.status() for client in (cells or {}).values()]

    @app.post("/jobs/{job_id}/dispatch")
    def dispatch(job_id: str, body: DispatchIn, who: Caller) -> dict:
        who.require_operator()
        if not cells or body.cell not in cells:
            raise InvalidInputError("cell", f"{body.cell!r} is not a cell of this edge")
        if recipes is None:
            raise ConflictError("this edge holds no recipes (no approval key): nothing to run")
        from edge_gateway.dispatch import dispatch_job

        cell = cells[body.cell]
        if not cell.lock.acquire(blocking=False):
            raise ConflictError(f"cell {body.cell} is busy with another dispatch")
        try:
            done = dispatch_job(engine, factory, recipes, cell, job_id, parts=body.parts)
        finally:
            cell.lock.release()
        return {
            "job": with_recipe(done.job),
            "recipe": done.recipe,
            "parts": [o.to_dict() for o in done.outcomes],
        }

    @app.get("/jobs/{job_id}/records")
    def job_records(job_id: str, who: Caller) -> list[dict]:
        return queue.records(job_id, scope(who))

    return app


__all__ = ["API_VERSION", "create_app"]
