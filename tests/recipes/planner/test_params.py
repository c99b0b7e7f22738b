"""Planner parameters set by name (the CLI's --set)."""

import pytest

from recipes.errors import InvalidInputError
from recipes.planner import planner_params


def test_values_are_set_by_field_name_and_checked():
    p = planner_params(
        {"standoff_mm": 180.0, "spacing_mm": 2.0},
        [
            "pitch_mm=55",
            "inset_mm=12.5",
            "overtravel_mm = 40",
            "hole_gap_mm=0",
            "lead_mm=80",
            "edge_tilt_deg=15",
            "edge_passes=false",
            "direction=30",
            "standoff_mm=null",
        ],
    )
    assert (p.pitch_mm, p.inset_mm, p.overtravel_mm, p.hole_gap_mm) == (55.0, 12.5, 40.0, 0.0)
    assert (p.lead_mm, p.edge_tilt_deg, p.edge_passes) == (80.0, 15.0, False)
    assert p.direction == 30.0 and p.standoff_mm is None and p.spacing_mm == 2.0
    assert planner_params({}, ["direction=long_edge"]).direction == "long_edge"


@pytest.mark.parametrize(
    "item, field, words",
    [
        ("pitch=50", "planner.pitch", "not a planner parameter"),
        ("pitch_mm=-1", "planner.pitch_mm", "greater than 0"),
        ("pitch_mm=wide", "planner.pitch_mm", "valid number"),
        ("edge_tilt_deg=80", "planner.edge_tilt_deg", "less than or equal to 60"),
        ("coats=1.5", "planner.coats", "integer"),
        ("pitch_mm", "planner", "key=value"),
    ],
)
def test_bad_values_name_the_field(item, field, words):
    with pytest.raises(InvalidInputError) as err:
        planner_params({}, [item])
    assert err.value.field == field
    assert words in err.value.reason
