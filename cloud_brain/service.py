"""The cloud's HTTP API (FastAPI) over what the sites sent up.

| route | what |
|---|---|
| ``GET /health`` | database dialect, API version |
| ``GET /sites`` | per site: messages stored, the newest edge sequence number, last arrival |
| ``GET /sites/{site}/records?limit=&after_seq=`` | a site's part records, in its order |

Every route but ``/health`` needs the cloud operator's bearer token (tenants, users and
roles come with the recipe store). Errors: ``{"error": {"field", "reason"}}``.
"""

import hmac
from typing import Annotated

from fastapi import Depends, FastAPI, Header, Query
from fastapi.responses import JSONResponse
from sqlalchemy import Engine, func, select, text

from cloud_brain.db import site_messages

API_VERSION = "1"
RECORD_TOPIC = "records/part"


class _UnauthorizedError(Exception):
    pass


def create_app(engine: Engine, operator_token: str) -> FastAPI:
    app = FastAPI(title="coatshare cloud brain", version=API_VERSION)

    @app.exception_handler(_UnauthorizedError)
    async def _auth(_request, exc: _UnauthorizedError) -> JSONResponse:
        return JSONResponse(
            status_code=401, content={"error": {"field": "authorization", "reason": str(exc)}}
        )

    def operator(authorization: Annotated[str | None, Header()] = None) -> None:
        token = (authorization or "").removeprefix("Bearer ").strip()
        if not token or not hmac.compare_digest(token, operator_token):
            raise _UnauthorizedError("send 'Authorization: Bearer <the cloud operator token>'")

    Operator = Annotated[None, Depends(operator)]

    @app.get("/health")
    def health() -> dict:
        with engine.connect() as conn:
            conn.execute(text("SELECT 1"))
        return {"database": engine.dialect.name, "api": API_VERSION}

    @app.get("/sites")
    def sites(_: Operator) -> list[dict]:
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

    @app.get("/sites/{site}/records")
    def records(
        site: str,
        _: Operator,
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
