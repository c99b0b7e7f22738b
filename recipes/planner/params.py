"""Planner parameters: what an engineer may set; ``None`` means "let the solver choose"."""

from __future__ import annotations

from typing import Literal

from pydantic import BaseModel, ConfigDict, Field


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
    edge_passes: bool = True
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
