"""Fixtures of the vision tests: the demo camera, the simulator's renderer, parts and scenes.

The simulator makes the images (with their ground truth); the code under test only sees
the pixels and the calibration file, as on a real cell.
"""

from __future__ import annotations

import math
from dataclasses import dataclass
from pathlib import Path

import numpy as np
import pytest
from shapely import affinity

from edge_gateway.vision import CameraModel
from recipes.parts.loader import load_part
from recipes.parts.panel import PanelPart
from sim.camera import CameraCalibration
from sim.frames import BeltFrame, PlanarPose
from sim.render import CameraRenderer, Frame, Lighting, PartView

ROOT = Path(__file__).resolve().parents[3]
DEMO_CAMERA = ROOT / "sim" / "worlds" / "demo_camera.yaml"
DEMO_WORLD = ROOT / "sim" / "worlds" / "demo_cell.yaml"
#: where the demo camera looks at the belt
VIEW_X_MM, VIEW_Y_MM = -2000.0, 0.0
LIGHT = Lighting(
    ambient=0.95,
    gradient_strength=0.2,
    gradient_direction_deg=35.0,
    vignetting=0.12,
    shadow_strength=0.45,
    shadow_softness_mm=4.0,
)


@dataclass(frozen=True)
class Scene:
    """A rendered frame and the poses of its parts' reference points."""

    frame: Frame
    poses: tuple[PlanarPose, ...]

    @property
    def image(self) -> np.ndarray:
        return self.frame.image


@pytest.fixture(scope="session")
def calibration() -> CameraCalibration:
    return CameraCalibration.load(DEMO_CAMERA)


@pytest.fixture(scope="session")
def camera() -> CameraModel:
    return CameraModel.load(DEMO_CAMERA)


@pytest.fixture(scope="session")
def renderer(calibration) -> CameraRenderer:
    return CameraRenderer(calibration, BeltFrame((-3200.0, 0.0), 0.0, 800.0), texture_seed=4)


@pytest.fixture(scope="session")
def door() -> PanelPart:
    return load_part("door")[0]


def panel(spec: str) -> PanelPart:
    return load_part(spec)[0]


def resized(part: PanelPart, dw_mm: float, dh_mm: float) -> PanelPart:
    """The part scaled about its bounding-box centre to a size off by (dw, dh)."""
    xmin, ymin, xmax, ymax = part.outline.bounds
    w, h = xmax - xmin, ymax - ymin
    outline = affinity.scale(
        part.outline,
        (w + dw_mm) / w,
        (h + dh_mm) / h,
        origin=(0.5 * (xmin + xmax), 0.5 * (ymin + ymax)),
    )
    return PanelPart.create(part.name, outline, part.thickness_mm, "test")


def reference(part: PanelPart) -> tuple[float, float]:
    xmin, ymin, xmax, ymax = part.outline.bounds
    return (0.5 * (xmin + xmax), 0.5 * (ymin + ymax))


def render(
    renderer: CameraRenderer,
    placed: list[tuple[PanelPart, PlanarPose]],
    *,
    lighting: Lighting = LIGHT,
    noise_std: float = 2.0,
    blur_sigma_px: float = 0.6,
    albedo: float = 200.0,
    seed: int = 0,
    ref: tuple[float, float] | None = None,
) -> Scene:
    """Parts at poses of their reference points (default: the bounding-box centre)."""
    views = [
        PartView(part, pose.T_world_part(ref or reference(part)), albedo) for part, pose in placed
    ]
    frame = renderer.render(
        views,
        lighting=lighting,
        noise_std=noise_std,
        blur_sigma_px=blur_sigma_px,
        belt_offset_mm=37.0 * seed,
        rng=seed,
    )
    return Scene(frame, tuple(pose for _, pose in placed))


def angle_error_deg(a: float, b: float, period: float = 360.0) -> float:
    return abs((a - b + period / 2) % period - period / 2)


def position_error_mm(loc, pose: PlanarPose) -> float:
    return math.hypot(loc.x_mm - pose.x_mm, loc.y_mm - pose.y_mm)
