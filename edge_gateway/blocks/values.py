"""Values that travel on pipeline ports at the edge (the domain types' Python side).

The runner checks only scalars; these are the contracts between the edge's block
implementations:

- ``Image``: a ``uint8`` array (H, W) or (H, W, 3);
- ``CameraCalibration``: a mapping in the OpenCV-convention calibration format (``width``,
  ``height``, ``K``, ``dist``, ``T_world_camera`` in mm), or a
  :class:`edge_gateway.vision.CameraModel`;
- ``PartSpec``: a ``recipes`` part (a panel with ``outline`` and ``thickness_mm``);
- ``Recipe``: an approved :class:`recipes.document.RecipeDoc`;
- ``PartPose``: :class:`PartPose`; ``Outline``: :class:`MeasuredOutline`;
- ``SprayProgram``: :class:`recipes.fit.FittedProgram`;
- ``ThicknessMap``: :class:`recipes.film.ThicknessMap`;
- ``QCReport``: a JSON-able mapping.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np


@dataclass(frozen=True)
class PartPose:
    """Where the part lies: its reference point (``x_mm``, ``y_mm``) and heading on the belt
    and the full part frame ``T_world_part`` (4, 4), mm."""

    x_mm: float
    y_mm: float
    theta_deg: float
    T_world_part: np.ndarray

    def to_dict(self) -> dict:
        return dict(
            x_mm=round(float(self.x_mm), 3),
            y_mm=round(float(self.y_mm), 3),
            theta_deg=round(float(self.theta_deg), 4),
        )

    def trace_summary(self) -> str:
        return f"pose x {self.x_mm:.2f} mm, y {self.y_mm:.2f} mm, {self.theta_deg:.3f} deg"


@dataclass(frozen=True)
class MeasuredOutline:
    """The part's real top-face outline in the world (mm) and what the locator said of it.

    ``location`` is the :class:`edge_gateway.vision.PartLocation` it came from (verdict,
    score, size deviation, missing area, scale).
    """

    exterior_mm: np.ndarray
    holes_mm: tuple[np.ndarray, ...]
    location: object

    def trace_summary(self) -> str:
        loc = self.location
        return (
            f"outline {len(self.exterior_mm)} pts, {len(self.holes_mm)} hole(s), "
            f"{loc.width_mm:.1f} x {loc.height_mm:.1f} mm, {loc.verdict}"
        )


__all__ = ["MeasuredOutline", "PartPose"]
