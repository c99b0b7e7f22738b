"""``vision.locate`` and ``vision.check_part`` on the edge's OpenCV locator.

``vision.locate`` runs :class:`edge_gateway.vision.Locator` for the expected part (a
model-based locator: the part spec is needed) and fails the block, with the verdict and
the locator's reasons, unless exactly one part is in view and not cut by the image border.
A wrong or damaged part is located all the same (its pose and outline go on, whatever its
match score) so that ``vision.check_part`` can say what is wrong and a branch can hold it
for an operator; ``min_confidence`` fails only a part the locator calls ok.
Locators are kept per (calibration, part), since building one samples the part's outline.
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

import numpy as np

from edge_gateway.blocks.values import MeasuredOutline, PartPose
from edge_gateway.vision import CameraModel, ExpectedPart, LocateOptions, Locator
from recipes.errors import InvalidInputError

_CACHE_SIZE = 16


class BlockFailedError(InvalidInputError):
    """A block could not do its work for this part (the runner applies the failure policy)."""


def camera_model(calibration: Any) -> CameraModel:
    """A :class:`CameraModel` from a calibration mapping (or one already built)."""
    if isinstance(calibration, CameraModel):
        return calibration
    if isinstance(calibration, Mapping):
        return CameraModel.from_dict(dict(calibration), source="camera.capture")
    raise InvalidInputError(
        "calibration", f"expected a calibration mapping, got {type(calibration).__name__}"
    )


def _calibration_key(calibration: Any) -> Any:
    if isinstance(calibration, Mapping):
        return tuple(
            (k, np.asarray(v, dtype=float).tobytes()) for k, v in sorted(calibration.items())
        )
    return id(calibration)


class VisionBlocks:
    """The edge's implementations of ``vision.locate`` and ``vision.check_part``."""

    def __init__(self) -> None:
        self._locators: dict[tuple, tuple[Locator, CameraModel, ExpectedPart]] = {}

    def _locator(self, calibration: Any, part: Any, params: Any) -> Locator:
        key = (
            _calibration_key(calibration),
            id(part),
            params.polarity,
            params.min_part_area_pct,
            params.size_tolerance_mm,
        )
        hit = self._locators.get(key)
        if hit is not None:
            return hit[0]
        camera = camera_model(calibration)
        expected = part if isinstance(part, ExpectedPart) else ExpectedPart.from_part(part)
        options = LocateOptions(
            polarity=params.polarity,
            min_part_fraction=params.min_part_area_pct / 100.0,
            size_tolerance_mm=params.size_tolerance_mm,
        )
        locator = Locator(camera, expected, options)
        if len(self._locators) >= _CACHE_SIZE:
            self._locators.pop(next(iter(self._locators)))
        # the part object is kept with the locator: its id stays its own
        self._locators[key] = (locator, calibration, part)
        return locator

    def locate(self, inputs: dict, params: Any) -> dict:
        image = inputs["image"]
        if not isinstance(image, np.ndarray) or image.dtype != np.uint8 or image.ndim not in (2, 3):
            raise InvalidInputError("image", "expected a uint8 array (H, W) or (H, W, 3)")
        if inputs.get("part") is None:
            raise InvalidInputError("part", "the locator needs the expected part's spec")
        locator = self._locator(inputs["calibration"], inputs["part"], params)
        result = locator.locate(image)
        if result.verdict in ("no_part", "several", "cut_by_border") or result.part is None:
            seen = ", ".join(p.verdict for p in result.parts) or "nothing"
            raise BlockFailedError(
                "image", f"{result.verdict}: {len(result.parts)} part(s) ({seen})"
            )
        loc = result.part
        if loc.verdict == "ok" and loc.score < params.min_confidence:
            raise BlockFailedError(
                "confidence",
                f"match score {loc.score:.3f} below {params.min_confidence:g} ({loc.verdict})",
            )
        pose = PartPose(loc.x_mm, loc.y_mm, loc.theta_deg, np.array(loc.T_world_part))
        outline = MeasuredOutline(np.array(loc.outline_mm), tuple(loc.holes_mm), loc)
        return {"pose": pose, "outline": outline, "confidence": float(loc.score)}

    def check_part(self, inputs: dict, params: Any) -> dict:
        outline = inputs["outline"]
        part = inputs["part"]
        if not isinstance(outline, MeasuredOutline):
            raise InvalidInputError("outline", "expected the outline vision.locate measured")
        loc = outline.location
        reasons: list[str] = []
        if loc.verdict != "ok":
            reasons.append(f"{loc.verdict.replace('_', ' ')}: " + "; ".join(loc.reasons))
        dw, dh = (abs(float(v)) for v in loc.size_deviation_mm)
        if max(dw, dh) > params.max_size_error_mm:
            reasons.append(
                f"size off by {dw:.1f} x {dh:.1f} mm (limit {params.max_size_error_mm:g} mm)"
            )
        sx, sy = loc.scale
        area_error_pct = abs(sx * sy - 1.0) * 100.0
        if area_error_pct > params.max_area_error_pct:
            reasons.append(
                f"area off by {area_error_pct:.1f} % (limit {params.max_area_error_pct:g} %)"
            )
        if params.check_holes:
            want = len(part.outline.interiors)
            if len(outline.holes_mm) != want:
                reasons.append(f"{len(outline.holes_mm)} hole(s) seen, the part has {want}")
        if loc.score < params.min_score:
            reasons.append(f"outline match {loc.score:.3f} below {params.min_score:g}")
        return {
            "ok": not reasons,
            "score": round(float(loc.score), 4),
            "reason": "; ".join(reasons),
        }


__all__ = ["BlockFailedError", "VisionBlocks", "camera_model"]
