"""The factory an edge gateway runs: cells, finishes, changeovers and prices.

A factory file (YAML, ``schema: coatshare.factory/v1``) holds what does not change from job
to job: the site id, the cells (as the scheduler models them), the finishes the factory
offers (each a finish of the spray core, with its paint price), the changeover matrix,
the scheduler's weights, and the price list. Quotes and the scheduler read it; jobs and
bookings live in the database.
"""

from __future__ import annotations

from pathlib import Path

import yaml
from pydantic import BaseModel, ConfigDict, Field, ValidationError, model_validator

from edge_gateway.scheduler import Cell, Changeover, Weights
from recipes.errors import InvalidInputError
from recipes.finish import FINISHES

SCHEMA = "coatshare.factory/v1"
DEMO_FACTORY = Path(__file__).with_name("factories") / "demo_factory.yaml"


class _Strict(BaseModel):
    model_config = ConfigDict(extra="forbid")


class FinishOffer(_Strict):
    """A finish the factory sells: its spray-core finish and what its paint costs."""

    name: str = Field(pattern=r"^[a-z0-9][a-z0-9-]{0,39}$")
    finish: str  # a spray-core finish (recipes.finish.FINISHES)
    paint_eur_per_l: float = Field(gt=0, le=1000)

    @model_validator(mode="after")
    def _known_finish(self) -> FinishOffer:
        if self.finish not in FINISHES:
            raise ValueError(f"unknown spray-core finish {self.finish!r} ({sorted(FINISHES)})")
        return self


class Prices(_Strict):
    """The price list (EUR)."""

    cell_eur_per_h: float = Field(gt=0, le=10_000)  # robot cell time, per-part jobs
    booked_cell_eur_per_h: float = Field(gt=0, le=10_000)  # cell time booked by the hour
    load_unload_s_per_part: float = Field(ge=0, le=600)
    setup_eur: float = Field(ge=0, le=10_000)  # one colour change, charged per job
    margin_pct: float = Field(ge=0, le=300)
    quote_valid_h: float = Field(gt=0, le=24 * 30)
    promise_margin_h: float = Field(ge=0, le=24 * 14)  # added to the proved completion


class Planning(_Strict):
    """How the factory's recipes are planned (what its cells can run)."""

    edge_passes: bool = True  # False where the robots cannot reach round the part


class Factory(_Strict):
    """A factory file (see the module docstring)."""

    schema_: str = Field(alias="schema")
    site: str = Field(pattern=r"^[a-z0-9][a-z0-9-]{0,39}$")
    cells: list[Cell] = Field(min_length=1)
    finishes: list[FinishOffer] = Field(min_length=1)
    changeovers: list[Changeover] = Field(default_factory=list)
    weights: Weights = Field(default_factory=Weights)
    prices: Prices
    planning: Planning = Field(default_factory=Planning)

    @model_validator(mode="after")
    def _consistent(self) -> Factory:
        if self.schema_ != SCHEMA:
            raise ValueError(f"schema must be {SCHEMA!r}")
        names = [f.name for f in self.finishes]
        if len(set(names)) != len(names):
            raise ValueError("finish names must be unique")
        ids = [c.id for c in self.cells]
        if len(set(ids)) != len(ids):
            raise ValueError("cell ids must be unique")
        for c in self.changeovers:
            for name in (c.from_finish, c.to_finish):
                if name not in names:
                    raise ValueError(f"changeover names unknown finish {name!r}")
        return self

    def offer(self, name: str) -> FinishOffer:
        for f in self.finishes:
            if f.name == name:
                return f
        raise InvalidInputError("finish", f"{name!r} is not offered here ({self.finish_names})")

    @property
    def finish_names(self) -> list[str]:
        return [f.name for f in self.finishes]


def load_factory(path: str | Path | None = None) -> Factory:
    """Read a factory file (the demo factory when None); errors name the field."""
    path = Path(path) if path is not None else DEMO_FACTORY
    try:
        data = yaml.safe_load(path.read_text(encoding="utf-8"))
    except OSError as exc:
        raise InvalidInputError("path", f"cannot read: {exc.strerror}", source=str(path)) from None
    except yaml.YAMLError as exc:
        raise InvalidInputError("(root)", f"not YAML: {exc}", source=str(path)) from None
    try:
        return Factory.model_validate(data)
    except ValidationError as exc:
        err = exc.errors()[0]
        where = ".".join(str(p) for p in err["loc"]) or "(root)"
        raise InvalidInputError(where, err["msg"], source=str(path)) from None


__all__ = ["DEMO_FACTORY", "SCHEMA", "Factory", "FinishOffer", "Prices", "load_factory"]
