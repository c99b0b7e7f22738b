"""Flat panels from and to DXF drawings.

A panel drawing holds closed contours in the xy plane: closed LWPOLYLINE / POLYLINE
entities (straight segments and bulge arcs) and CIRCLE entities. The contour with the
largest area is the outer outline, every other contour is a hole inside it. Arcs are
turned into chords whose distance from the true arc stays below ``arc_tolerance_mm``.
Drawing units come from the ``$INSUNITS`` header variable (unitless means mm).
"""

from __future__ import annotations

import math
import os
from dataclasses import dataclass
from pathlib import Path

import ezdxf
import numpy as np
import shapely
from ezdxf.entities import Circle, DXFEntity, LWPolyline, Polyline
from shapely.geometry import LinearRing, Polygon

from recipes.errors import InvalidInputError, NotFoundError
from recipes.parts.panel import PanelPart

#: ``$INSUNITS`` code -> millimetres per drawing unit (0 = unitless, read as mm)
INSUNITS_TO_MM: dict[int, float] = {0: 1.0, 1: 25.4, 2: 304.8, 4: 1.0, 5: 10.0, 6: 1000.0}
#: ``$INSUNITS`` code written by :func:`save_dxf`
INSUNITS_MM = 4
#: layer of the contours written by :func:`save_dxf`
SAVE_LAYER = "OUTLINE"
#: points closer than this (drawing units) are merged
_SAME_POINT = 1e-9
#: largest angle (rad) one chord may span, whatever the tolerance
_MAX_STEP_RAD = math.pi / 4
#: vertex flag of spline frame control points, which are not on the curve
_SPLINE_FRAME_CONTROL_POINT = 16


@dataclass(frozen=True)
class _Contour:
    """One closed contour read from the drawing, in mm."""

    handle: str
    polygon: Polygon


def load_dxf(
    path: str | os.PathLike[str],
    thickness_mm: float,
    *,
    name: str | None = None,
    layer: str | None = None,
    arc_tolerance_mm: float = 0.05,
) -> PanelPart:
    """Read a panel outline with holes from a DXF file.

    Parameters
    ----------
    path : DXF file.
    thickness_mm : panel thickness.
    name : part name; defaults to the file name without suffix.
    layer : read only entities on this layer (all layers if None).
    arc_tolerance_mm : largest distance between an arc (bulge or circle) and its chords.

    Returns
    -------
    PanelPart
        Outline in mm, exterior CCW and holes CW, ``source="dxf:<path>"``.

    Raises
    ------
    NotFoundError
        The file does not exist.
    InvalidInputError
        Unreadable file, unknown units, an open or self-intersecting contour, no closed
        contour, a contour outside the outer outline or overlapping holes. ``source`` is
        the file, ``field`` names the entity (``entity[<handle>]``) where there is one.
    """
    src = str(path)
    if not (arc_tolerance_mm > 0 and math.isfinite(arc_tolerance_mm)):
        raise InvalidInputError(
            "arc_tolerance_mm", f"must be > 0, got {arc_tolerance_mm}", source=src
        )
    if not Path(path).is_file():
        raise NotFoundError("DXF file", src)
    try:
        doc = ezdxf.readfile(path)
    except (OSError, ezdxf.DXFError, UnicodeDecodeError) as exc:
        raise InvalidInputError("file", f"not a readable DXF file: {exc}", source=src) from None

    insunits = int(doc.header.get("$INSUNITS", 0))
    if insunits not in INSUNITS_TO_MM:
        raise InvalidInputError(
            "header.$INSUNITS",
            f"unsupported drawing units code {insunits} "
            f"(supported: {sorted(INSUNITS_TO_MM)}: unitless, in, ft, mm, cm, m)",
            source=src,
        )
    scale = INSUNITS_TO_MM[insunits]
    tolerance = arc_tolerance_mm / scale

    contours: list[_Contour] = []
    for entity in doc.modelspace().query("LWPOLYLINE POLYLINE CIRCLE"):
        if layer is not None and entity.dxf.layer.casefold() != layer.casefold():
            continue  # layer names are case-insensitive in DXF
        xy = _entity_points(entity, tolerance, src)
        if xy is not None:
            contours.append(_make_contour(entity.dxf.handle, xy * scale, src))
    if not contours:
        where = f" on layer '{layer}'" if layer is not None else ""
        raise InvalidInputError(
            "entities",
            f"no closed contour found{where} (closed LWPOLYLINE, POLYLINE or CIRCLE)",
            source=src,
        )

    outer, holes = _split_outer(contours, src)
    polygon = Polygon(outer.polygon.exterior.coords, [h.polygon.exterior.coords for h in holes])
    params = dict(
        path=src,
        layer=layer,
        insunits=insunits,
        mm_per_unit=scale,
        arc_tolerance_mm=arc_tolerance_mm,
        outer_handle=outer.handle,
        hole_handles=[h.handle for h in holes],
    )
    return PanelPart.create(
        name if name is not None else Path(path).stem,
        polygon,
        thickness_mm,
        source=f"dxf:{src}",
        params=params,
    )


def save_dxf(part: PanelPart, path: str | os.PathLike[str]) -> None:
    """Write a panel's outline and holes as closed LWPOLYLINEs in mm (``$INSUNITS`` = 4).

    The vertices are written as they are (no arcs), so :func:`load_dxf` gives back the
    same polygon. The thickness is not stored in the drawing.
    """
    doc = ezdxf.new("R2010", setup=False)
    doc.header["$INSUNITS"] = INSUNITS_MM
    doc.header["$MEASUREMENT"] = 1  # metric
    doc.layers.add(SAVE_LAYER)
    msp = doc.modelspace()
    for ring in [part.outline.exterior, *part.outline.interiors]:
        coords = np.asarray(ring.coords)[:-1, :2]
        msp.add_lwpolyline(
            coords.tolist(), format="xy", close=True, dxfattribs={"layer": SAVE_LAYER}
        )
    doc.saveas(path)


def _entity_points(entity: DXFEntity, tolerance: float, src: str) -> np.ndarray | None:
    """(M, 2) flattened contour of one entity in drawing units, None if not a contour."""
    handle = entity.dxf.handle
    if isinstance(entity, Circle):
        _check_flat(entity, handle, src)
        center = entity.dxf.center
        xy = _circle_points(center.x, center.y, float(entity.dxf.radius), tolerance)
        return _ocs_to_wcs_xy(entity, xy)
    if isinstance(entity, LWPolyline):
        _check_flat(entity, handle, src)
        xyb = np.asarray(entity.get_points("xyb"), dtype=float).reshape(-1, 3)
        closed = bool(entity.closed)
        in_ocs = True
    elif isinstance(entity, Polyline):
        if not (entity.is_2d_polyline or entity.is_3d_polyline):
            return None  # polyface and polygon meshes are not contours
        vertices = [v for v in entity.vertices if not v.dxf.flags & _SPLINE_FRAME_CONTROL_POINT]
        xyz = np.array([tuple(v.dxf.location) for v in vertices], dtype=float).reshape(-1, 3)
        bulges = np.array([v.dxf.get("bulge", 0.0) for v in vertices], dtype=float)
        if entity.is_3d_polyline and np.ptp(xyz[:, 2], initial=0.0) > tolerance:
            raise InvalidInputError(
                f"entity[{handle}]", "3D polyline is not flat in the xy plane", source=src
            )
        if entity.is_2d_polyline:
            _check_flat(entity, handle, src)
        xyb = np.column_stack([xyz[:, :2], bulges])
        closed = bool(entity.is_closed)
        in_ocs = entity.is_2d_polyline
    else:
        return None

    if xyb.shape[0] >= 2 and np.all(np.abs(xyb[0, :2] - xyb[-1, :2]) <= _SAME_POINT):
        xyb = xyb[:-1]  # explicitly repeated start point: closed without the flag
        closed = True
    if not closed:
        raise InvalidInputError(f"entity[{handle}]", "polyline is not closed", source=src)
    xy = _flatten_bulges(xyb[:, :2], xyb[:, 2], tolerance)
    return _ocs_to_wcs_xy(entity, xy) if in_ocs else xy


def _check_flat(entity: DXFEntity, handle: str, src: str) -> None:
    """Refuse entities whose plane (extrusion direction) is not parallel to xy."""
    extrusion = entity.dxf.get("extrusion", (0.0, 0.0, 1.0))
    if abs(extrusion[0]) > 1e-9 or abs(extrusion[1]) > 1e-9:
        raise InvalidInputError(
            f"entity[{handle}]",
            f"contour is not in the xy plane (extrusion {tuple(extrusion)})",
            source=src,
        )


def _ocs_to_wcs_xy(entity: DXFEntity, xy: np.ndarray) -> np.ndarray:
    """Object coordinates to world xy: an extrusion of -z mirrors x."""
    extrusion = entity.dxf.get("extrusion", (0.0, 0.0, 1.0))
    if extrusion[2] < 0:
        return np.column_stack([-xy[:, 0], xy[:, 1]])
    return xy


def _arc_step_rad(radius: float, tolerance: float) -> float:
    """Largest angle one chord may span on a circle of ``radius`` within ``tolerance``."""
    if tolerance >= radius:
        return _MAX_STEP_RAD
    return min(_MAX_STEP_RAD, 2.0 * math.acos(1.0 - tolerance / radius))


def _circle_points(cx: float, cy: float, radius: float, tolerance: float) -> np.ndarray:
    """(M, 2) CCW points on a circle, chord error below ``tolerance``."""
    n = max(8, math.ceil(2.0 * math.pi / _arc_step_rad(radius, tolerance)))
    angles = 2.0 * math.pi * np.arange(n) / n
    return np.column_stack([cx + radius * np.cos(angles), cy + radius * np.sin(angles)])


def _arc_interior(p0: np.ndarray, p1: np.ndarray, bulge: float, tolerance: float) -> np.ndarray:
    """(M, 2) points strictly between ``p0`` and ``p1`` on the bulge arc between them.

    ``bulge`` = tan(sweep / 4); positive sweeps counter-clockwise from ``p0`` to ``p1``.
    """
    chord = p1 - p0
    length = float(np.hypot(*chord))
    if bulge == 0.0 or length <= _SAME_POINT:
        return np.zeros((0, 2))
    sweep = 4.0 * math.atan(bulge)
    radius = length / (2.0 * abs(math.sin(sweep / 2.0)))
    left = np.array([-chord[1], chord[0]]) / length
    center = 0.5 * (p0 + p1) + left * (0.5 * length / math.tan(sweep / 2.0))
    n = max(1, math.ceil(abs(sweep) / _arc_step_rad(radius, tolerance)))
    start = math.atan2(p0[1] - center[1], p0[0] - center[0])
    angles = start + sweep * np.arange(1, n) / n
    return center + radius * np.column_stack([np.cos(angles), np.sin(angles)])


def _flatten_bulges(xy: np.ndarray, bulges: np.ndarray, tolerance: float) -> np.ndarray:
    """Closed polyline with bulges -> (M, 2) points (the start point is not repeated).

    Parameters
    ----------
    xy : (N, 2) vertices.
    bulges : (N,) bulge of the segment from vertex i to vertex i + 1 (cyclic).
    """
    n = xy.shape[0]
    pieces: list[np.ndarray] = []
    for i in range(n):
        pieces.append(xy[i : i + 1])
        if bulges[i] != 0.0:
            pieces.append(_arc_interior(xy[i], xy[(i + 1) % n], float(bulges[i]), tolerance))
    return np.concatenate(pieces) if pieces else np.zeros((0, 2))


def _make_contour(handle: str, xy: np.ndarray, src: str) -> _Contour:
    """Check one closed contour (M, 2) in mm: enough points, not self-intersecting."""
    field = f"entity[{handle}]"
    if xy.shape[0] > 1:
        step = np.abs(np.diff(xy, axis=0, append=xy[:1])).max(axis=1)
        xy = xy[step > _SAME_POINT]  # drop repeated points (and a repeated start)
    if xy.shape[0] < 3:
        raise InvalidInputError(field, "contour has fewer than 3 distinct points", source=src)
    ring = LinearRing(xy)
    if not ring.is_simple:
        raise InvalidInputError(field, "contour is self-intersecting", source=src)
    polygon = Polygon(ring)
    if not polygon.area > 0:
        raise InvalidInputError(field, "contour encloses no area", source=src)
    return _Contour(handle, polygon)


def _split_outer(contours: list[_Contour], src: str) -> tuple[_Contour, list[_Contour]]:
    """Largest contour = outer outline; the others must be disjoint holes inside it."""
    outer_index = max(range(len(contours)), key=lambda i: contours[i].polygon.area)
    outer = contours[outer_index]
    holes = [c for i, c in enumerate(contours) if i != outer_index]
    for hole in holes:
        if outer.polygon.contains_properly(hole.polygon):
            continue
        if outer.polygon.intersects(hole.polygon):
            reason = f"contour crosses or touches the outer outline entity[{outer.handle}]"
        else:
            reason = f"contour lies outside the outer outline entity[{outer.handle}]"
        raise InvalidInputError(f"entity[{hole.handle}]", reason, source=src)
    if len(holes) > 1:
        polygons = [h.polygon for h in holes]
        left, right = shapely.STRtree(polygons).query(polygons, predicate="intersects")
        pairs = sorted((int(i), int(j)) for i, j in zip(left, right, strict=True) if i < j)
        if pairs:
            i, j = pairs[0]
            raise InvalidInputError(
                f"entity[{holes[i].handle}]",
                f"hole overlaps or touches hole entity[{holes[j].handle}]",
                source=src,
            )
    return outer, holes
