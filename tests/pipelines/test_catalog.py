"""Port types, block declarations, conditions, traces and graph helpers."""

from __future__ import annotations

import io
import json

import numpy as np
import pytest
from PIL import Image
from pydantic import ValidationError

from pipelines import (
    BlockDecl,
    Condition,
    ConditionError,
    Port,
    PortType,
    compatible,
    encode_png,
    evaluate,
    standard_catalog,
    summarize,
    thumbnail,
)
from pipelines.graph import PortRef, cycles, topological_order
from pipelines.types import check_value
from recipes.errors import InvalidInputError

T = PortType
REQUIRED = [
    "camera.capture",
    "vision.locate",
    "vision.check_part",
    "recipe.fit",
    "sim.predict_thickness",
    "qc.evaluate",
    "robot.execute",
    "flow.branch",
    "operator.ask",
    "notify",
    "data.record",
]


def test_port_type_compatibility():
    domain = [t for t in T if t is not T.ANY]
    assert len(domain) == 12
    for a in domain:
        for b in domain:
            expected = a == b or (a, b) == (T.BOOL, T.NUMBER)
            assert compatible(a, b) is expected, (a, b)
        assert compatible(a, T.ANY) and compatible(T.ANY, a)
    assert not compatible(T.NUMBER, T.BOOL)
    assert not compatible(T.RECIPE, T.SPRAY_PROGRAM)


@pytest.mark.parametrize(
    ("port_type", "value", "bad"),
    [
        (T.BOOL, True, None),
        (T.BOOL, np.bool_(False), None),
        (T.BOOL, 1, "expects Bool, got int"),
        (T.NUMBER, 3, None),
        (T.NUMBER, np.float32(2.5), None),
        (T.NUMBER, "3", "expects Number, got str"),
        (T.TEXT, "x", None),
        (T.TEXT, 3.0, "expects Text, got float"),
        (T.IMAGE, "anything", None),
    ],
)
def test_scalar_values_are_checked(port_type, value, bad):
    assert check_value(port_type, value) == bad


def test_the_standard_catalog_declares_every_block():
    cat = standard_catalog()
    assert set(REQUIRED) <= set(cat.types())
    for decl in cat:
        assert decl.description.strip() and "\n\n" not in decl.description
        schema = decl.params_schema()
        assert schema["type"] == "object"
        assert decl.timeout_s > 0
        if not decl.side_effect_free:
            assert decl.retries == 0
    effects = {d.type for d in cat if not d.side_effect_free}
    assert effects == {"robot.execute", "operator.ask", "notify", "data.record"}
    assert [p.name for p in cat.get("camera.capture").inputs] == []
    assert cat.get("camera.capture").is_source
    assert cat.get("robot.execute").output("film").type is T.THICKNESS_MAP
    assert cat.get("notify").join == "any"
    schema = cat.get("camera.capture").params_schema()
    assert schema["properties"]["exposure_ms"]["maximum"] == 100
    assert schema["additionalProperties"] is False


def test_catalog_json_is_what_the_editor_needs():
    data = json.loads(json.dumps(standard_catalog().to_json()))
    assert set(data["types"]) == {t.value for t in T}
    branch = next(b for b in data["blocks"] if b["type"] == "flow.branch")
    assert [p["name"] for p in branch["inputs"]] == ["value", "data"]
    assert branch["outputs"][0]["type_from"] == ["data", "value"]
    cond = branch["params_schema"]["$defs"]["Condition"]["properties"]
    assert cond["op"]["enum"] == ["==", "!=", "<", "<=", ">", ">=", "in", "not_in"]


def test_declarations_refuse_unsafe_or_unclear_definitions():
    with pytest.raises(InvalidInputError, match="retries are only for side-effect-free"):
        BlockDecl("x.spray", "Sprays.", (), (), side_effect_free=False, retries=1)
    with pytest.raises(InvalidInputError, match="one-paragraph description"):
        BlockDecl("x.y", "One.\n\nTwo.", (), ())
    with pytest.raises(InvalidInputError, match="duplicate input port"):
        BlockDecl("x.y", "Y.", (Port("a", T.TEXT), Port("a", T.TEXT)), ())
    with pytest.raises(InvalidInputError, match="declared twice"):
        standard_catalog().with_blocks(BlockDecl("notify", "Again.", (), ()))


@pytest.mark.parametrize(
    ("condition", "value", "expected"),
    [
        ({"op": "==", "value": True}, True, True),
        ({"op": "==", "value": True}, np.bool_(False), False),
        ({"field": "within_tol_pct", "op": ">=", "value": 95}, {"within_tol_pct": 96.5}, True),
        ({"field": "within_tol_pct", "op": "<", "value": 95}, {"within_tol_pct": 96.5}, False),
        (
            {"field": "faces.top.ok", "op": "!=", "value": False},
            {"faces": {"top": {"ok": True}}},
            True,
        ),
        ({"field": "kind", "op": "in", "value": ["door", "panel"]}, {"kind": "door"}, True),
        ({"field": "kind", "op": "not_in", "value": ["door"]}, {"kind": "door"}, False),
        ({"field": "real", "op": ">", "value": 1}, 2.5 + 0j, True),
    ],
)
def test_conditions(condition, value, expected):
    assert evaluate(Condition.model_validate(condition), value) is expected


def test_conditions_are_data_not_code():
    for bad in (
        {"field": "__class__", "op": "==", "value": 1},
        {"field": "a;b", "op": "==", "value": 1},
        {"op": "<", "value": "x"},
        {"op": "in", "value": 3},
        {"op": "==", "value": [1]},
        {"op": "~=", "value": 1},
        {"expr": "1 + 1"},
    ):
        with pytest.raises(ValidationError):
            Condition.model_validate(bad)
    with pytest.raises(ConditionError, match="'>' needs a number, got str"):
        evaluate(Condition(field="kind", op=">", value=1), {"kind": "door"})
    with pytest.raises(ConditionError, match="a.b: no such key"):
        evaluate(Condition(field="a.b", op="==", value=1), {"a": {}})


def test_summaries_are_short_and_stable():
    assert summarize(np.zeros((480, 640, 3), np.uint8)) == "uint8 (480, 640, 3)"
    assert summarize(True) == "true" and summarize(None) == "none"
    assert summarize(0.1 + 0.2) == "0.3" and summarize(7) == "7"
    assert summarize("x" * 100) == repr("x" * 57 + "...")
    assert summarize({"a": 1, "b": 2}) == "{a, b}"
    assert summarize([1, 2, 3]) == "list[3]"

    class Recipe:
        id = "door-1"
        version = 3

    assert summarize(Recipe()) == "Recipe(id=door-1, version=3)"

    class Own:
        def trace_summary(self):
            return "own words"

    assert summarize(Own()) == "own words"


def test_thumbnails_downsample_and_encode():
    rng = np.random.default_rng(3)
    big = rng.integers(0, 256, size=(480, 640, 3), dtype=np.uint8)
    thumb = thumbnail(big)
    assert thumb.pixels.shape == (48, 64, 3) and thumb.source_shape == (480, 640, 3)
    np.testing.assert_array_equal(thumb.pixels, big[::10, ::10])
    back = np.asarray(Image.open(io.BytesIO(thumb.png())))
    np.testing.assert_array_equal(back, thumb.pixels)
    dft = np.full((100, 200), 50.0)
    dft[:, 100:] = 70.0
    dft[0, 0] = np.nan
    t = thumbnail(dft)
    assert (t.vmin, t.vmax) == (50.0, 70.0)
    assert t.pixels.shape == (25, 50) and t.pixels[0, 0] == 0 and t.pixels[1, -1] == 255

    class Film:
        grid_um = dft

    assert thumbnail(Film()).pixels.shape == (25, 50)
    assert thumbnail(np.zeros(10)) is None and thumbnail({"a": 1}) is None
    with pytest.raises(ValueError):
        encode_png(np.zeros((2, 2), np.float32))


def test_graph_order_and_cycles():
    nodes = ["a", "b", "c", "d", "e"]
    edges = {("a", "c"), ("b", "c"), ("c", "d"), ("d", "b"), ("e", "e")}
    order, left = topological_order(nodes, edges)
    assert order == ["a"] and left == {"b", "c", "d", "e"}
    assert cycles(nodes, edges) == [["b", "c", "d", "b"], ["e", "e"]]
    order, left = topological_order(["z", "y", "x"], {("x", "z")})
    assert order == ["y", "x", "z"] and left == set()
    assert PortRef.parse("fit.pose") == PortRef("fit", "pose")
    assert PortRef.parse("fit") is None and PortRef.parse("fit.pose.x") is None
