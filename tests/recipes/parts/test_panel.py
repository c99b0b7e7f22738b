import numpy as np
import pytest
from shapely.geometry import Polygon

from recipes.errors import InvalidInputError, NotFoundError
from recipes.parts.loader import load_part
from recipes.parts.panel import PanelPart
from recipes.parts.templates import cutout_panel, parse_template_spec, rect, round_top


def test_sampled_areas_match_the_geometry():
    part = rect(600, 400, 18)
    s = part.sample_surface(2.0)
    assert s.area_mm2[s.face_mask("top")].sum() == pytest.approx(240000.0)
    assert s.area_mm2[s.face_mask("edge")].sum() == pytest.approx(2000 * 18.0)
    assert s.grid.index.size == np.count_nonzero(s.face_mask("top"))


def test_edge_normals_point_away_from_the_material():
    part = cutout_panel()
    s = part.sample_surface(2.0)
    centre = np.array([200.0, 200.0])
    for face, sign in (("edge", 1.0), ("hole_edge", -1.0)):
        m = s.face_mask(face)
        radial = s.points_mm[m, :2] - centre
        # outer edges face outwards, hole walls face into the hole (towards the centre)
        assert np.all(sign * np.sum(radial * s.normals[m, :2], axis=1) > 0)
        np.testing.assert_allclose(np.linalg.norm(s.normals[m], axis=1), 1.0)


def test_round_top_area():
    part = round_top(800, 25)
    s = part.sample_surface(1.0)
    assert s.area_mm2[s.face_mask("top")].sum() == pytest.approx(np.pi * 400**2, rel=2e-3)


def test_bad_outlines_are_refused():
    bowtie = Polygon([(0, 0), (100, 100), (100, 0), (0, 40)])
    with pytest.raises(InvalidInputError, match="self-intersecting"):
        PanelPart.create("x", bowtie, 18)
    with pytest.raises(InvalidInputError, match="area"):
        PanelPart.create("x", Polygon([(0, 0), (1, 0), (2, 0)]), 18)
    with pytest.raises(InvalidInputError, match="thickness_mm"):
        PanelPart.create("x", Polygon([(0, 0), (10, 0), (10, 10)]), 0)


def test_a_symmetric_bow_tie_is_self_intersecting_not_zero_area():
    bowtie = Polygon([(0, 0), (100, 100), (100, 0), (0, 100)])  # lobes cancel: area 0
    assert bowtie.area == 0.0
    with pytest.raises(InvalidInputError) as err:
        PanelPart.create("x", bowtie, 18)
    assert err.value.field == "part.outline"
    assert err.value.reason.startswith("self-intersecting polygon")
    assert "area" not in err.value.reason


@pytest.mark.parametrize(
    "spec, field",
    [
        ("rect:width_mm=0", "part.width_mm"),
        ("rect:corner_radius_mm=500", "part.corner_radius_mm"),
        ("round_top:diameter_mm=-5", "part.diameter_mm"),
        ("cutout_panel:cutout_width_mm=500", "part.cutout"),
        ("door:depth_mm=3", "part.depth_mm"),
        ("chair_leg:segments=2", "part.segments"),
        ("chair_leg:colour=1", "part.colour"),
    ],
)
def test_template_errors_name_the_part_field(spec, field):
    with pytest.raises(InvalidInputError) as err:
        load_part(spec)
    assert err.value.field == field
    assert str(err.value).startswith(f"{field}: ")


def test_unknown_parts_list_every_known_name_once():
    with pytest.raises(NotFoundError) as err:
        load_part("stool")
    known = str(err.value).split("(known: ")[1].rstrip(")").split(", ")
    assert known == sorted(set(known))
    assert {"chair_leg", "cutout_panel", "door", "rect", "round_top", "tall_panel"} == set(known)
    with pytest.raises(NotFoundError) as err:
        parse_template_spec("stool")
    known = str(err.value).split("(known: ")[1].rstrip(")").split(", ")
    assert len(known) == len(set(known)) and "round_top" in known
