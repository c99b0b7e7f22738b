"""The job queue as firms and operators see it, and the records of a job's parts.

Firms see their own jobs and records only; another firm's job is "not found" (its
existence is not revealed). Cancelling is allowed while a job is queued; a running job is
stopped by an operator at the cell, not from here.
"""

from __future__ import annotations

from datetime import UTC, datetime

from sqlalchemy import Engine, select, update

from edge_gateway.db import jobs, part_records
from edge_gateway.service.quotes import ConflictError
from edge_gateway.service.quotes import iso_utc as _iso
from recipes.errors import InvalidInputError, NotFoundError

STATUSES = ("queued", "running", "done", "cancelled")


def _job_view(row) -> dict:
    return {
        "id": row["id"],
        "firm_id": row["firm_id"],
        "quote_id": row["quote_id"],
        "part_spec": row["part_spec"],
        "quantity": row["quantity"],
        "finish": row["finish"],
        "due_at": _iso(row["due_at"]),
        "promise_at": _iso(row["promise_at"]),
        "status": row["status"],
        "parts_done": row["parts_done"],
        "created_at": _iso(row["created_at"]),
        "updated_at": _iso(row["updated_at"]),
    }


class JobQueue:
    def __init__(self, engine: Engine) -> None:
        self.engine = engine

    def list(self, firm_id: str | None, status: str | None = None) -> list[dict]:
        """Jobs oldest first (``firm_id`` None: every firm's)."""
        query = select(jobs).order_by(jobs.c.created_at, jobs.c.id)
        if firm_id is not None:
            query = query.where(jobs.c.firm_id == firm_id)
        if status is not None:
            query = query.where(jobs.c.status == status)
        with self.engine.connect() as conn:
            return [_job_view(r) for r in conn.execute(query).mappings()]

    def get(self, job_id: str, firm_id: str | None) -> dict:
        with self.engine.connect() as conn:
            row = conn.execute(select(jobs).where(jobs.c.id == job_id)).mappings().first()
        if row is None or (firm_id is not None and row["firm_id"] != firm_id):
            raise NotFoundError("job", job_id)
        return _job_view(row)

    def cancel(self, job_id: str, firm_id: str | None) -> dict:
        self.get(job_id, firm_id)
        with self.engine.begin() as conn:
            done = conn.execute(
                update(jobs)
                .where(jobs.c.id == job_id, jobs.c.status == "queued")
                .values(status="cancelled", updated_at=datetime.now(UTC))
            )
        if done.rowcount != 1:
            raise ConflictError(f"job {job_id} is {self.get(job_id, firm_id)['status']}: only a "
                                "queued job can be cancelled")  # fmt: skip
        return self.get(job_id, firm_id)

    def report_progress(self, job_id: str, parts_done: int) -> dict:
        """A cell reports ``parts_done`` parts of the job: running, or done when all are."""
        job = self.get(job_id, None)
        if job["status"] not in ("queued", "running"):
            raise ConflictError(f"job {job_id} is {job['status']}")
        if not 0 <= parts_done <= job["quantity"]:
            raise InvalidInputError("parts_done", f"must lie within 0..{job['quantity']}")
        status = "done" if parts_done == job["quantity"] else "running"
        with self.engine.begin() as conn:
            conn.execute(
                update(jobs)
                .where(jobs.c.id == job_id)
                .values(parts_done=parts_done, status=status, updated_at=datetime.now(UTC))
            )
        return self.get(job_id, None)

    def records(self, job_id: str, firm_id: str | None) -> list[dict]:
        """The part records of a job (no attachments), oldest first."""
        self.get(job_id, firm_id)
        cols = [c for c in part_records.c if c.name not in ("film_npz", "image_png")]
        with self.engine.connect() as conn:
            rows = conn.execute(
                select(*cols)
                .where(part_records.c.job_id == job_id)
                .order_by(part_records.c.created_at, part_records.c.id)
            ).mappings()
            out = []
            for r in rows:
                view = dict(r)
                view["created_at"] = _iso(view["created_at"])
                view["passed"] = None if view["passed"] is None else bool(view["passed"])
                out.append(view)
            return out


__all__ = ["STATUSES", "JobQueue"]
