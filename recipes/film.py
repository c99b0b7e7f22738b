"""A film on a part, as a value that travels between pipeline blocks.

:class:`ThicknessMap` is what ``sim.predict_thickness`` predicts and ``robot.execute``
reports (the simulator's deposit, or a gauge's measurement resampled onto the part's
surface samples): the surface samples, the wet and dry film per sample, and the metrics of
``recipes.quality`` judged against the finish the film was made with. ``qc.evaluate``
judges it against a pipeline's limits.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

from recipes.parts.surface import SurfaceSamples
from recipes.quality import PartMetrics

SOURCES = ("predicted", "simulated", "measured")


@dataclass(frozen=True)
class ThicknessMap:
    """A film on a part (part frame).

    Attributes
    ----------
    samples : SurfaceSamples where the film is known.
    wet_um, dry_um : (N,) film per sample.
    metrics : PartMetrics of the film against its finish.
    source : "predicted" (the deposition model on the planned path), "simulated" (the
        simulator's deposit from the robot's actual joints) or "measured" (a gauge).
    target_dft_um, tolerance_pct : the finish's band the metrics were judged against.
    """

    samples: SurfaceSamples
    wet_um: np.ndarray
    dry_um: np.ndarray
    metrics: PartMetrics
    source: str
    target_dft_um: float
    tolerance_pct: float

    def __post_init__(self) -> None:
        if self.source not in SOURCES:
            raise ValueError(f"source must be one of {SOURCES}, got {self.source!r}")
        n = len(self.samples)
        if self.dry_um.shape != (n,) or self.wet_um.shape != (n,):
            raise ValueError(f"expected wet_um and dry_um of shape ({n},)")

    @classmethod
    def of(cls, film, source: str, finish) -> ThicknessMap:
        """From anything with ``samples``, ``wet_um``, ``dry_um`` and ``metrics`` (a
        ``recipes.simulate.Prediction``, a ``sim.gun.SprayResult``)."""
        return cls(
            film.samples,
            np.asarray(film.wet_um, dtype=float),
            np.asarray(film.dry_um, dtype=float),
            film.metrics,
            source,
            float(finish.target_dft_um),
            float(finish.tolerance_pct),
        )

    def top_map_um(self) -> np.ndarray:
        """(ny, nx) dry film on the top-face grid (NaN outside the outline)."""
        return self.samples.top_map(self.dry_um)

    def thumbnail_array(self) -> np.ndarray | None:
        """The top-face map for trace thumbnails (None for parts without a top grid)."""
        if self.samples.grid is None:
            return None
        return np.nan_to_num(self.top_map_um(), nan=0.0)

    def trace_summary(self) -> str:
        m = self.metrics
        return (
            f"{self.source} film: {len(self.samples)} samples, mean {m.dft_mean_um:.1f} um, "
            f"{m.within_tol_pct:.1f} % within ±{self.tolerance_pct:g} % of "
            f"{self.target_dft_um:g} um"
        )


__all__ = ["SOURCES", "ThicknessMap"]
