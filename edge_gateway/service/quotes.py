"""Quotes and bookings: a price and a promised date, then a job in the durable queue.

**Price** (EUR, the factory's price list): cell time per part (the planned cycle plus
load/unload) at the cell rate, paint per part at the finish's paint price, one colour
setup per job, the margin on top; every term is in the quote's ``details``.

**Promise** (capable-to-promise, ``edge_gateway.scheduler.promise_date``): the queue as it
stands (queued and running jobs, their promises as hard deadlines) plus the quoted job;
the earliest completion a plan proves, plus the factory's promise margin. Times are
seconds from now in the scheduler and UTC datetimes here.

**Accepting** re-checks the promise against the queue as it stands then (other bookings
may have come in since the quote): the job enters the queue only if a plan still proves
its completion by the promise (the margin absorbs the time passed since the quote); the
job row and the quote's change of status are one transaction. Otherwise the quote is
refused with the completion the factory could prove now.
"""

from __future__ import annotations

import math
import uuid
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from decimal import ROUND_HALF_UP, Decimal

from sqlalchemy import Engine, insert, select, update

from edge_gateway.db import jobs, quotes
from edge_gateway.factory import Factory
from edge_gateway.recipe_inbox import RecipeInbox
from edge_gateway.scheduler import Job, Problem, promise_date
from edge_gateway.service.estimate import Estimator, PartEstimate
from recipes.errors import InvalidInputError, NotFoundError

#: jobs that hold cell time
ACTIVE = ("queued", "running")


class ConflictError(Exception):
    """The request contradicts the state (an accepted quote, a broken promise): HTTP 409."""


@dataclass(frozen=True)
class QuoteRequest:
    part_spec: str
    quantity: int
    finish: str
    due_at: datetime
    weight: int = 1


def _cents(value: float) -> Decimal:
    return Decimal(str(value)).quantize(Decimal("0.01"), rounding=ROUND_HALF_UP)


def price(factory: Factory, est: PartEstimate, quantity: int) -> tuple[Decimal, dict]:
    """Total price and its terms."""
    p = factory.prices
    offer = factory.offer(est.finish)
    cell_s = est.cycle_time_s + p.load_unload_s_per_part
    cell = quantity * cell_s / 3600.0 * p.cell_eur_per_h
    paint = quantity * est.paint_ml / 1000.0 * offer.paint_eur_per_l
    subtotal = cell + paint + p.setup_eur
    total = subtotal * (1 + p.margin_pct / 100.0)
    terms = {
        "cell_time_h": round(quantity * cell_s / 3600.0, 4),
        "cell_eur": float(_cents(cell)),
        "paint_l": round(quantity * est.paint_ml / 1000.0, 4),
        "paint_eur": float(_cents(paint)),
        "setup_eur": float(_cents(p.setup_eur)),
        "margin_pct": p.margin_pct,
    }
    return _cents(total), terms


def _seconds(at: datetime, now: datetime) -> int:
    return math.ceil((at - now).total_seconds())


def _as_utc(at: datetime) -> datetime:
    return at.replace(tzinfo=UTC) if at.tzinfo is None else at.astimezone(UTC)


def queue_problem(engine: Engine, factory: Factory, now: datetime) -> Problem:
    """The scheduling problem of the active queue, times in seconds from ``now``."""
    with engine.connect() as conn:
        rows = (
            conn.execute(select(jobs).where(jobs.c.status.in_(ACTIVE)).order_by(jobs.c.created_at))
            .mappings()
            .all()
        )
    queue = []
    for r in rows:
        remaining = r["quantity"] - r["parts_done"]
        if remaining <= 0:
            continue
        promise_s = _seconds(_as_utc(r["promise_at"]), now)
        queue.append(
            Job(
                id=r["id"],
                firm=r["firm_id"],
                part_type=r["part_spec"],
                quantity=remaining,
                finish=r["finish"],
                cycle_time_s=r["cycle_time_s"],
                load_unload_s=factory.prices.load_unload_s_per_part * remaining,
                part_size_mm=r["part_size_mm"],
                due_s=max(0, _seconds(_as_utc(r["due_at"]), now)),
                weight=r["weight"],
                # a promise already missed cannot be kept: the job is late, not infeasible
                deadline_s=promise_s if promise_s > 0 else None,
            )
        )
    return Problem(
        finishes=factory.finish_names,
        cells=[c.model_copy(deep=True) for c in factory.cells],
        jobs=queue,
        changeovers=factory.changeovers,
        weights=factory.weights,
    )


class QuoteDesk:
    """Makes quotes and turns accepted ones into jobs."""

    def __init__(
        self,
        engine: Engine,
        factory: Factory,
        estimator: Estimator,
        *,
        time_limit_s: float,
        recipes: RecipeInbox | None = None,
    ) -> None:
        self.engine = engine
        self.factory = factory
        self.estimator = estimator
        self.time_limit_s = time_limit_s
        self.recipes = recipes

    def _promise(
        self, req: QuoteRequest, est: PartEstimate, now: datetime, *, margin: bool = True
    ) -> datetime:
        """The proved completion, plus the promise margin unless ``margin`` is False."""
        problem = queue_problem(self.engine, self.factory, now)
        job = Job(
            id="quoted",
            firm="quoted",
            part_type=req.part_spec,
            quantity=req.quantity,
            finish=req.finish,
            cycle_time_s=est.cycle_time_s,
            load_unload_s=self.factory.prices.load_unload_s_per_part * req.quantity,
            part_size_mm=est.part_size_mm,
            is_3d=est.is_3d,
            due_s=max(0, _seconds(req.due_at, now)),
            weight=req.weight,
        )
        margin_s = round(self.factory.prices.promise_margin_h * 3600) if margin else 0
        promise = promise_date(problem, job, margin_s=margin_s, time_limit_s=self.time_limit_s)
        return now + timedelta(seconds=promise.promise_s)

    def quote(self, firm_id: str, req: QuoteRequest, now: datetime | None = None) -> dict:
        now = now or datetime.now(UTC)
        offer = self.factory.offer(req.finish)
        if not 1 <= req.quantity <= 100_000:
            raise InvalidInputError("quantity", "must lie within 1..100000")
        due_at = _as_utc(req.due_at)
        if due_at <= now:
            raise InvalidInputError("due_at", "must lie in the future")
        req = QuoteRequest(req.part_spec, req.quantity, offer.name, due_at, req.weight)
        est = self.estimator.estimate(req.part_spec, offer)
        if not any(_fits(c, est, offer.name) for c in self.factory.cells):
            raise InvalidInputError(
                "part_spec", f"no cell here takes a {est.part_size_mm:.0f} mm part in {offer.name}"
            )
        total, terms = price(self.factory, est, req.quantity)
        promise_at = self._promise(req, est, now)
        quote_id = str(uuid.uuid4())
        details = {
            "estimate": est.to_dict(),
            "price": terms,
            "meets_due_date": promise_at <= due_at,
        }
        row = dict(
            id=quote_id,
            firm_id=firm_id,
            part_spec=req.part_spec,
            quantity=req.quantity,
            finish=req.finish,
            due_at=due_at,
            promise_at=promise_at,
            price_eur=total,
            cycle_time_s=est.cycle_time_s,
            details=details,
            status="open",
            created_at=now,
            expires_at=now + timedelta(hours=self.factory.prices.quote_valid_h),
        )
        with self.engine.begin() as conn:
            conn.execute(insert(quotes).values(**row))
        return self.get_quote(quote_id, firm_id)

    def _quote_row(self, quote_id: str, firm_id: str | None):
        with self.engine.connect() as conn:
            row = conn.execute(select(quotes).where(quotes.c.id == quote_id)).mappings().first()
        if row is None or (firm_id is not None and row["firm_id"] != firm_id):
            raise NotFoundError("quote", quote_id)
        return row

    def get_quote(self, quote_id: str, firm_id: str | None) -> dict:
        """A quote (``firm_id`` None: any firm's, for staff); another firm's is not found."""
        return _quote_view(self._quote_row(quote_id, firm_id))

    def accept(self, quote_id: str, firm_id: str, now: datetime | None = None) -> dict:
        """Book the quote: a queued job, if its promise still holds (see the module doc)."""
        now = now or datetime.now(UTC)
        q = self._quote_row(quote_id, firm_id)
        if q["status"] != "open":
            raise ConflictError(f"quote {quote_id} is {q['status']}")
        if _as_utc(q["expires_at"]) <= now:
            raise ConflictError(f"quote {quote_id} expired at {iso_utc(q['expires_at'])}")
        offer = self.factory.offer(q["finish"])
        est = self.estimator.estimate(q["part_spec"], offer)
        promised = _as_utc(q["promise_at"])
        req = QuoteRequest(q["part_spec"], q["quantity"], q["finish"], _as_utc(q["due_at"]))
        completion = self._promise(req, est, now, margin=False)
        if completion > promised:
            raise ConflictError(
                f"the promise of {promised.isoformat()} no longer holds "
                "(other bookings came first): "
                f"the job would complete {completion.isoformat()} now; ask for a new quote"
            )
        job_id = str(uuid.uuid4())
        with self.engine.begin() as conn:
            done = conn.execute(
                update(quotes)
                .where(quotes.c.id == quote_id, quotes.c.status == "open")
                .values(status="accepted")
            )
            if done.rowcount != 1:
                raise ConflictError(f"quote {quote_id} was accepted meanwhile")
            conn.execute(
                insert(jobs).values(
                    id=job_id,
                    firm_id=firm_id,
                    quote_id=quote_id,
                    part_spec=q["part_spec"],
                    quantity=q["quantity"],
                    finish=q["finish"],
                    cycle_time_s=q["cycle_time_s"],
                    part_size_mm=est.part_size_mm,
                    due_at=req.due_at,
                    promise_at=promised,
                    weight=1,
                    status="queued",
                    parts_done=0,
                    created_at=now,
                    updated_at=now,
                )
            )
            if self.recipes is not None:  # no approved recipe held: the cloud plans one
                key = f"recipe-request/{job_id}"
                self.recipes.request_if_missing(
                    conn,
                    q["part_spec"],
                    offer.finish,
                    key,
                    edge_passes=self.factory.planning.edge_passes,
                )
        return job_id


def _fits(cell, est: PartEstimate, finish: str) -> bool:
    return (
        est.part_size_mm <= cell.max_part_size_mm
        and (cell.takes_3d or not est.is_3d)
        and (cell.finishes is None or finish in cell.finishes)
    )


def iso_utc(at: datetime) -> str:
    """ISO 8601 in UTC (SQLite hands datetimes back without their zone)."""
    return _as_utc(at).isoformat()


def _quote_view(row) -> dict:
    return {
        "id": row["id"],
        "firm_id": row["firm_id"],
        "part_spec": row["part_spec"],
        "quantity": row["quantity"],
        "finish": row["finish"],
        "due_at": iso_utc(row["due_at"]),
        "promise_at": iso_utc(row["promise_at"]),
        "price_eur": str(_cents(float(row["price_eur"]))),
        "cycle_time_s": round(float(row["cycle_time_s"]), 2),
        "details": row["details"],
        "status": row["status"],
        "created_at": iso_utc(row["created_at"]),
        "expires_at": iso_utc(row["expires_at"]),
    }


__all__ = ["ACTIVE", "ConflictError", "QuoteDesk", "QuoteRequest", "price", "queue_problem"]
