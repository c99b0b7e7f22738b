"""Paints and finishes: what a firm orders (paint, coats, target dry film, tolerance)."""

from __future__ import annotations

from pydantic import BaseModel, ConfigDict, Field

from recipes.errors import NotFoundError


class Paint(BaseModel):
    """A coating material; dry film = wet film x volume solids."""

    model_config = ConfigDict(extra="forbid", frozen=True)

    name: str
    color: str = "clear"
    volume_solids: float = Field(0.35, gt=0, le=1)
    max_dry_per_coat_um: float = Field(
        60.0, gt=0, description="above this a single coat sags or cracks"
    )


class Finish(BaseModel):
    """A finish as ordered: paint, number of coats allowed, and the dry film target."""

    model_config = ConfigDict(extra="forbid", frozen=True)

    name: str
    paint: Paint
    target_dft_um: float = Field(40.0, gt=0, description="total dry film thickness")
    tolerance_pct: float = Field(10.0, gt=0, lt=100, description="± band around the target")
    edge_tolerance_pct: float = Field(15.0, gt=0, lt=100, description="± band on edge bands")
    max_coats: int = Field(3, ge=1, le=8)

    @property
    def lower_um(self) -> float:
        return self.target_dft_um * (1 - self.tolerance_pct / 100)

    @property
    def upper_um(self) -> float:
        return self.target_dft_um * (1 + self.tolerance_pct / 100)


WATER_LACQUER = Paint(name="water-based clear lacquer", color="clear", volume_solids=0.35)
WHITE_PU = Paint(name="white PU topcoat", color="white", volume_solids=0.45)
BLACK_PU = Paint(name="black PU topcoat", color="black", volume_solids=0.45)

FINISHES: dict[str, Finish] = {
    "benchmark": Finish(name="benchmark", paint=WATER_LACQUER, target_dft_um=40.0),
    "clear-satin": Finish(name="clear-satin", paint=WATER_LACQUER, target_dft_um=50.0),
    "white-gloss": Finish(name="white-gloss", paint=WHITE_PU, target_dft_um=60.0),
    "black-matt": Finish(name="black-matt", paint=BLACK_PU, target_dft_um=45.0),
}


def builtin_finish(name: str) -> Finish:
    try:
        return FINISHES[name]
    except KeyError:
        raise NotFoundError("finish", name, list(FINISHES)) from None
