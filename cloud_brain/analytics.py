"""What the sites' part records say, summed up: parts by outcome, per recipe and per cell.

The records arrive as the edges wrote them (``records/part`` messages: status ``done``,
``held``, ``rejected``, ``stopped`` or ``failed``; ``passed`` from QC where measured;
the recipe version and the cell). A site's summary reads its records once, in the
database's order; the sums are made here rather than in SQL so that SQLite and
PostgreSQL give the same answer from the same JSON.
"""

from __future__ import annotations

from collections import Counter, defaultdict
from typing import Any

from sqlalchemy import Engine, select

from cloud_brain.db import site_messages
from recipes.errors import NotFoundError

RECORD_TOPIC = "records/part"


def site_summary(engine: Engine, site: str) -> dict[str, Any]:
    """Parts of ``site`` by status, QC pass rate (of the parts measured), and the same per
    recipe and per cell; the first and last record's time."""
    query = (
        select(site_messages.c.body, site_messages.c.received_at)
        .where(site_messages.c.site == site, site_messages.c.topic == RECORD_TOPIC)
        .order_by(site_messages.c.edge_seq)
    )
    with engine.connect() as conn:
        rows = conn.execute(query).all()
    if not rows:
        raise NotFoundError("site", site)
    total: Counter[str] = Counter()
    groups: dict[str, dict[str, Counter[str]]] = {
        "recipes": defaultdict(Counter),
        "cells": defaultdict(Counter),
    }
    for body, _ in rows:
        outcome = _outcomes(body)
        total.update(outcome)
        groups["recipes"][body.get("recipe") or "(none)"].update(outcome)
        groups["cells"][body.get("cell_id") or "(none)"].update(outcome)
    return {
        "site": site,
        **_figures(total),
        "recipes": {k: _figures(v) for k, v in sorted(groups["recipes"].items())},
        "cells": {k: _figures(v) for k, v in sorted(groups["cells"].items())},
        "first_at": rows[0][1].isoformat(),
        "last_at": rows[-1][1].isoformat(),
    }


def _outcomes(body: dict[str, Any]) -> Counter[str]:
    out = Counter({"parts": 1, str(body.get("status", "unknown")): 1})
    if body.get("passed") is True:
        out["qc_passed"] += 1
    elif body.get("passed") is False:
        out["qc_failed"] += 1
    return out


def _figures(c: Counter[str]) -> dict[str, Any]:
    measured = c["qc_passed"] + c["qc_failed"]
    statuses = {k: v for k, v in c.items() if k not in ("parts", "qc_passed", "qc_failed")}
    return {
        "parts": c["parts"],
        "statuses": dict(sorted(statuses.items())),
        "qc_measured": measured,
        "qc_pass_pct": round(100.0 * c["qc_passed"] / measured, 2) if measured else None,
    }


__all__ = ["site_summary"]
