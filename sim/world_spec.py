"""The world file's schema (``coatshare.world/v1``) as pydantic models.

Checks that need more than one field or the files a world refers to live in
:mod:`sim.world`, which loads worlds.
"""

from __future__ import annotations

import math
from typing import Annotated, Any, Literal

import numpy as np
from pydantic import AfterValidator, BaseModel, BeforeValidator, ConfigDict, Field, model_validator

from recipes.errors import InvalidInputError
from sim.camera import check_rigid
from sim.faults import FaultSpec
from sim.frames import BeltFrame, rpy_matrix, transform
from sim.scene import Lighting

SCHEMA = "coatshare.world/v1"
#: robots shipped with the repository, by name
SHIPPED_ROBOTS = {"painter6": ("robot_nodes", "urdf/painter6.urdf")}

Vec2 = tuple[float, float]
Vec3 = tuple[float, float, float]


def _to_span(value: Any) -> Any:
    if isinstance(value, int | float) and not isinstance(value, bool):
        return (value, value)
    return value


def _ordered(span: tuple[float, float]) -> tuple[float, float]:
    if span[0] > span[1]:
        raise ValueError(f"range [{span[0]:g}, {span[1]:g}] has low > high")
    return span


Span = Annotated[tuple[float, float], BeforeValidator(_to_span), AfterValidator(_ordered)]
"""A number, or a [low, high] range that a value is drawn from uniformly."""


def _non_negative(span: tuple[float, float]) -> tuple[float, float]:
    if span[0] < 0:
        raise ValueError(f"must be >= 0, got {span[0]:g}")
    return span


NonNegSpan = Annotated[Span, AfterValidator(_non_negative)]


class _Model(BaseModel):
    model_config = ConfigDict(extra="forbid", frozen=True)


class Pose(_Model):
    """A rigid pose, written as xyz + rpy or as a 4x4 matrix."""

    xyz_mm: Vec3 = (0.0, 0.0, 0.0)
    rpy_deg: Vec3 = (0.0, 0.0, 0.0)

    @model_validator(mode="before")
    @classmethod
    def _from_matrix(cls, value: Any) -> Any:
        if not isinstance(value, list | tuple):
            return value
        try:
            T = np.asarray(value, dtype=float)
        except (TypeError, ValueError):
            raise ValueError("expected {xyz_mm, rpy_deg} or a 4x4 matrix of numbers") from None
        if T.shape != (4, 4) or not np.all(np.isfinite(T)):
            raise ValueError(f"a pose matrix must be 4x4 and finite, got shape {T.shape}")
        try:
            check_rigid(T, "pose")
        except InvalidInputError as exc:
            raise ValueError(exc.reason) from None
        R = T[:3, :3]
        pitch = math.asin(max(-1.0, min(1.0, -R[2, 0])))
        if abs(math.cos(pitch)) > 1e-9:
            roll = math.atan2(R[2, 1], R[2, 2])
            yaw = math.atan2(R[1, 0], R[0, 0])
        else:  # gimbal lock: put everything in yaw
            roll, yaw = 0.0, math.atan2(-R[0, 1], R[1, 1])
        return dict(
            xyz_mm=tuple(T[:3, 3]),
            rpy_deg=tuple(math.degrees(a) for a in (roll, pitch, yaw)),
        )

    @property
    def T(self) -> np.ndarray:
        """(4, 4) homogeneous transform, mm."""
        r = [math.radians(a) for a in self.rpy_deg]
        return transform(rpy_matrix(*r), np.asarray(self.xyz_mm, dtype=float))


class RobotSpec(_Model):
    urdf: str = Field("painter6", description="a shipped robot's name or a URDF path")
    T_world_base: Pose = Pose()


class StationSpec(_Model):
    T_world_part: Pose = Field(
        description="where a part is painted: its reference point (outline bbox centre) "
        "goes to this frame's origin, its axes along this frame's"
    )


class BoothSpec(_Model):
    min_mm: Vec3
    max_mm: Vec3

    @model_validator(mode="after")
    def _check(self) -> BoothSpec:
        for axis, lo, hi in zip("xyz", self.min_mm, self.max_mm, strict=True):
            if not lo < hi:
                raise ValueError(f"min_mm.{axis} ({lo:g}) must be below max_mm.{axis} ({hi:g})")
        return self

    def contains(self, p: np.ndarray, tol_mm: float = 1e-6) -> bool:
        return bool(
            np.all(p >= np.asarray(self.min_mm) - tol_mm)
            and np.all(p <= np.asarray(self.max_mm) + tol_mm)
        )


class ConveyorSpec(_Model):
    origin_mm: Vec2 = Field(description="start of the belt's centreline (world xy)")
    direction_deg: float = 0.0
    length_mm: float = Field(gt=0)
    width_mm: float = Field(gt=0)
    depth_mm: float = Field(200.0, gt=0, description="belt and frame below the surface")
    speed_mm_s: float = Field(gt=0)
    entry_zone_mm: Vec2 = Field(description="[from, to] along the belt where parts are put on")
    exit_zone_mm: Vec2 = Field(description="[from, to] along the belt where parts are taken off")

    @model_validator(mode="after")
    def _check(self) -> ConveyorSpec:
        (a0, a1), (b0, b1) = self.entry_zone_mm, self.exit_zone_mm
        if not 0 <= a0 < a1 <= b0 < b1 <= self.length_mm:
            raise ValueError(
                "zones must satisfy 0 <= entry_zone_mm[0] < entry_zone_mm[1] <= "
                f"exit_zone_mm[0] < exit_zone_mm[1] <= length_mm ({self.length_mm:g}), got "
                f"entry [{a0:g}, {a1:g}], exit [{b0:g}, {b1:g}]"
            )
        return self

    @property
    def frame(self) -> BeltFrame:
        return BeltFrame(self.origin_mm, self.direction_deg, self.width_mm, self.length_mm)


class CameraSpec(_Model):
    calibration: str | dict = Field(description="calibration YAML path, or the fields inline")
    noise_std: NonNegSpan = (1.0, 3.0)
    blur_sigma_px: NonNegSpan = (0.3, 0.8)


class LightingSpec(_Model):
    ambient: NonNegSpan = (0.9, 1.1)
    gradient_strength: NonNegSpan = (0.0, 0.2)
    gradient_direction_deg: Span = (0.0, 360.0)
    vignetting: NonNegSpan = (0.05, 0.15)
    light_elevation_deg: Span = (50.0, 70.0)
    shadow_strength: NonNegSpan = (0.3, 0.5)
    shadow_softness_mm: NonNegSpan = (2.0, 6.0)

    @model_validator(mode="after")
    def _check(self) -> LightingSpec:
        lo, hi = self.light_elevation_deg
        if lo < 5.0 or hi > 90.0:
            raise ValueError("light_elevation_deg must lie within [5, 90]")
        if self.shadow_strength[1] > 1.0:
            raise ValueError("shadow_strength must lie within [0, 1]")
        return self

    def draw(self, rng: np.random.Generator) -> Lighting:
        """Concrete lighting for one frame, each value uniform in its range."""
        return Lighting(**{name: float(rng.uniform(*getattr(self, name))) for name in _LIGHT})


_LIGHT = tuple(LightingSpec.model_fields)


class PoseNoiseSpec(_Model):
    xy_mm: float = Field(5.0, ge=0, description="standard deviation along x and along y")
    theta_deg: float = Field(1.5, ge=0, description="standard deviation of the rotation")


class FeedSpec(_Model):
    sequence: list[str] = Field(min_length=1, description="part specs, repeated in order")
    pose_noise: PoseNoiseSpec = PoseNoiseSpec()
    size_variation_mm: float = Field(0.5, ge=0, description="width and length within +-")
    p_wrong_part: float = Field(0.0, ge=0, le=1)
    p_damaged: float = Field(0.0, ge=0, le=1, description="a missing corner or a notch")
    wrong_parts: list[str] = Field(default_factory=list, description="specs a wrong part is")
    albedo: NonNegSpan = Field((170.0, 225.0), description="grey level of the top faces")
    gap_mm: float = Field(300.0, gt=0, description="free belt between consecutive parts")

    @model_validator(mode="after")
    def _check(self) -> FeedSpec:
        if self.p_wrong_part + self.p_damaged > 1.0:
            raise ValueError("p_wrong_part + p_damaged must not exceed 1")
        if self.p_wrong_part > 0 and not self.wrong_parts and len(set(self.sequence)) < 2:
            raise ValueError(
                "p_wrong_part > 0 needs wrong_parts (or a sequence of several part types)"
            )
        return self


class GunSpec(_Model):
    """The spray gun's valve: time from the trigger signal to paint flowing or stopping.

    The spray pattern itself (flux, flow, efficiency) is the gun model of the recipe the
    cell runs; these are properties of the hardware that the controller compensates."""

    on_latency_s: float = Field(0.040, ge=0, le=1.0)
    off_latency_s: float = Field(0.030, ge=0, le=1.0)


class ClockSpec(_Model):
    step_s: float = Field(0.004, gt=0, le=0.1)
    real_time_factor: float | None = Field(None, gt=0, description="None: as fast as possible")


class CellSpec(_Model):
    id: str = Field(pattern=r"^[A-Za-z0-9_]+$", description="namespace /cell_<id>")
    robot: RobotSpec = RobotSpec()
    station: StationSpec
    booth: BoothSpec
    conveyor: ConveyorSpec
    camera: CameraSpec
    lighting: LightingSpec = LightingSpec()
    feed: FeedSpec
    gun: GunSpec = GunSpec()


class WorldDoc(_Model):
    model_config = ConfigDict(extra="forbid", frozen=True, populate_by_name=True)

    schema_: Literal["coatshare.world/v1"] = Field(alias="schema")
    name: str = Field(min_length=1)
    seed: int = 0
    clock: ClockSpec = ClockSpec()
    cells: list[CellSpec] = Field(min_length=1)
    faults: list[FaultSpec] = Field(default_factory=list)
