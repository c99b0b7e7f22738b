"""The cloud's HTTP API (FastAPI): users, the recipe store and its review, the sites' results.

| route | who | what |
|---|---|---|
| ``GET /health`` | anyone | database dialect, API version, the approval key's id |
| ``POST /users`` | admin | add a user ``{name, role}``; returns the token (shown once) |
| ``GET /approval-key`` | any user | the public approval key (hex) and its id |
| ``POST /recipes`` | engineer | submit a recipe version ``{document: <YAML>}``: pending |
| ``POST /recipes/candidates`` | engineer | plan one ``{part_spec, finish}`` unless one is held |
| ``GET /recipes?status=&part=&finish=`` | any user | versions; ``status=pending``: the queue |
| ``GET /recipes/current?part=&finish=`` | any user | the newest approved version |
| ``GET /recipes/{id}/versions/{v}`` | any user | one version with its document |
| ``GET /recipes/{id}/versions/{v}/document`` | any user | the YAML (signed once approved) |
| ``GET /recipes/{id}/versions/{v}/heatmap.png`` | any user | predicted dry film, path, metrics |
| ``POST /recipes/{id}/versions/{v}/approve`` | approver | sign it (not one's own submission) |
| ``POST /recipes/{id}/versions/{v}/reject`` | approver | close it ``{reason}`` |
| ``GET /pipelines`` | any user | the shipped pipelines (id, version, blocks, hash) |
| ``POST /pipelines/validate`` | any user | ``{document}``: valid or not, every problem |
| ``GET /sites`` | any user | per site: messages, the newest edge sequence, last arrival |
| ``GET /sites/{site}/records?limit=&after_seq=`` | any user | a site's part records, in its order |
| ``GET /sites/{site}/summary`` | any user | parts by status, QC pass rate, per recipe and cell |
| ``GET /ui/`` | anyone (the page asks for a token) | the approver's page: queue, films, decisions |

Domain errors become HTTP answers here and nowhere else: 422 (a field and its reason),
404, 409 (a conflict with what is stored), 401, 403; always ``{"error": {"field", "reason"}}``.
"""

from collections.abc import Callable
from pathlib import Path
from typing import Annotated

from fastapi import Depends, FastAPI, Header, Query, Request
from fastapi.exceptions import RequestValidationError
from fastapi.responses import JSONResponse, PlainTextResponse, Response
from fastapi.staticfiles import StaticFiles
from pydantic import BaseModel, ConfigDict, Field
from sqlalchemy import Engine, func, select, text

from cloud_brain.analytics import RECORD_TOPIC, site_summary
from cloud_brain.candidates import request_candidate
from cloud_brain.db import site_messages
from cloud_brain.heatmaps import heatmap_png
from cloud_brain.pipeline_registry import check_document
from cloud_brain.pipeline_registry import library as pipeline_library
from cloud_brain.recipe_store import ConflictError, RecipeStore
from cloud_brain.users import ROLES, AuthError, ForbiddenError, User, add_user, authenticate
from recipes.approval import ApprovalKeyPair
from recipes.errors import InvalidInputError, NotFoundError

API_VERSION = "1"
UI_DIR = Path(__file__).with_name("ui")


class _Body(BaseModel):
    model_config = ConfigDict(extra="forbid")


class UserIn(_Body):
    name: str = Field(min_length=2, max_length=80)
    role: str = Field(pattern="^(" + "|".join(ROLES) + ")$")


class DocumentIn(_Body):
    document: str = Field(min_length=1, max_length=20_000_000)


class CandidateIn(_Body):
    part_spec: str = Field(min_length=1, max_length=200)
    finish: str = Field(min_length=1, max_length=80)
    edge_passes: bool = True


class RejectIn(_Body):
    reason: str = Field(min_length=1, max_length=2000)


def _error(status: int, field: str, reason: str) -> JSONResponse:
    return JSONResponse(status_code=status, content={"error": {"field": field, "reason": reason}})


def create_app(
    engine: Engine,
    approval_key: ApprovalKeyPair | None = None,
    on_approved: Callable[[dict], object] | None = None,
) -> FastAPI:
    """The cloud API on ``engine`` (migrated; its admin users added with
    :func:`cloud_brain.users.ensure_admin`), signing approvals with ``approval_key``;
    ``on_approved`` gets each version approved (the publisher to the sites)."""
    app = FastAPI(title="coatshare cloud brain", version=API_VERSION)
    store = RecipeStore(engine, approval_key)

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
        return _error(404, exc.kind, str(exc))

    @app.exception_handler(ConflictError)
    async def _conflict(_: Request, exc: ConflictError) -> JSONResponse:
        return _error(409, "state", str(exc))

    @app.exception_handler(AuthError)
    async def _auth(_: Request, exc: AuthError) -> JSONResponse:
        return _error(401, "authorization", str(exc))

    @app.exception_handler(ForbiddenError)
    async def _forbidden(_: Request, exc: ForbiddenError) -> JSONResponse:
        return _error(403, "authorization", str(exc))

    def caller(authorization: Annotated[str | None, Header()] = None) -> User:
        return authenticate(engine, authorization)

    Caller = Annotated[User, Depends(caller)]

    @app.get("/health")
    def health() -> dict:
        with engine.connect() as conn:
            conn.execute(text("SELECT 1"))
        key_id = approval_key.key_id if approval_key is not None else None
        return {"database": engine.dialect.name, "api": API_VERSION, "approval_key_id": key_id}

    @app.post("/users", status_code=201)
    def new_user(body: UserIn, who: Caller) -> dict:
        who.require("admin")
        return {
            "name": body.name,
            "role": body.role,
            "token": add_user(engine, body.name, body.role),
        }

    @app.get("/approval-key")
    def approval_public_key(who: Caller) -> dict:
        if approval_key is None:
            raise NotFoundError("approval key", "(none configured)")
        return {"key_id": approval_key.key_id, "public_key": approval_key.public_key_hex}

    @app.post("/recipes")
    def submit_recipe(body: DocumentIn, who: Caller) -> JSONResponse:
        done = store.submit(body.document, who)
        return JSONResponse(status_code=201 if done.created else 200, content=done.version)

    @app.post("/recipes/candidates")
    def plan_candidate(body: CandidateIn, who: Caller) -> JSONResponse:
        who.require("engineer", "admin")
        version, created = request_candidate(
            store, body.part_spec, body.finish, edge_passes=body.edge_passes
        )
        return JSONResponse(status_code=201 if created else 200, content=version)

    @app.get("/recipes")
    def list_recipes(
        who: Caller,
        status: str | None = None,
        part: str | None = None,
        finish: str | None = None,
    ) -> list[dict]:
        return store.list(status, part, finish)

    @app.get("/recipes/current")
    def current_recipe(who: Caller, part: str, finish: str) -> dict:
        return store.current(part, finish)

    @app.get("/recipes/{recipe_id}/versions/{version}")
    def get_recipe(recipe_id: str, version: int, who: Caller) -> dict:
        return store.get(recipe_id, version)

    @app.get("/recipes/{recipe_id}/versions/{version}/document")
    def recipe_document(recipe_id: str, version: int, who: Caller) -> PlainTextResponse:
        doc = store.get(recipe_id, version)["document"]
        return PlainTextResponse(doc, media_type="application/yaml")

    @app.get("/recipes/{recipe_id}/versions/{version}/heatmap.png")
    def recipe_heatmap(recipe_id: str, version: int, who: Caller) -> Response:
        v = store.get(recipe_id, version)
        return Response(heatmap_png(v["document"], v["content_hash"]), media_type="image/png")

    @app.post("/recipes/{recipe_id}/versions/{version}/approve")
    def approve_recipe(recipe_id: str, version: int, who: Caller) -> dict:
        approved = store.approve(recipe_id, version, who)
        if on_approved is not None:
            on_approved(approved)
        return approved

    @app.post("/recipes/{recipe_id}/versions/{version}/reject")
    def reject_recipe(recipe_id: str, version: int, body: RejectIn, who: Caller) -> dict:
        return store.reject(recipe_id, version, who, body.reason)

    # the approver's page (static; it calls the routes above with the user's token)
    app.mount("/ui", StaticFiles(directory=UI_DIR, html=True), name="ui")

    @app.get("/pipelines")
    def pipelines_shipped(who: Caller) -> list[dict]:
        return pipeline_library()

    @app.post("/pipelines/validate")
    def pipeline_check(body: DocumentIn, who: Caller) -> dict:
        return check_document(body.document)

    @app.get("/sites")
    def sites(who: Caller) -> list[dict]:
        query = (
            select(
                site_messages.c.site,
                func.count(),
                func.max(site_messages.c.edge_seq),
                func.max(site_messages.c.received_at),
            )
            .group_by(site_messages.c.site)
            .order_by(site_messages.c.site)
        )
        with engine.connect() as conn:
            return [
                {"site": s, "messages": int(n), "last_seq": int(seq), "last_at": at.isoformat()}
                for s, n, seq, at in conn.execute(query)
            ]

    @app.get("/sites/{site}/summary")
    def summary(site: str, who: Caller) -> dict:
        return site_summary(engine, site)

    @app.get("/sites/{site}/records")
    def records(
        site: str,
        who: Caller,
        limit: Annotated[int, Query(ge=1, le=1000)] = 100,
        after_seq: Annotated[int, Query(ge=0)] = 0,
    ) -> list[dict]:
        query = (
            select(site_messages.c.key, site_messages.c.edge_seq, site_messages.c.body)
            .where(
                site_messages.c.site == site,
                site_messages.c.topic == RECORD_TOPIC,
                site_messages.c.edge_seq > after_seq,
            )
            .order_by(site_messages.c.edge_seq)
            .limit(limit)
        )
        with engine.connect() as conn:
            return [{"key": k, "seq": int(q), **b} for k, q, b in conn.execute(query)]

    return app


__all__ = ["API_VERSION", "create_app"]
