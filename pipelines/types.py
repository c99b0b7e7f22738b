"""Port types: what flows along a wire, and which outputs may feed which inputs.

The types name domain things (an image, a part pose, a spray program), not Python classes:
the cloud validates documents without the vision or simulator code, and the process that
runs a pipeline brings the value classes with its block implementations. Only the three
scalar types are checked at run time (``Bool`` is a ``bool``, ``Number`` an ``int`` or
``float``, ``Text`` a ``str``).

Compatibility (``compatible(src, dst)``), in full:

- a type feeds itself;
- ``Bool`` feeds ``Number`` (a flag is a 0/1 number);
- anything feeds ``Any`` (record, notify, the value a branch looks at);
- an ``Any`` output (a pass-through whose source is unknown) feeds anything; the runner
  still checks scalars when the value arrives.

Nothing else converts: an ``Outline`` is not a ``PartPose``, a ``Recipe`` is not a
``SprayProgram`` (``recipe.fit`` makes one from the other).
"""

from __future__ import annotations

from enum import StrEnum

import numpy as np


class PortType(StrEnum):
    IMAGE = "Image"
    CAMERA_CALIBRATION = "CameraCalibration"
    PART_SPEC = "PartSpec"
    PART_POSE = "PartPose"
    OUTLINE = "Outline"
    RECIPE = "Recipe"
    SPRAY_PROGRAM = "SprayProgram"
    THICKNESS_MAP = "ThicknessMap"
    QC_REPORT = "QCReport"
    BOOL = "Bool"
    NUMBER = "Number"
    TEXT = "Text"
    ANY = "Any"


#: what each type means, for the catalog and the editor's tooltips
TYPE_DESCRIPTIONS: dict[PortType, str] = {
    PortType.IMAGE: "a camera image: (H, W) or (H, W, 3) pixels with its capture time",
    PortType.CAMERA_CALIBRATION: "intrinsics and the camera pose in the cell base frame",
    PortType.PART_SPEC: "the expected part: template or drawing reference, size, holes",
    PortType.PART_POSE: "where the part lies: T_base_part (4x4, mm) on the conveyor",
    PortType.OUTLINE: "the part's real outline as seen by the camera, in the part frame (mm)",
    PortType.RECIPE: "an approved recipe version (program in the part frame, gun, finish)",
    PortType.SPRAY_PROGRAM: "a spray program fitted to this part, ready for the cell",
    PortType.THICKNESS_MAP: "film thickness over the part surface (dry µm), predicted or measured",
    PortType.QC_REPORT: "quality figures of one part: coverage, within tolerance, overspray",
    PortType.BOOL: "true or false",
    PortType.NUMBER: "a number (int or float)",
    PortType.TEXT: "a short text",
    PortType.ANY: "any value (only for blocks that pass, record or show data unchanged)",
}

#: types whose values get a thumbnail in the trace
THUMBNAIL_TYPES = frozenset({PortType.IMAGE, PortType.THICKNESS_MAP})

_WIDENS: dict[PortType, frozenset[PortType]] = {PortType.BOOL: frozenset({PortType.NUMBER})}


def compatible(src: PortType, dst: PortType) -> bool:
    """Whether an output of type ``src`` may be wired into an input of type ``dst``."""
    if src == dst or dst is PortType.ANY or src is PortType.ANY:
        return True
    return dst in _WIDENS.get(src, frozenset())


def check_value(port_type: PortType, value: object) -> str | None:
    """Why ``value`` cannot travel on a port of ``port_type`` (scalars only), or None."""
    if port_type is PortType.BOOL:
        ok = isinstance(value, bool | np.bool_)
    elif port_type is PortType.NUMBER:
        ok = isinstance(value, int | float | np.integer | np.floating)
    elif port_type is PortType.TEXT:
        ok = isinstance(value, str)
    else:
        return None
    if ok:
        return None
    return f"expects {port_type.value}, got {type(value).__name__}"
