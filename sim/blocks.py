"""The simulator's block implementations: ``camera.capture`` and ``sim.predict_thickness``.

``camera.capture`` hands on the frame the cell's camera took of the part now at the
station, with the calibration it was taken with, expressed in the frame of the belt at
the station: the part rode the belt from under the camera to the station, a pure
translation along the belt (``belt_travel_mm``, what a belt encoder reads), so
``T_world_camera`` is moved by the same travel and the pose the locator finds is the pose
at the station. ``sim.predict_thickness`` predicts the film of the fitted program on the
part as measured, with the recipe's gun and finish (:func:`recipes.simulate.predict`).
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

import numpy as np

from recipes.document import RecipeDoc
from recipes.errors import InvalidInputError
from recipes.film import ThicknessMap
from recipes.fit import FittedProgram
from recipes.simulate import predict


@dataclass(frozen=True)
class CapturedFrame:
    """A camera frame of one part: the image, the calibration (mapping, OpenCV
    conventions) and the belt travel from where the frame was taken to the station (mm,
    world x-y)."""

    image: np.ndarray
    calibration: dict
    belt_travel_mm: tuple[float, float]

    def calibration_at_station(self) -> dict:
        T = np.array(self.calibration["T_world_camera"], dtype=float)
        T[0, 3] += self.belt_travel_mm[0]
        T[1, 3] += self.belt_travel_mm[1]
        return {**self.calibration, "T_world_camera": T.tolist()}


def capture_block(frame_source: Callable[[], CapturedFrame | None]) -> Callable:
    """``camera.capture`` over ``frame_source`` (the frame of the part at the station, or
    None when the camera delivered none: the block fails, as a camera dropout does)."""

    def capture(inputs: dict, params: Any) -> dict:
        frame = frame_source()
        if frame is None:
            raise InvalidInputError(f"camera '{params.camera}'", "no frame of this part")
        return {"image": frame.image, "calibration": frame.calibration_at_station()}

    return capture


def predict_thickness(inputs: dict, params: Any) -> dict:
    """``sim.predict_thickness``: the fitted program's film on the measured part."""
    program, recipe = inputs["program"], inputs["recipe"]
    if not isinstance(program, FittedProgram):
        raise InvalidInputError("program", "expected a program from recipe.fit")
    if not isinstance(recipe, RecipeDoc):
        raise InvalidInputError("recipe", "expected a recipe document")
    fit = program.fit
    prediction = predict(
        fit.measured,
        fit.program_part,
        recipe.gun,
        recipe.finish,
        spacing_mm=params.spacing_mm,
        sample_hz=params.sample_hz,
    )
    film = ThicknessMap.of(prediction, "predicted", recipe.finish)
    return {"thickness": film, "report": prediction.metrics.to_dict()}


__all__ = ["CapturedFrame", "capture_block", "predict_thickness"]
