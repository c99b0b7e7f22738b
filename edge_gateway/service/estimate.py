"""Per-part cycle time and paint for a (part, finish), as a quote needs them.

The edge plans a candidate with the spray core's planner for a template part (``door``,
``rect:width_mm=560,height_mm=380``, ...) and the finish the factory's offer names: the
planned program's cycle time and its paint per part. Candidates are kept per (spec,
finish) for the life of the process. Firms name template parts only: file paths are
refused, so a request can never make the edge read its own files.
"""

from __future__ import annotations

import re
import threading
from dataclasses import dataclass

from edge_gateway.factory import FinishOffer
from recipes.errors import CoatshareError, InvalidInputError

#: a template name with optional numeric parameters: ``rect:width_mm=560,height_mm=380``
PART_SPEC = re.compile(
    r"^[a-z][a-z0-9_]{0,39}(:[a-z][a-z0-9_]{0,39}=[0-9]+(\.[0-9]+)?(,[a-z][a-z0-9_]{0,39}=[0-9]+(\.[0-9]+)?){0,7})?$"
)  # noqa: E501
#: surface sampling of an estimate (coarser than a recipe's: cycle and paint barely change)
ESTIMATE_SPACING_MM = 4.0


@dataclass(frozen=True)
class PartEstimate:
    part_spec: str
    finish: str
    cycle_time_s: float
    paint_ml: float
    part_size_mm: float
    is_3d: bool
    within_tol_pct: float

    def to_dict(self) -> dict:
        return {
            "cycle_time_s": round(self.cycle_time_s, 2),
            "paint_ml": round(self.paint_ml, 2),
            "part_size_mm": round(self.part_size_mm, 1),
            "predicted_within_tol_pct": round(self.within_tol_pct, 2),
        }


class Estimator:
    """Plans (and keeps) one candidate per (part spec, spray-core finish)."""

    def __init__(self, *, edge_passes: bool = True) -> None:
        self.edge_passes = edge_passes
        self._cache: dict[tuple[str, str], PartEstimate] = {}
        self._lock = threading.Lock()

    def estimate(self, part_spec: str, offer: FinishOffer) -> PartEstimate:
        if not PART_SPEC.match(part_spec):
            raise InvalidInputError(
                "part_spec", "a template part such as 'door' or 'rect:width_mm=560,height_mm=380'"
            )
        key = (part_spec, offer.finish)
        with self._lock:
            hit = self._cache.get(key)
        if hit is not None:
            return hit
        est = self._plan(part_spec, offer)
        with self._lock:
            self._cache[key] = est
        return est

    def _plan(self, part_spec: str, offer: FinishOffer) -> PartEstimate:
        from recipes.parts.loader import load_part
        from recipes.planner import PlannerParams
        from recipes.recipe import plan_from_spec

        try:
            part, _ = load_part(part_spec)
            _, prediction = plan_from_spec(
                part_spec,
                offer.finish,
                None,
                PlannerParams(spacing_mm=ESTIMATE_SPACING_MM, edge_passes=self.edge_passes),
            )
        except CoatshareError as exc:
            raise InvalidInputError("part_spec", str(exc)) from None
        m = prediction.metrics
        outline = getattr(part, "outline", None)
        if outline is not None:
            x0, y0, x1, y1 = outline.bounds
            size = max(x1 - x0, y1 - y0)
        else:
            lo, hi = part.mesh.bounds
            size = float(max(hi - lo))
        return PartEstimate(
            part_spec,
            offer.name,
            float(m.cycle_s),
            float(m.paint_ml),
            float(size),
            outline is None,
            float(m.within_tol_pct),
        )


__all__ = ["ESTIMATE_SPACING_MM", "PART_SPEC", "Estimator", "PartEstimate"]
