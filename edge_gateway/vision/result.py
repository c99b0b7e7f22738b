"""What the locator reports: options, one located part, the result of one image."""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

from recipes.errors import InvalidInputError

VERDICTS = ("ok", "wrong_part", "damaged", "no_part", "several", "cut_by_border")


@dataclass(frozen=True)
class LocateOptions:
    """Tolerances of the checks.

    Attributes
    ----------
    size_tolerance_mm : width or height further than this from nominal: wrong part.
    min_score : share of edge samples agreeing with the fitted outline below which the
        part is a wrong part.
    min_defect_area_mm2, defect_depth_mm : missing material along the outline deeper than
        ``defect_depth_mm`` over at least this area: damaged.
    damage_reach_mm : how far inside the outline missing material is measured.
    max_defect_area_mm2 : missing material over more than this is another outline (an
        L-shaped front, a part cut to another shape): wrong part, not damaged.
    min_surplus_area_mm2 : top face reaching more than ``defect_depth_mm`` beyond the
        fitted outline over at least this area: wrong part (another outline). Larger than
        the damage threshold: shadows, belt texture as dark as the part and side faces can
        mimic a little of it (a corner of 20 mm radius left square is 86 mm2).
    min_part_fraction : regions smaller than this share of the expected area are not parts.
    border_margin_px : the part counts as cut when its silhouette comes closer than this to
        the image border (0: only when it leaves the image).
    polarity : "auto", "bright" (parts brighter than the belt) or "dark".
    max_parts : most parts located in one image.
    """

    size_tolerance_mm: float = 5.0
    min_score: float = 0.8
    min_defect_area_mm2: float = 15.0
    defect_depth_mm: float = 1.0
    damage_reach_mm: float = 25.0
    max_defect_area_mm2: float = 2500.0
    min_surplus_area_mm2: float = 45.0
    min_part_fraction: float = 0.05
    border_margin_px: float = 0.0
    polarity: str = "auto"
    max_parts: int = 4

    def __post_init__(self) -> None:
        for name in (
            "size_tolerance_mm",
            "min_defect_area_mm2",
            "max_defect_area_mm2",
            "defect_depth_mm",
            "min_surplus_area_mm2",
        ):
            if not getattr(self, name) > 0:
                raise InvalidInputError(
                    f"options.{name}", f"must be > 0, got {getattr(self, name)}"
                )
        if self.max_defect_area_mm2 < self.min_defect_area_mm2:
            raise InvalidInputError(
                "options.max_defect_area_mm2",
                f"must be >= min_defect_area_mm2 ({self.min_defect_area_mm2:g}), "
                f"got {self.max_defect_area_mm2:g}",
            )
        if not 0 <= self.min_score <= 1:
            raise InvalidInputError("options.min_score", "must lie within [0, 1]")
        if self.polarity not in ("auto", "bright", "dark"):
            raise InvalidInputError("options.polarity", "must be auto, bright or dark")


@dataclass(frozen=True)
class PartLocation:
    """One located part.

    Attributes
    ----------
    verdict : "ok", "wrong_part", "damaged" or "cut_by_border".
    x_mm, y_mm : world position of the reference point (centre of the outline's bounding
        box in the part frame), on the belt.
    theta_deg : rotation about world z, modulo the part's symmetry.
    width_mm, height_mm : measured size along the part's x and y axes.
    size_deviation_mm : (2,) measured minus nominal width and height.
    score : share of the visible edge samples within 1 mm of the fitted outline (0..1).
    edge_rms_mm : RMS distance of the agreeing edge samples from the fitted outline.
    missing_area_mm2 : the largest region of missing material along the outline.
    outline_mm : (K, 2) fitted top-face outline (exterior) in the world, mm.
    holes_mm : tuple of (K, 2) fitted holes in the world.
    T_world_part : (4, 4) part frame in the world (the belt plane, z = 0 at the bottom face).
    scale : (sx, sy) measured over nominal along the part axes.
    reasons : why the verdict is not ok.
    """

    verdict: str
    x_mm: float
    y_mm: float
    theta_deg: float
    width_mm: float
    height_mm: float
    size_deviation_mm: tuple[float, float]
    score: float
    edge_rms_mm: float
    missing_area_mm2: float
    outline_mm: np.ndarray
    holes_mm: tuple[np.ndarray, ...]
    T_world_part: np.ndarray
    scale: tuple[float, float]
    reasons: tuple[str, ...] = ()

    def to_dict(self, decimals: int = 3) -> dict:
        def r(v: float) -> float:
            return round(float(v), decimals)

        return dict(
            verdict=self.verdict,
            x_mm=r(self.x_mm),
            y_mm=r(self.y_mm),
            theta_deg=round(float(self.theta_deg), 4),
            width_mm=r(self.width_mm),
            height_mm=r(self.height_mm),
            score=round(float(self.score), 4),
            outline=np.round(self.outline_mm, 2).tolist(),
            holes=[np.round(h, 2).tolist() for h in self.holes_mm],
            size_deviation_mm=[r(v) for v in self.size_deviation_mm],
            edge_rms_mm=r(self.edge_rms_mm),
            missing_area_mm2=round(float(self.missing_area_mm2), 1),
            reasons=list(self.reasons),
        )


@dataclass(frozen=True)
class LocateResult:
    """What one image shows: the overall verdict and every located part."""

    verdict: str
    parts: tuple[PartLocation, ...] = ()
    elapsed_ms: float = 0.0

    @property
    def part(self) -> PartLocation | None:
        """The part when exactly one is seen."""
        return self.parts[0] if len(self.parts) == 1 else None

    def to_dict(self) -> dict:
        """One object for one part (or none); ``{"verdict": "several", "parts": [...]}``."""
        if len(self.parts) > 1:
            return dict(verdict=self.verdict, parts=[p.to_dict() for p in self.parts])
        if self.parts:
            return self.parts[0].to_dict()
        keys = ("x_mm", "y_mm", "theta_deg", "width_mm", "height_mm", "score", "outline")
        return dict(verdict=self.verdict, **dict.fromkeys(keys))
