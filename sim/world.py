"""The world file: YAML, ``schema: coatshare.world/v1``.

A world describes one or more cells (robot and its base pose, spray station, booth,
infeed conveyor, camera, lighting, part feed) and a fault schedule. Frames: world z up,
millimetres, the belt surface at z = 0 (the camera calibration uses the same frame).
Poses are ``{xyz_mm: [x, y, z], rpy_deg: [roll, pitch, yaw]}`` (URDF order: R = Rz Ry Rx)
or a 4x4 matrix. Numbers that the dataset draws per image (lighting, sensor noise) are a
value or a ``[low, high]`` range.

:func:`load_world` validates the document, then checks it against the things it refers
to (URDF, calibration, part specs) and against itself (the station and the camera's view
over the belt, the robot inside the booth, faults naming existing cells); every error names
the field path and the file.
"""

from __future__ import annotations

from dataclasses import dataclass
from importlib import resources
from pathlib import Path
from typing import Any

import numpy as np
import yaml
from pydantic import ValidationError

from recipes.errors import CoatshareError, InvalidInputError
from sim.camera import CameraCalibration
from sim.frames import BeltFrame
from sim.world_spec import (
    SCHEMA,
    SHIPPED_ROBOTS,
    BoothSpec,
    CameraSpec,
    CellSpec,
    ClockSpec,
    ConveyorSpec,
    FeedSpec,
    GunSpec,
    LightingSpec,
    Pose,
    PoseNoiseSpec,
    RobotSpec,
    StationSpec,
    WorldDoc,
)

__all__ = [
    "SCHEMA",
    "BoothSpec",
    "CameraSpec",
    "CellSpec",
    "CellWorld",
    "ClockSpec",
    "ConveyorSpec",
    "FeedSpec",
    "GunSpec",
    "LightingSpec",
    "Pose",
    "PoseNoiseSpec",
    "RobotSpec",
    "StationSpec",
    "World",
    "WorldDoc",
    "load_world",
    "loads_world",
    "parse_world",
]


@dataclass(frozen=True)
class CellWorld:
    """One cell with everything its file references resolved.

    Attributes
    ----------
    spec : CellSpec
    index : position in the world's cell list.
    urdf_path : Path
    calibration : CameraCalibration
    belt : BeltFrame
    station_s_mm, camera_s_mm : where the station and the camera's view centre lie along
        the belt.
    """

    spec: CellSpec
    index: int
    urdf_path: Path
    calibration: CameraCalibration
    belt: BeltFrame
    station_s_mm: float
    camera_s_mm: float

    @property
    def id(self) -> str:
        return self.spec.id

    @property
    def T_world_base(self) -> np.ndarray:
        return self.spec.robot.T_world_base.T

    @property
    def T_world_station(self) -> np.ndarray:
        return self.spec.station.T_world_part.T


@dataclass(frozen=True)
class World:
    """A validated world file and its resolved cells."""

    doc: WorldDoc
    cells: tuple[CellWorld, ...]
    source: str | None = None

    def cell(self, cell_id: str) -> CellWorld:
        for cell in self.cells:
            if cell.id == cell_id:
                return cell
        raise InvalidInputError(
            "cell", f"no cell '{cell_id}' (cells: {', '.join(c.id for c in self.cells)})"
        )


def _pydantic_error(exc: ValidationError, source: str | None) -> InvalidInputError:
    problems = []
    for err in exc.errors():
        loc = "".join(f"[{p}]" if isinstance(p, int) else f".{p}" for p in err["loc"])
        msg = err["msg"].removeprefix("Value error, ")
        problems.append((loc.lstrip(".") or "(root)", msg))
    field, reason = problems[0]
    if len(problems) > 1:
        reason += "; also " + "; ".join(f"{f}: {r}" for f, r in problems[1:4])
    return InvalidInputError(field, reason, source=source)


def load_world(path: str | Path) -> World:
    """Read and check a world file; raises :class:`InvalidInputError` naming the field."""
    path = Path(path)
    try:
        text = path.read_text(encoding="utf-8")
    except OSError as exc:
        raise InvalidInputError("path", f"cannot read: {exc.strerror}", source=str(path)) from None
    return loads_world(text, source=str(path), base_dir=path.parent)


def loads_world(text: str, source: str | None = None, base_dir: Path | None = None) -> World:
    try:
        data = yaml.safe_load(text)
    except yaml.YAMLError as exc:
        raise InvalidInputError("(root)", f"not YAML: {exc}", source=source) from None
    return parse_world(data, source=source, base_dir=base_dir)


def parse_world(data: Any, *, source: str | None = None, base_dir: Path | None = None) -> World:
    """Validate a world mapping (as read from YAML) and resolve what it references."""
    if not isinstance(data, dict):
        raise InvalidInputError("(root)", "expected a mapping", source=source)
    if data.get("schema") != SCHEMA:
        raise InvalidInputError(
            "schema", f"expected '{SCHEMA}', got {data.get('schema')!r}", source=source
        )
    try:
        doc = WorldDoc.model_validate(data)
    except ValidationError as exc:
        raise _pydantic_error(exc, source) from None
    base = base_dir or Path.cwd()
    ids = [c.id for c in doc.cells]
    for i, cell_id in enumerate(ids):
        if ids.index(cell_id) != i:
            raise InvalidInputError(f"cells[{i}].id", f"duplicate id '{cell_id}'", source=source)
    cells = tuple(_resolve_cell(spec, i, base, source) for i, spec in enumerate(doc.cells))
    for k, fault in enumerate(doc.faults):
        if fault.time_s is None and fault.part is None:
            raise InvalidInputError(
                f"faults[{k}]", f"a scheduled {fault.kind} needs time_s or part", source=source
            )
        if fault.cell is not None and fault.cell not in ids:
            raise InvalidInputError(
                f"faults[{k}].cell",
                f"no cell '{fault.cell}' (cells: {', '.join(ids)})",
                source=source,
            )
        if fault.kind == "wrong_part":
            _check_panel_spec(fault.spec, f"faults[{k}].wrong_part.spec", source)
    return World(doc, cells, source)


def _resolve_cell(spec: CellSpec, i: int, base: Path, source: str | None) -> CellWorld:
    where = f"cells[{i}]"
    urdf = _resolve_urdf(spec.robot.urdf, base, f"{where}.robot.urdf", source)
    calibration = _resolve_calibration(spec.camera.calibration, base, where, source)
    belt = spec.conveyor.frame
    (_, entry_end), (exit_start, _) = spec.conveyor.entry_zone_mm, spec.conveyor.exit_zone_mm
    half = 0.5 * spec.conveyor.width_mm
    # the robot stands in its booth
    base_xyz = spec.robot.T_world_base.T[:3, 3]
    if not spec.booth.contains(base_xyz):
        raise InvalidInputError(
            f"{where}.robot.T_world_base",
            f"robot base at {_fmt(base_xyz)} mm is outside the booth",
            source=source,
        )
    # the station holds the part level, over the belt, inside the booth
    T_station = spec.station.T_world_part.T
    field = f"{where}.station.T_world_part"
    if abs(T_station[2, 2] - 1.0) > 1e-9:
        raise InvalidInputError(field, "must be level (its z axis straight up)", source=source)
    if T_station[2, 3] < 0:
        raise InvalidInputError(
            field, "must not lie below the belt surface (z >= 0)", source=source
        )
    if not spec.booth.contains(T_station[:3, 3]):
        raise InvalidInputError(
            field, f"station at {_fmt(T_station[:3, 3])} mm is outside the booth", source=source
        )
    s_station, l_station = belt.to_belt(T_station[None, :2, 3])[0]
    if not (entry_end <= s_station <= exit_start and abs(l_station) <= half):
        raise InvalidInputError(
            field,
            f"station at {_fmt(T_station[:2, 3])} mm is not over the belt between the entry "
            f"and exit zones (along {s_station:.0f} mm, across {l_station:.0f} mm)",
            source=source,
        )
    # the camera looks at the belt before the station
    try:
        view = calibration.view_point_mm()
    except InvalidInputError as exc:
        raise InvalidInputError(
            f"{where}.camera.calibration.T_world_camera", exc.reason, source=source
        ) from None
    s_cam, l_cam = belt.to_belt(view[None, :2])[0]
    if not (entry_end <= s_cam <= s_station and abs(l_cam) <= half):
        raise InvalidInputError(
            f"{where}.camera.calibration.T_world_camera",
            f"the camera looks at {_fmt(view[:2])} mm, which is not on the belt between the "
            f"entry zone and the station (along {s_cam:.0f} mm, across {l_cam:.0f} mm)",
            source=source,
        )
    for j, part_spec in enumerate(spec.feed.sequence):
        _check_panel_spec(part_spec, f"{where}.feed.sequence[{j}]", source)
    for j, part_spec in enumerate(spec.feed.wrong_parts):
        _check_panel_spec(part_spec, f"{where}.feed.wrong_parts[{j}]", source)
    return CellWorld(spec, i, urdf, calibration, belt, float(s_station), float(s_cam))


def _resolve_urdf(name: str, base: Path, field: str, source: str | None) -> Path:
    if name in SHIPPED_ROBOTS:
        package, rel = SHIPPED_ROBOTS[name]
        path = Path(str(resources.files(package).joinpath(rel)))
    else:
        path = Path(name)
        if not path.is_absolute():
            path = base / path
    if not path.is_file():
        known = ", ".join(SHIPPED_ROBOTS)
        raise InvalidInputError(
            field, f"no URDF at {path} (shipped robots: {known})", source=source
        )
    return path


def _resolve_calibration(
    value: str | dict, base: Path, where: str, source: str | None
) -> CameraCalibration:
    field = f"{where}.camera.calibration"
    if isinstance(value, dict):
        try:
            return CameraCalibration.from_dict(value)
        except InvalidInputError as exc:
            raise InvalidInputError(f"{field}.{exc.field}", exc.reason, source=source) from None
    path = Path(value)
    if not path.is_absolute():
        path = base / path
    try:
        return CameraCalibration.load(path)
    except InvalidInputError as exc:
        sub = "" if exc.field == "path" else f".{exc.field}"
        raise InvalidInputError(f"{field}{sub}", f"{path}: {exc.reason}", source=source) from None


def _check_panel_spec(spec: str, field: str, source: str | None) -> None:
    from recipes.parts.loader import load_part
    from recipes.parts.panel import PanelPart

    try:
        part, _ = load_part(spec)
    except CoatshareError as exc:
        raise InvalidInputError(field, str(exc), source=source) from None
    if not isinstance(part, PanelPart):
        raise InvalidInputError(
            field,
            f"'{spec}' is a mesh part; meshes are sprayed hanging, not fed on the belt",
            source=source,
        )


def _fmt(p: np.ndarray) -> str:
    return "(" + ", ".join(f"{v:.0f}" for v in p) + ")"
