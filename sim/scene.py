"""What a camera frame shows: parts placed on the belt, the lighting, the ground truth."""

from __future__ import annotations

from dataclasses import dataclass, field

import numpy as np

from recipes.parts.panel import PanelPart
from sim.frames import PlanarPose


@dataclass(frozen=True)
class Lighting:
    """Lighting of one frame.

    Attributes
    ----------
    ambient : overall gain (1 = nominal exposure).
    gradient_strength : relative brightness change from the view centre to its edge.
    gradient_direction_deg : world direction (xy) towards the brighter side, where the
        light stands; shadows fall the other way.
    vignetting : relative darkening at the image corners.
    light_elevation_deg, shadow_strength, shadow_softness_mm : the shadows.
    """

    ambient: float = 1.0
    gradient_strength: float = 0.0
    gradient_direction_deg: float = 0.0
    vignetting: float = 0.0
    light_elevation_deg: float = 60.0
    shadow_strength: float = 0.45
    shadow_softness_mm: float = 4.0

    def to_dict(self) -> dict:
        return {k: round(float(v), 5) for k, v in self.__dict__.items()}


@dataclass(frozen=True)
class PartView:
    """A panel placed in the scene.

    Attributes
    ----------
    part : PanelPart (its real geometry: size variation, damage).
    T_world_part : (4, 4) pose of the part frame, mm.
    albedo : grey level of the top face at nominal lighting.
    reference_xy_mm : the point whose pose is reported (part frame); default: the centre
        of the outline's bounding box.
    side_factor : brightness of the side faces relative to the top; default: shaded by
        the light direction (0.35 facing away .. 0.85 facing the light).
    """

    part: PanelPart
    T_world_part: np.ndarray
    albedo: float = 200.0
    reference_xy_mm: tuple[float, float] | None = None
    side_factor: float | None = None

    @property
    def reference(self) -> tuple[float, float]:
        if self.reference_xy_mm is not None:
            return self.reference_xy_mm
        xmin, ymin, xmax, ymax = self.part.outline.bounds
        return (0.5 * (xmin + xmax), 0.5 * (ymin + ymax))


@dataclass(frozen=True)
class PartTruth:
    """Ground truth of one part in a frame.

    Attributes
    ----------
    name : str
    pose : PlanarPose of the reference point.
    outline_world_mm : (K, 2) exterior of the outline in the world (xy).
    holes_world_mm : tuple of (K, 2) holes in the world.
    thickness_mm : float
    outline_px : (K, 2) top-face exterior projected into the image (edges divided every
        ``EDGE_STEP_MM`` so that lens distortion bends them).
    visibility : "full", "partial" or "none".
    visible_fraction : share of the part's silhouette inside the image.
    """

    name: str
    pose: PlanarPose
    outline_world_mm: np.ndarray
    holes_world_mm: tuple[np.ndarray, ...]
    thickness_mm: float
    outline_px: np.ndarray
    visibility: str
    visible_fraction: float

    def to_dict(self) -> dict:
        return dict(
            name=self.name,
            pose=self.pose.to_dict(),
            outline_world_mm=np.round(self.outline_world_mm, 3).tolist(),
            holes_world_mm=[np.round(h, 3).tolist() for h in self.holes_world_mm],
            thickness_mm=self.thickness_mm,
            outline_px=np.round(self.outline_px, 3).tolist(),
            visibility=self.visibility,
            visible_fraction=round(self.visible_fraction, 5),
        )


@dataclass(frozen=True)
class Frame:
    """A rendered image (mono8) and the ground truth of the parts in the scene."""

    image: np.ndarray
    truth: tuple[PartTruth, ...] = field(default_factory=tuple)
