"""``recipe.fit`` and ``qc.evaluate``: the spray core's fit and quality judgement.

``recipe.fit`` places the approved recipe on the located part with
:func:`recipes.fit.fit_recipe` (moved, edges followed, or strokes re-planned, by how far the
real outline is from the nominal one) and refuses poses further from the station than the
block's limits. ``qc.evaluate`` judges a film (:class:`recipes.film.ThicknessMap`) against
floors for the share within tolerance and the coverage, a ceiling for overspray and,
when the prediction is wired, the largest drop below what was predicted.
"""

from __future__ import annotations

import math
from typing import Any

import numpy as np

from edge_gateway.blocks.values import MeasuredOutline, PartPose
from edge_gateway.blocks.vision import BlockFailedError
from recipes.document import RecipeDoc
from recipes.errors import InvalidInputError
from recipes.film import ThicknessMap
from recipes.fit import TOLERANCE_MM, FittedProgram, fit_recipe


def _yaw_deg(T: np.ndarray) -> float:
    return math.degrees(math.atan2(T[1, 0], T[0, 0]))


class RecipeBlocks:
    """``recipe.fit`` and ``qc.evaluate`` for a cell whose station holds the part at
    ``T_world_station_part`` (the nominal place of the recipe's part frame, mm)."""

    def __init__(self, T_world_station_part: dict[str, np.ndarray] | np.ndarray | None = None):
        self._station = T_world_station_part

    def _nominal(self, recipe: RecipeDoc) -> np.ndarray | None:
        if isinstance(self._station, dict):
            return self._station.get(recipe.id)
        return self._station

    def fit(self, inputs: dict, params: Any) -> dict:
        recipe, pose = inputs["recipe"], inputs["pose"]
        if not isinstance(recipe, RecipeDoc):
            raise InvalidInputError("recipe", "expected a recipe document")
        if not isinstance(pose, PartPose):
            raise InvalidInputError("pose", "expected the pose vision.locate measured")
        nominal = self._nominal(recipe)
        if nominal is not None:
            shift_mm = float(np.linalg.norm(pose.T_world_part[:2, 3] - nominal[:2, 3]))
            turn_deg = abs((_yaw_deg(pose.T_world_part) - _yaw_deg(nominal) + 180) % 360 - 180)
            if shift_mm > params.max_offset_mm:
                raise BlockFailedError(
                    "pose",
                    f"the part lies {shift_mm:.1f} mm from the station "
                    f"(limit {params.max_offset_mm:g} mm)",
                )
            if turn_deg > params.max_rotation_deg:
                raise BlockFailedError(
                    "pose",
                    f"the part is turned {turn_deg:.1f} deg from the station "
                    f"(limit {params.max_rotation_deg:g} deg)",
                )
        outline = inputs.get("outline")
        if outline is None:
            outline_world = _nominal_outline_world(recipe, pose.T_world_part)
        elif isinstance(outline, MeasuredOutline):
            outline_world = _polygon_world(outline)
        else:
            raise InvalidInputError("outline", "expected the outline vision.locate measured")
        limits = {}
        if not params.clip_to_outline:  # move the program only, whatever the outline
            limits = dict(move_below_mm=TOLERANCE_MM, replan_above_mm=TOLERANCE_MM)
        fit = fit_recipe(recipe, pose.T_world_part, outline_world, **limits)
        return {"program": FittedProgram(recipe, fit)}

    def evaluate(self, inputs: dict, params: Any) -> dict:
        film, recipe = inputs["film"], inputs["recipe"]
        if not isinstance(film, ThicknessMap):
            raise InvalidInputError("film", "expected a thickness map")
        m = film.metrics
        failures: list[str] = []
        if m.within_tol_pct < params.min_within_tol_pct:
            failures.append(
                f"within ±tol {m.within_tol_pct:.2f} % < {params.min_within_tol_pct:g} %"
            )
        if m.coverage_pct < params.min_coverage_pct:
            failures.append(f"coverage {m.coverage_pct:.2f} % < {params.min_coverage_pct:g} %")
        if m.overspray_pct > params.max_overspray_pct:
            failures.append(f"overspray {m.overspray_pct:.2f} % > {params.max_overspray_pct:g} %")
        predicted = inputs.get("predicted")
        compared = None
        if predicted is not None:
            if not isinstance(predicted, ThicknessMap):
                raise InvalidInputError("predicted", "expected a thickness map")
            drop = predicted.metrics.within_tol_pct - m.within_tol_pct
            compared = dict(
                predicted_within_tol_pct=round(predicted.metrics.within_tol_pct, 4),
                drop_pct=round(drop, 4),
                predicted_dft_mean_um=round(predicted.metrics.dft_mean_um, 4),
            )
            limit = params.max_below_prediction_pct
            if limit is not None and drop > limit:
                failures.append(
                    f"within ±tol {drop:.2f} points below the prediction (limit {limit:g})"
                )
        report = dict(
            recipe=dict(id=recipe.id, version=int(recipe.version)),
            film_source=film.source,
            target_dft_um=film.target_dft_um,
            tolerance_pct=film.tolerance_pct,
            metrics=m.to_dict(),
            prediction=compared,
            limits=params.model_dump(),
            passed=not failures,
            failures=failures,
        )
        return {"report": report, "passed": not failures}


def _polygon_world(outline: MeasuredOutline):
    from shapely.geometry import Polygon

    return Polygon(outline.exterior_mm, [h for h in outline.holes_mm])


def _nominal_outline_world(recipe: RecipeDoc, T_world_part: np.ndarray):
    from shapely import affinity

    from recipes.parts.loader import part_from_ref

    part = part_from_ref(recipe.part.model_dump())
    T = T_world_part
    return affinity.affine_transform(
        part.outline, [T[0, 0], T[0, 1], T[1, 0], T[1, 1], T[0, 3], T[1, 3]]
    )


__all__ = ["RecipeBlocks"]
