"""Cell configuration: station pose, workspace, limits, timeouts, keys and recipes.

A cell's YAML file (``schema: coatshare.cell/v1``) is laid over
``robot_nodes/config/cell_default.yaml`` key by key, so it only needs what differs. See that
file for every setting and its unit.
"""

from __future__ import annotations

import math
import re
from pathlib import Path
from typing import Any, Literal

import numpy as np
import yaml
from pydantic import BaseModel, ConfigDict, Field, ValidationError, field_validator
from scipy.spatial.transform import Rotation

from recipes.errors import InvalidInputError

CONFIG_DIR = Path(__file__).resolve().parents[1] / "config"
DEFAULT_CONFIG = CONFIG_DIR / "cell_default.yaml"
SCHEMA = "coatshare.cell/v1"
INTERLOCK_SIGNALS = ("estop", "door_closed", "paint_pressure_ok", "booth_airflow_ok")
"""Interlock signals (fields of ``coatshare_interfaces/Interlocks``); the safe value is False
for ``estop`` and True for the others."""

_CELL_ID = re.compile(r"^[A-Za-z0-9_]+$")


class _Model(BaseModel):
    model_config = ConfigDict(extra="forbid", frozen=True)


class PoseConfig(_Model):
    xyz_mm: tuple[float, float, float]
    rpy_deg: tuple[float, float, float] = (0.0, 0.0, 0.0)

    def matrix(self) -> np.ndarray:
        """4x4 transform in metres: ``Trans(xyz) Rz(yaw) Ry(pitch) Rx(roll)``."""
        T = np.eye(4)
        T[:3, :3] = Rotation.from_euler("ZYX", self.rpy_deg[::-1], degrees=True).as_matrix()
        T[:3, 3] = np.asarray(self.xyz_mm) / 1000.0
        return T


class StationConfig(_Model):
    T_base_part: PoseConfig
    placement_tolerance_mm: float = Field(50.0, ge=0)
    placement_tolerance_deg: float = Field(10.0, ge=0)
    match_tolerance_mm: float = Field(0.5, gt=0)
    match_tolerance_deg: float = Field(0.5, gt=0)


class WorkspaceConfig(_Model):
    min_mm: tuple[float, float, float]
    max_mm: tuple[float, float, float]

    def model_post_init(self, _context: Any) -> None:
        if any(lo >= hi for lo, hi in zip(self.min_mm, self.max_mm, strict=True)):
            raise ValueError(f"min_mm {self.min_mm} must be below max_mm {self.max_mm}")


class LimitsConfig(_Model):
    max_tool_speed_mm_s: float = Field(1500.0, gt=0)
    max_tool_acc_mm_s2: float = Field(5000.0, gt=0)
    speed_tolerance: float = Field(0.02, gt=0, lt=1)
    speed_deviation_policy: Literal["reject", "warn"] = "reject"
    max_duration_factor: float = Field(4.0, gt=1)


class ExecutionConfig(_Model):
    approach_speed_scale: float = Field(0.5, gt=0, le=1)
    tracking_error_limit_mm: float = Field(10.0, gt=0)
    max_lag_s: float = Field(0.5, gt=0)
    joint_states_timeout_s: float = Field(0.5, gt=0)
    driver_timeout_s: float = Field(2.0, gt=0)
    settle_timeout_s: float = Field(3.0, gt=0)
    goal_tolerance_mm: float = Field(1.0, gt=0)
    stall_speed_fraction: float = Field(0.5, ge=0, lt=1)
    stall_time_s: float = Field(0.1, gt=0)
    auto_start: bool = True
    program_max_age_s: float = Field(300.0, ge=0)
    status_period_s: float = Field(0.25, gt=0)
    cell_state_period_s: float = Field(0.5, gt=0)
    tick_period_s: float = Field(0.002, gt=0)


class GunConfig(_Model):
    on_latency_s: float = Field(0.040, ge=0)
    off_latency_s: float = Field(0.030, ge=0)
    max_lag_compensation_s: float = Field(0.2, ge=0)


class LockstepConfig(_Model):
    lookahead_s: float = Field(0.016, ge=0)


class InterlockConfig(_Model):
    required: tuple[str, ...] = INTERLOCK_SIGNALS
    timeout_s: float = Field(1.0, ge=0)

    @field_validator("required")
    @classmethod
    def _known(cls, value: tuple[str, ...]) -> tuple[str, ...]:
        unknown = [v for v in value if v not in INTERLOCK_SIGNALS]
        if unknown:
            raise ValueError(f"unknown {unknown}, known: {list(INTERLOCK_SIGNALS)}")
        return value


class CellConfig(_Model):
    """Everything a cell controller is configured with (see ``cell_default.yaml``)."""

    schema_: Literal["coatshare.cell/v1"] = Field(SCHEMA, alias="schema")
    cell_id: str
    robot: Literal["painter6"] = "painter6"
    base_frame: str = "base_link"
    part_frame: str = "part"
    station: StationConfig
    workspace: WorkspaceConfig
    limits: LimitsConfig = LimitsConfig()
    execution: ExecutionConfig = ExecutionConfig()
    gun: GunConfig = GunConfig()
    interlocks: InterlockConfig = InterlockConfig()
    legacy_topics: bool = True
    use_sim_time: bool = False
    lockstep: LockstepConfig = LockstepConfig()
    approval_key: Path | None = None
    recipe_dir: Path | None = None

    model_config = ConfigDict(extra="forbid", frozen=True, populate_by_name=True)

    @field_validator("cell_id")
    @classmethod
    def _cell_id(cls, value: str) -> str:
        if not _CELL_ID.match(value):
            raise ValueError(f"'{value}' must be letters, digits and '_'")
        return value

    @property
    def namespace(self) -> str:
        """ROS 2 namespace of the cell, ``/cell_<id>``."""
        return f"/cell_{self.cell_id}"

    @property
    def T_base_part(self) -> np.ndarray:
        """Nominal pose of the station's part frame in the robot base frame (4x4, m)."""
        return self.station.T_base_part.matrix()

    @property
    def workspace_m(self) -> tuple[np.ndarray, np.ndarray]:
        """(lower, upper) corners of the TCP box, metres."""
        return np.asarray(self.workspace.min_mm) / 1000.0, np.asarray(
            self.workspace.max_mm
        ) / 1000.0

    @property
    def match_tolerance_rad(self) -> float:
        return math.radians(self.station.match_tolerance_deg)


def _deep_merge(base: dict[str, Any], over: dict[str, Any]) -> dict[str, Any]:
    out = dict(base)
    for key, value in over.items():
        if isinstance(value, dict) and isinstance(out.get(key), dict):
            out[key] = _deep_merge(out[key], value)
        else:
            out[key] = value
    return out


def _read_yaml(path: Path) -> dict[str, Any]:
    try:
        data = yaml.safe_load(path.read_text(encoding="utf-8"))
    except OSError as exc:
        raise InvalidInputError("path", f"cannot read: {exc.strerror}", source=str(path)) from None
    except yaml.YAMLError as exc:
        raise InvalidInputError("(yaml)", f"not valid YAML: {exc}", source=str(path)) from None
    if data is None:
        return {}
    if not isinstance(data, dict):
        raise InvalidInputError("(root)", "expected a mapping", source=str(path))
    return data


def _resolve_paths(data: dict[str, Any], folder: Path) -> None:
    for key in ("approval_key", "recipe_dir"):
        value = data.get(key)
        if value is not None and not Path(value).is_absolute():
            data[key] = str(folder / value)


def load_cell_config(path: str | Path | None = None, **overrides: Any) -> CellConfig:
    """Load a cell configuration over the defaults.

    Parameters
    ----------
    path : path, optional
        The cell's YAML file; the defaults alone when None.
    **overrides
        Top-level values that win over the files (e.g. ``cell_id="c2"``,
        ``approval_key=Path(...)``); None values are ignored.

    Raises
    ------
    InvalidInputError
        Naming the file and the setting that is wrong.
    """
    data = _read_yaml(DEFAULT_CONFIG)
    _resolve_paths(data, DEFAULT_CONFIG.parent)
    source = str(DEFAULT_CONFIG)
    if path is not None:
        path = Path(path)
        own = _read_yaml(path)
        if own.get("schema", SCHEMA) != SCHEMA:
            raise InvalidInputError(
                "schema", f"expected '{SCHEMA}', got {own.get('schema')!r}", source=str(path)
            )
        _resolve_paths(own, path.parent)
        data = _deep_merge(data, own)
        source = str(path)
    for key, value in overrides.items():
        if value is not None:
            data[key] = str(value) if isinstance(value, Path) else value
    try:
        return CellConfig.model_validate(data)
    except ValidationError as exc:
        err = exc.errors()[0]
        loc = ".".join(str(p) for p in err["loc"]) or "(root)"
        raise InvalidInputError(loc, err["msg"], source=source) from None


__all__ = [
    "CONFIG_DIR",
    "DEFAULT_CONFIG",
    "INTERLOCK_SIGNALS",
    "CellConfig",
    "ExecutionConfig",
    "GunConfig",
    "InterlockConfig",
    "LimitsConfig",
    "LockstepConfig",
    "PoseConfig",
    "StationConfig",
    "WorkspaceConfig",
    "load_cell_config",
]
