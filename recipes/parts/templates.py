"""Parametric panel templates and the standard part set.

A template spec on the command line is ``name`` or ``name:key=value,key=value``, e.g.
``rect:width_mm=500,height_mm=300,thickness_mm=19,corner_radius_mm=5``.
"""

from __future__ import annotations

import inspect
import math
from collections.abc import Callable

from shapely.geometry import Point, Polygon, box

from recipes.errors import InvalidInputError, NotFoundError
from recipes.parts.panel import PanelPart

#: maximum chord error (mm) when arcs are turned into polygon edges
ARC_TOLERANCE_MM = 0.05


def _arc_segments(radius_mm: float) -> int:
    """Segments per quarter circle keeping the chord error below ARC_TOLERANCE_MM."""
    if radius_mm <= ARC_TOLERANCE_MM:
        return 1
    step = 2.0 * math.acos(1.0 - ARC_TOLERANCE_MM / radius_mm)
    return max(2, int(math.ceil((math.pi / 2) / step)))


def _rounded_rect(cx: float, cy: float, w: float, h: float, r: float) -> Polygon:
    if r < 0 or 2 * r > min(w, h):
        raise InvalidInputError(
            "part.corner_radius_mm", f"must be in [0, {min(w, h) / 2:g}], got {r:g}"
        )
    core = box(cx - w / 2 + r, cy - h / 2 + r, cx + w / 2 - r, cy + h / 2 - r)
    if r == 0:
        return box(cx - w / 2, cy - h / 2, cx + w / 2, cy + h / 2)
    return core.buffer(r, quad_segs=_arc_segments(r))


def _positive(**values: float) -> None:
    for key, value in values.items():
        if not (value > 0 and math.isfinite(value)):
            raise InvalidInputError(f"part.{key}", f"must be > 0, got {value}")


def rect(
    width_mm: float = 600.0,
    height_mm: float = 400.0,
    thickness_mm: float = 18.0,
    corner_radius_mm: float = 0.0,
) -> PanelPart:
    """Rectangle (door, panel), optionally with rounded corners; origin at the lower left."""
    _positive(width_mm=width_mm, height_mm=height_mm)
    outline = _rounded_rect(width_mm / 2, height_mm / 2, width_mm, height_mm, corner_radius_mm)
    params = dict(
        width_mm=width_mm,
        height_mm=height_mm,
        thickness_mm=thickness_mm,
        corner_radius_mm=corner_radius_mm,
    )
    return PanelPart.create(
        f"rect_{width_mm:g}x{height_mm:g}", outline, thickness_mm, "template:rect", params
    )


def round_top(diameter_mm: float = 800.0, thickness_mm: float = 25.0) -> PanelPart:
    """Round table top; centre at (r, r) so the part frame starts at the origin."""
    _positive(diameter_mm=diameter_mm)
    r = diameter_mm / 2
    outline = Point(r, r).buffer(r, quad_segs=_arc_segments(r))
    return PanelPart.create(
        f"round_top_D{diameter_mm:g}",
        outline,
        thickness_mm,
        "template:round_top",
        dict(diameter_mm=diameter_mm, thickness_mm=thickness_mm),
    )


def cutout_panel(
    width_mm: float = 400.0,
    height_mm: float = 400.0,
    thickness_mm: float = 18.0,
    cutout_width_mm: float = 150.0,
    cutout_height_mm: float = 150.0,
    cutout_x_mm: float | None = None,
    cutout_y_mm: float | None = None,
    cutout_radius_mm: float = 0.0,
) -> PanelPart:
    """Panel with one rectangular cut-out (centred unless placed)."""
    _positive(
        width_mm=width_mm,
        height_mm=height_mm,
        cutout_width_mm=cutout_width_mm,
        cutout_height_mm=cutout_height_mm,
    )
    cx = width_mm / 2 if cutout_x_mm is None else cutout_x_mm
    cy = height_mm / 2 if cutout_y_mm is None else cutout_y_mm
    outer = _rounded_rect(width_mm / 2, height_mm / 2, width_mm, height_mm, 0.0)
    hole = _rounded_rect(cx, cy, cutout_width_mm, cutout_height_mm, cutout_radius_mm)
    if not outer.buffer(-1.0).contains(hole):
        raise InvalidInputError(
            "part.cutout",
            "the cut-out (cutout_x_mm, cutout_y_mm, cutout_width_mm, cutout_height_mm) must "
            "lie inside the panel, 1 mm clear",
        )
    params = dict(
        width_mm=width_mm,
        height_mm=height_mm,
        thickness_mm=thickness_mm,
        cutout_width_mm=cutout_width_mm,
        cutout_height_mm=cutout_height_mm,
        cutout_x_mm=cx,
        cutout_y_mm=cy,
        cutout_radius_mm=cutout_radius_mm,
    )
    return PanelPart.create(
        f"cutout_{width_mm:g}x{height_mm:g}",
        outer.difference(hole),
        thickness_mm,
        "template:cutout_panel",
        params,
    )


TEMPLATES: dict[str, Callable[..., PanelPart]] = {
    "rect": rect,
    "round_top": round_top,
    "cutout_panel": cutout_panel,
}

#: the standard part set (benchmarks, demo): name -> (template, parameters)
STANDARD_PANELS: dict[str, tuple[str, dict[str, float]]] = {
    "door": ("rect", dict(width_mm=600, height_mm=400, thickness_mm=18)),
    "tall_panel": ("rect", dict(width_mm=2000, height_mm=600, thickness_mm=18)),
    "cutout_panel": (
        "cutout_panel",
        dict(
            width_mm=400, height_mm=400, thickness_mm=18, cutout_width_mm=150, cutout_height_mm=150
        ),
    ),
    "round_top": ("round_top", dict(diameter_mm=800, thickness_mm=25)),
}


def parse_template_spec(spec: str) -> tuple[str, dict[str, float]]:
    """``name[:k=v,...]`` -> (template name, parameters); standard names expand."""
    name, _, rest = spec.partition(":")
    if name in STANDARD_PANELS:
        template, params = STANDARD_PANELS[name]
        params = dict(params)
    elif name in TEMPLATES:
        template, params = name, {}
    else:
        raise NotFoundError("part template", name, sorted(set(TEMPLATES) | set(STANDARD_PANELS)))
    params.update(parse_params(rest))
    return template, params


def parse_params(text: str) -> dict[str, float]:
    """``k=v,k=v`` -> {k: float(v)}, errors naming ``part.<k>``."""
    params: dict[str, float] = {}
    for item in filter(None, text.split(",")):
        key, eq, value = item.partition("=")
        key = key.strip()
        if not eq:
            raise InvalidInputError(f"part.{key}", "expected key=value")
        try:
            params[key] = float(value)
        except ValueError:
            raise InvalidInputError(f"part.{key}", f"not a number: {value!r}") from None
    return params


def check_template_params(template: str, func: Callable, params: dict) -> None:
    """Unknown parameters name themselves: ``part.<key>``."""
    known = list(inspect.signature(func).parameters)
    for key in params:
        if key not in known:
            raise InvalidInputError(
                f"part.{key}", f"not a parameter of '{template}' (known: {', '.join(known)})"
            )


def make_template(template: str, params: dict[str, float]) -> PanelPart:
    func = TEMPLATES.get(template)
    if func is None:
        raise NotFoundError("part template", template, list(TEMPLATES))
    check_template_params(template, func, params)
    return func(**params)
