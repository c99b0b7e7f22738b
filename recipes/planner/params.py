"""Planner parameters: what an engineer may set; ``None`` means "let the solver choose"."""

from __future__ import annotations

from typing import Any, Literal

from pydantic import BaseModel, ConfigDict, Field, ValidationError

from recipes.errors import InvalidInputError


class PlannerParams(BaseModel):
    """Parameters of the coverage planner and the parameter solver."""

    model_config = ConfigDict(extra="forbid")

    standoff_mm: float | None = Field(
        None, gt=0, description="gun to surface; default: gun's h_ref"
    )
    speed_mm_s: float | None = Field(None, gt=0, description="stroke speed; default: mass balance")
    pitch_mm: float | None = Field(None, gt=0, description="stroke spacing; default: from profile")
    inset_mm: float | None = Field(None, description="first/last stroke from the edge")
    overtravel_mm: float | None = Field(None, ge=0, description="trigger-on distance past edges")
    coats: int | None = Field(None, ge=1, le=8)
    direction: Literal["auto", "long_edge"] | float = Field(
        "auto", description="auto: fewest strokes; long_edge; or a fixed angle in degrees"
    )
    edge_passes: bool = Field(True, description="outer edge passes")
    hole_passes: bool = Field(
        False,
        description="hole-wall passes from inside each hole: needs a gun whose nozzle reaches "
        "into the hole (an angle-head extension), not the standard gun",
    )
    edge_tilt_deg: float = Field(
        0.0,
        ge=0.0,
        le=60.0,
        description="edge pass gun axis below horizontal (0: square to the side face)",
    )
    hole_gap_mm: float = Field(
        40.0, ge=0, description="trigger off over holes whose span beyond overtravel exceeds this"
    )
    lead_mm: float = Field(60.0, ge=0, description="lead-in/out run along the first/last stroke")
    sample_hz: float = Field(1000.0, gt=0, description="trajectory sampling for prediction")
    spacing_mm: float = Field(2.0, gt=0, description="surface sampling for prediction")
    goal_within_pct: float = Field(99.5, gt=0, le=100, description="solver's uniformity goal")
    mesh_strokes: int | None = Field(None, ge=3, le=64, description="strokes around a mesh part")


def planner_params(base: dict[str, Any], assignments: list[str]) -> PlannerParams:
    """Planner parameters from ``base`` overridden by ``key=value`` assignments (the CLI's
    ``--set``); values are checked by :class:`PlannerParams`, ``null`` unsets a field.

    Errors name ``planner.<key>`` and the reason.
    """
    data = dict(base)
    for item in assignments:
        key, eq, value = (part.strip() for part in item.partition("="))
        if not eq or not key:
            raise InvalidInputError("planner", f"expected key=value, got {item!r}")
        if key not in PlannerParams.model_fields:
            known = ", ".join(PlannerParams.model_fields)
            raise InvalidInputError(f"planner.{key}", f"not a planner parameter (known: {known})")
        data[key] = None if value.lower() in {"null", "none", ""} else value
    try:
        return PlannerParams.model_validate(data)
    except ValidationError as exc:
        err = exc.errors()[0]
        loc = ".".join(str(p) for p in err["loc"][:1])
        raise InvalidInputError(f"planner.{loc}", f"{err['msg']}, got {err['input']!r}") from None
