"""DXF panels: reading contours (bulges, circles, units, layers), errors, round trip."""

from __future__ import annotations

import math
from collections.abc import Callable
from pathlib import Path

import ezdxf
import numpy as np
import pytest
from ezdxf.layouts import Modelspace

from recipes.errors import InvalidInputError, NotFoundError
from recipes.parts.dxf import load_dxf, save_dxf
from recipes.parts.panel import PanelPart
from recipes.parts.templates import cutout_panel, rect, round_top


def write_dxf(path: Path, build: Callable[[Modelspace], None], insunits: int | None = 4) -> Path:
    """A drawing made by ``build``; ``insunits`` None leaves the header variable out."""
    doc = ezdxf.new("R2010", setup=False)
    if insunits is None:
        del doc.header["$INSUNITS"]
    else:
        doc.header["$INSUNITS"] = insunits
    build(doc.modelspace())
    doc.saveas(path)
    return path


def square(msp: Modelspace, x0: float, y0: float, size: float, layer: str = "0") -> str:
    points = [(x0, y0), (x0 + size, y0), (x0 + size, y0 + size), (x0, y0 + size)]
    return msp.add_lwpolyline(points, close=True, dxfattribs={"layer": layer}).dxf.handle


def assert_same_polygon(a: PanelPart, b: PanelPart) -> None:
    rings_a = [a.outline.exterior, *a.outline.interiors]
    rings_b = [b.outline.exterior, *b.outline.interiors]
    assert len(rings_a) == len(rings_b)
    for ra, rb in zip(rings_a, rings_b, strict=True):
        ca, cb = np.asarray(ra.coords), np.asarray(rb.coords)
        assert ca.shape == cb.shape
        np.testing.assert_allclose(cb, ca, rtol=0, atol=1e-9)
    assert b.outline.area == pytest.approx(a.outline.area, rel=1e-12)


# --- round trip ------------------------------------------------------------------------


@pytest.mark.parametrize(
    "part",
    [
        cutout_panel(),
        cutout_panel(cutout_radius_mm=12.0),
        rect(corner_radius_mm=20.0),
        round_top(diameter_mm=500.0),
    ],
    ids=["cutout", "rounded_cutout", "rounded_rect", "round_top"],
)
def test_round_trip_keeps_polygon(tmp_path: Path, part: PanelPart) -> None:
    path = tmp_path / "panel.dxf"
    save_dxf(part, path)
    loaded = load_dxf(path, part.thickness_mm)
    assert_same_polygon(part, loaded)
    assert len(loaded.holes) == len(part.holes)
    assert loaded.thickness_mm == part.thickness_mm
    assert loaded.name == "panel"
    assert loaded.source == f"dxf:{path}"
    assert ezdxf.readfile(path).header["$INSUNITS"] == 4


def test_round_trip_cutout_panel_values(tmp_path: Path) -> None:
    path = tmp_path / "cutout.dxf"
    save_dxf(cutout_panel(), path)
    loaded = load_dxf(path, 18.0, name="door_a")
    assert loaded.name == "door_a"
    assert loaded.outline.area == pytest.approx(400 * 400 - 150 * 150, abs=1e-9)
    assert loaded.bounds_mm == (0.0, 0.0, 400.0, 400.0)
    assert loaded.holes[0].bounds == (125.0, 125.0, 275.0, 275.0)
    assert loaded.outline.exterior.is_ccw
    assert not loaded.outline.interiors[0].is_ccw
    assert loaded.params["hole_handles"] and loaded.params["insunits"] == 4


# --- arcs and circles --------------------------------------------------------------------


@pytest.mark.parametrize("bulge, sign", [(1.0, 1.0), (-1.0, -1.0)])
def test_bulge_semicircle_area(tmp_path: Path, bulge: float, sign: float) -> None:
    """Top edge of a 100 mm square as a half circle (r = 50), outwards or inwards."""

    def build(msp: Modelspace) -> None:
        msp.add_lwpolyline(
            [(0, 0, 0), (100, 0, 0), (100, 100, bulge), (0, 100, 0)], format="xyb", close=True
        )

    part = load_dxf(write_dxf(tmp_path / "arc.dxf", build), 18.0, arc_tolerance_mm=0.05)
    expected = 100 * 100 + sign * math.pi * 50**2 / 2
    assert part.outline.area == pytest.approx(expected, rel=1e-3)
    ymax = part.bounds_mm[3]
    assert ymax == pytest.approx(150.0 if sign > 0 else 100.0, abs=1e-9)
    # arc vertices lie on the circle, and chords stay within the tolerance
    xy = np.asarray(part.outline.exterior.coords)[:-1]
    on_arc = (np.abs(xy[:, 1] - 100) > 1e-9) & (xy[:, 1] > 1.0)  # not the square's corners
    radius = np.hypot(xy[on_arc, 0] - 50, xy[on_arc, 1] - 100)
    np.testing.assert_allclose(radius, 50.0, atol=1e-9)
    n_chords = int(on_arc.sum()) + 1
    sagitta = 50 * (1 - math.cos(math.pi / n_chords / 2))
    assert sagitta <= 0.05
    assert 50 * (1 - math.cos(math.pi / (n_chords - 1) / 2)) > 0.05  # not needlessly fine


def test_bulge_rounded_rect_matches_template_area(tmp_path: Path) -> None:
    """Quarter-circle bulges (tan(22.5 deg)) at the four corners of 300 x 200, r = 25."""
    b = math.tan(math.pi / 8)
    w, h, r = 300.0, 200.0, 25.0
    pts = [
        (r, 0, 0),
        (w - r, 0, b),
        (w, r, 0),
        (w, h - r, b),
        (w - r, h, 0),
        (r, h, b),
        (0, h - r, 0),
        (0, r, b),
    ]

    def build(msp: Modelspace) -> None:
        msp.add_lwpolyline(pts, format="xyb", close=True)

    part = load_dxf(write_dxf(tmp_path / "rr.dxf", build), 19.0)
    assert part.outline.area == pytest.approx(w * h - (4 - math.pi) * r**2, rel=1e-3)
    assert part.bounds_mm == pytest.approx((0.0, 0.0, w, h), abs=1e-9)


def test_old_style_polyline_with_bulge(tmp_path: Path) -> None:
    def build(msp: Modelspace) -> None:
        msp.add_polyline2d(
            [(0, 0, 0), (100, 0, 0), (100, 100, 1.0), (0, 100, 0)], format="xyb", close=True
        )

    part = load_dxf(write_dxf(tmp_path / "pl.dxf", build), 18.0)
    assert part.outline.area == pytest.approx(100 * 100 + math.pi * 50**2 / 2, rel=1e-3)


def test_circle_hole(tmp_path: Path) -> None:
    def build(msp: Modelspace) -> None:
        msp.add_lwpolyline([(0, 0), (200, 0), (200, 100), (0, 100)], close=True)
        msp.add_circle((60, 50), 20)

    part = load_dxf(write_dxf(tmp_path / "hole.dxf", build), 18.0)
    assert len(part.holes) == 1
    assert part.outline.area == pytest.approx(200 * 100 - math.pi * 20**2, rel=1e-3)
    ring = np.asarray(part.outline.interiors[0].coords)
    np.testing.assert_allclose(np.hypot(ring[:, 0] - 60, ring[:, 1] - 50), 20.0, atol=1e-9)
    assert not part.outline.interiors[0].is_ccw
    assert part.holes[0].centroid.x == pytest.approx(60.0, abs=1e-6)


def test_circle_alone_is_the_outline(tmp_path: Path) -> None:
    part = load_dxf(write_dxf(tmp_path / "disc.dxf", lambda m: m.add_circle((0, 0), 300)), 25)
    assert part.outline.area == pytest.approx(math.pi * 300**2, rel=1e-3)
    assert part.holes == []


def test_mirrored_extrusion_flips_x(tmp_path: Path) -> None:
    def build(msp: Modelspace) -> None:
        msp.add_lwpolyline(
            [(10, 0), (30, 0), (30, 10), (10, 10)],
            close=True,
            dxfattribs={"extrusion": (0, 0, -1)},
        )

    part = load_dxf(write_dxf(tmp_path / "mirror.dxf", build), 18.0)
    assert part.bounds_mm == pytest.approx((-30.0, 0.0, -10.0, 10.0))


def test_repeated_start_point_counts_as_closed(tmp_path: Path) -> None:
    def build(msp: Modelspace) -> None:
        msp.add_lwpolyline([(0, 0), (50, 0), (50, 40), (0, 40), (0, 0)], close=False)

    part = load_dxf(write_dxf(tmp_path / "rep.dxf", build), 18.0)
    assert part.outline.area == pytest.approx(2000.0)
    assert len(part.outline.exterior.coords) == 5


# --- units and layers --------------------------------------------------------------------


@pytest.mark.parametrize("insunits, mm", [(1, 25.4), (5, 10.0), (6, 1000.0), (4, 1.0), (None, 1.0)])
def test_units_scaled_to_mm(tmp_path: Path, insunits: int | None, mm: float) -> None:
    def build(msp: Modelspace) -> None:
        msp.add_lwpolyline([(0, 0), (100, 0), (100, 50), (0, 50)], close=True)
        msp.add_circle((50, 25), 10)

    part = load_dxf(write_dxf(tmp_path / "u.dxf", build, insunits), 18.0)
    assert part.bounds_mm == pytest.approx((0.0, 0.0, 100 * mm, 50 * mm), abs=1e-9)
    assert part.outline.area == pytest.approx((5000 - 100 * math.pi) * mm**2, rel=1e-3)
    assert part.params["mm_per_unit"] == mm


def test_inch_arc_tolerance_applies_in_mm(tmp_path: Path) -> None:
    """A 10 inch circle flattened to 0.05 mm, not 0.05 inch."""
    part = load_dxf(
        write_dxf(tmp_path / "in.dxf", lambda m: m.add_circle((0, 0), 10), insunits=1), 18.0
    )
    n = len(part.outline.exterior.coords) - 1
    r_mm = 254.0
    assert r_mm * (1 - math.cos(math.pi / n)) <= 0.05
    assert part.outline.area == pytest.approx(math.pi * r_mm**2, rel=1e-3)


def test_unsupported_units(tmp_path: Path) -> None:
    path = write_dxf(tmp_path / "au.dxf", lambda m: square(m, 0, 0, 10), insunits=7)  # km
    with pytest.raises(InvalidInputError) as info:
        load_dxf(path, 18.0)
    assert info.value.field == "header.$INSUNITS"


def test_layer_filter(tmp_path: Path) -> None:
    def build(msp: Modelspace) -> None:
        square(msp, 0, 0, 100, layer="CUT")
        square(msp, 10, 10, 20, layer="CUT")
        square(msp, 500, 500, 300, layer="NOTES")  # larger, elsewhere: ignored
        msp.add_lwpolyline([(0, 0), (5, 5)], dxfattribs={"layer": "NOTES"})  # open: ignored

    path = write_dxf(tmp_path / "layers.dxf", build)
    part = load_dxf(path, 18.0, layer="cut")
    assert part.outline.area == pytest.approx(100 * 100 - 20 * 20)
    assert len(part.holes) == 1
    with pytest.raises(InvalidInputError) as info:
        load_dxf(path, 18.0, layer="MISSING")
    assert info.value.field == "entities"
    assert "layer 'MISSING'" in info.value.reason


# --- errors ------------------------------------------------------------------------------


def test_open_polyline_names_the_entity(tmp_path: Path) -> None:
    handles: list[str] = []

    def build(msp: Modelspace) -> None:
        square(msp, 0, 0, 100)
        handles.append(msp.add_lwpolyline([(10, 10), (50, 10), (50, 50)]).dxf.handle)

    path = write_dxf(tmp_path / "open.dxf", build)
    with pytest.raises(InvalidInputError) as info:
        load_dxf(path, 18.0)
    err = info.value
    assert err.field == f"entity[{handles[0]}]"
    assert err.reason == "polyline is not closed"
    assert err.source == str(path)
    assert f"entity[{handles[0]}]" in str(err) and str(path) in str(err)


def test_contour_outside_the_outline(tmp_path: Path) -> None:
    handles: list[str] = []

    def build(msp: Modelspace) -> None:
        square(msp, 0, 0, 100)
        handles.append(square(msp, 150, 0, 20))

    with pytest.raises(InvalidInputError) as info:
        load_dxf(write_dxf(tmp_path / "out.dxf", build), 18.0)
    assert info.value.field == f"entity[{handles[0]}]"
    assert "outside the outer outline" in info.value.reason


def test_contour_crossing_the_outline(tmp_path: Path) -> None:
    def build(msp: Modelspace) -> None:
        square(msp, 0, 0, 100)
        square(msp, 90, 40, 20)

    with pytest.raises(InvalidInputError, match="crosses or touches the outer outline"):
        load_dxf(write_dxf(tmp_path / "cross.dxf", build), 18.0)


def test_overlapping_holes(tmp_path: Path) -> None:
    def build(msp: Modelspace) -> None:
        square(msp, 0, 0, 100)
        square(msp, 10, 10, 30)
        square(msp, 30, 30, 30)

    with pytest.raises(InvalidInputError, match="overlaps or touches hole entity"):
        load_dxf(write_dxf(tmp_path / "overlap.dxf", build), 18.0)


def test_self_intersecting_contour(tmp_path: Path) -> None:
    handles: list[str] = []

    def build(msp: Modelspace) -> None:
        bow_tie = [(0, 0), (100, 100), (100, 0), (0, 100)]
        handles.append(msp.add_lwpolyline(bow_tie, close=True).dxf.handle)

    with pytest.raises(InvalidInputError) as info:
        load_dxf(write_dxf(tmp_path / "bow.dxf", build), 18.0)
    assert info.value.field == f"entity[{handles[0]}]"
    assert info.value.reason == "contour is self-intersecting"


def test_no_contour(tmp_path: Path) -> None:
    def build(msp: Modelspace) -> None:
        msp.add_line((0, 0), (100, 0))

    path = write_dxf(tmp_path / "lines.dxf", build)
    with pytest.raises(InvalidInputError) as info:
        load_dxf(path, 18.0)
    assert info.value.field == "entities"
    assert "no closed contour found" in info.value.reason
    assert info.value.source == str(path)


def test_degenerate_contour(tmp_path: Path) -> None:
    def build(msp: Modelspace) -> None:
        msp.add_lwpolyline([(0, 0), (10, 0), (10, 0)], close=True)

    with pytest.raises(InvalidInputError, match="fewer than 3 distinct points"):
        load_dxf(write_dxf(tmp_path / "deg.dxf", build), 18.0)


def test_missing_and_unreadable_files(tmp_path: Path) -> None:
    with pytest.raises(NotFoundError):
        load_dxf(tmp_path / "nope.dxf", 18.0)
    bad = tmp_path / "bad.dxf"
    bad.write_text("this is not a drawing\n")
    with pytest.raises(InvalidInputError) as info:
        load_dxf(bad, 18.0)
    assert info.value.field == "file"


def test_bad_thickness_and_tolerance(tmp_path: Path) -> None:
    path = write_dxf(tmp_path / "sq.dxf", lambda m: square(m, 0, 0, 100))
    with pytest.raises(InvalidInputError) as info:
        load_dxf(path, 0.0)
    assert info.value.field == "part.thickness_mm"
    with pytest.raises(InvalidInputError) as info:
        load_dxf(path, 18.0, arc_tolerance_mm=0.0)
    assert info.value.field == "arc_tolerance_mm"
