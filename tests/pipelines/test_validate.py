"""Every validation rule with a document that breaks it; several problems at once."""

from __future__ import annotations

import pytest

from pipelines import (
    PipelineInvalidError,
    analyse,
    check,
    standard_catalog,
    validate,
)
from tests.pipelines.fakes import blocks_of, default_doc, edit, make_doc, wires_of

CAT = standard_catalog()


def _with_wires(doc, *, drop=(), add=()):
    wires = [w for w in wires_of(doc) if f"{w['from']} -> {w['to']}" not in drop]
    wires += [{"from": a.split(" -> ")[0], "to": a.split(" -> ")[1]} for a in add]
    return edit(doc, wires=wires)


def _with_block(doc, block_id, **changes):
    blocks = blocks_of(doc)
    for b in blocks:
        if b["id"] == block_id:
            b.update(changes)
    return edit(doc, blocks=blocks)


def _only(problems, code):
    found = [p for p in problems if p.code == code]
    assert len(found) == 1, [str(p) for p in problems]
    return found[0]


def test_default_pipeline_is_valid_with_a_deterministic_order():
    analysis = analyse(default_doc(), CAT)
    assert analysis.problems == []
    assert analysis.order == [
        "capture", "locate", "check", "branch", "fit", "predict", "execute", "qc", "record",
        "ask", "notify",
    ]  # fmt: skip
    # pass-through ports take the type of what feeds them
    from pipelines.graph import PortRef
    from pipelines.types import PortType

    assert analysis.types[PortRef("branch", "then")] is PortType.PART_POSE
    assert analysis.types[PortRef("branch", "else")] is PortType.PART_POSE


def test_unknown_block_type_is_named_with_suggestions():
    problems = validate(_with_block(default_doc(), "fit", type="recipe.fitt"), CAT)
    p = _only(problems, "unknown_block_type")
    assert (p.block, p.port) == ("fit", None)
    assert "unknown block type 'recipe.fitt'" in p.reason and "recipe.fit" in p.reason
    assert str(p).startswith("pipeline 'spray-default@1', block 'fit': unknown block type")
    # wires into and out of the unknown block are not blamed a second time
    assert [q.code for q in problems] == ["unknown_block_type"]


def test_port_type_mismatch_names_both_types_and_the_source():
    doc = _with_wires(
        default_doc(), drop=["locate.outline -> fit.outline"], add=["capture.image -> fit.outline"]
    )
    p = _only(validate(doc, CAT), "type_mismatch")
    assert (p.block, p.port) == ("fit", "outline")
    assert p.reason == "input 'outline' expects Outline, got Image from 'capture.image'"
    assert str(p) == (
        "pipeline 'spray-default@1', block 'fit': "
        "input 'outline' expects Outline, got Image from 'capture.image'"
    )


def test_pass_through_types_are_checked_downstream_of_a_branch():
    # the branch now routes the image, so 'then' carries an Image into fit.pose
    doc = _with_wires(
        default_doc(), drop=["locate.pose -> branch.data"], add=["capture.image -> branch.data"]
    )
    problems = validate(doc, CAT)
    assert {(p.code, p.block, p.port) for p in problems} == {
        ("type_mismatch", "fit", "pose"),
        ("type_mismatch", "record", "pose"),
    }
    assert "expects PartPose, got Image from 'branch.then'" in problems[0].reason


def test_bool_feeds_number_but_not_the_reverse():
    blocks = [
        ("capture", "camera.capture", {}),
        ("locate", "vision.locate", {}),
        ("check", "vision.check_part", {}),
        ("ask", "operator.ask", {}),
    ]
    wires = [
        "capture.image -> locate.image",
        "capture.calibration -> locate.calibration",
        "input.part -> locate.part",
        "locate.outline -> check.outline",
        "input.part -> check.part",
        "locate.confidence -> ask.reason",  # Number into Text: refused
        "check.ok -> output.flag",  # Bool into Number: fine
    ]
    doc = make_doc(
        blocks,
        wires,
        inputs=[{"name": "part", "type": "PartSpec"}],
        outputs=[{"name": "flag", "type": "Number"}],
    )
    problems = validate(doc, CAT)
    assert [(p.code, p.block, p.port) for p in problems] == [("type_mismatch", "ask", "reason")]


def test_missing_required_input():
    doc = _with_wires(default_doc(), drop=["input.recipe -> fit.recipe"])
    p = _only(validate(doc, CAT), "missing_input")
    assert (p.block, p.port) == ("fit", "recipe")
    assert p.reason == "required input 'recipe' (Recipe) has no wire"


def test_missing_required_pipeline_output():
    doc = edit(
        default_doc(),
        outputs=[{"name": "film", "type": "ThicknessMap", "required": True, "description": ""}],
    )
    p = _only(validate(doc, CAT), "missing_output")
    assert (p.block, p.port) == ("output", "film")


def test_cycle_is_reported_as_a_path():
    doc = _with_wires(
        default_doc(),
        drop=["predict.report -> execute.prediction"],
        add=["qc.report -> execute.prediction"],
    )
    problems = validate(doc, CAT)
    p = _only(problems, "cycle")
    assert (p.block, p.port) == ("execute", "prediction")
    assert p.reason == "cycle: execute -> qc -> execute"


def test_self_wire_is_a_cycle():
    blocks = [("capture", "camera.capture", {}), ("m", "flow.merge", {})]
    doc = make_doc(blocks, ["capture.image -> m.a", "m.value -> m.b"])
    p = _only(validate(doc, CAT), "cycle")
    assert (p.block, p.port, p.reason) == ("m", "b", "cycle: m -> m")


@pytest.mark.parametrize(
    ("params", "field", "text"),
    [
        (
            {"exposure_ms": 500},
            "params.exposure_ms",
            "= 500: Input should be less than or equal to 100",
        ),
        (
            {"exposure_ms": "bright"},
            "params.exposure_ms",
            "'bright': Input should be a valid number",
        ),
        ({"gain_db": 3}, "params.gain_db", "Extra inputs are not permitted"),
    ],
)
def test_parameters_out_of_range(params, field, text):
    p = _only(validate(_with_block(default_doc(), "capture", params=params), CAT), "bad_params")
    assert (p.block, p.field) == ("capture", field)
    assert text in p.reason


def test_branch_condition_must_fit_its_operator():
    doc = _with_block(default_doc(), "branch", params={"condition": {"op": "<", "value": True}})
    p = _only(validate(doc, CAT), "bad_params")
    assert p.block == "branch"
    assert "operator '<' needs a number" in p.reason


def test_unreachable_blocks():
    blocks = blocks_of(default_doc())
    blocks += [
        {"id": "orphan", "type": "qc.evaluate", "params": {}, "position": {"x": 0, "y": 0}},
        {"id": "orphan_log", "type": "data.record", "params": {}, "position": {"x": 0, "y": 0}},
    ]
    doc = _with_wires(
        edit(default_doc(), blocks=blocks), add=["orphan.report -> orphan_log.report"]
    )
    problems = validate(doc, CAT)
    unreachable = [p for p in problems if p.code == "unreachable"]
    assert [p.block for p in unreachable] == ["orphan", "orphan_log"]
    assert "not connected to the pipeline's inputs or to a source block" in unreachable[0].reason
    assert {(p.code, p.port) for p in problems if p.block == "orphan"} == {
        ("unreachable", None),
        ("missing_input", "film"),
        ("missing_input", "recipe"),
    }


def test_two_wires_into_one_input():
    doc = _with_wires(default_doc(), add=["locate.pose -> fit.pose"])
    p = _only(validate(doc, CAT), "multiple_wires")
    assert (p.block, p.port) == ("fit", "pose")
    assert "has 2 wires (from branch.then, locate.pose)" in p.reason


@pytest.mark.parametrize(
    ("wire", "code", "block", "port", "text"),
    [
        ("ghost.image -> locate.image", "unknown_block", "ghost", "image", "no block 'ghost'"),
        ("capture.photo -> notify.data", "unknown_port", "capture", "photo", "no output 'photo'"),
        (
            "capture.image -> notify.picture",
            "unknown_port",
            "notify",
            "picture",
            "no input 'picture'",
        ),
        (
            "fit.recipe -> notify.data",
            "wrong_direction",
            "fit",
            "recipe",
            "is an input of recipe.fit",
        ),
        (
            "capture.image -> input.part",
            "wrong_direction",
            "input",
            "part",
            "can only be wired from",
        ),
        ("input.colour -> notify.data", "unknown_port", "input", "colour", "no input 'colour'"),
        ("capture -> notify.data", "bad_wire", "capture", None, "'from' must be 'block.port'"),
    ],
)
def test_wires_to_unknown_blocks_ports_or_the_wrong_way(wire, code, block, port, text):
    problems = validate(_with_wires(default_doc(), add=[wire]), CAT)
    p = _only(problems, code)
    assert (p.block, p.port) == (block, port)
    assert text in p.reason
    assert f"'{wire}'" in p.reason


def test_duplicate_and_reserved_block_ids():
    blocks = blocks_of(default_doc())
    blocks.append(dict(blocks[4]))  # a second 'fit'
    blocks.append({"id": "output", "type": "notify", "params": {}, "position": {"x": 0, "y": 0}})
    problems = validate(edit(default_doc(), blocks=blocks), CAT)
    dup = _only(problems, "duplicate_block")
    assert dup.block == "fit" and "used 2 times" in dup.reason
    reserved = _only(problems, "reserved_id")
    assert reserved.block == "output"


def test_retries_only_on_side_effect_free_blocks():
    assert validate(_with_block(default_doc(), "locate", retries=3), CAT) == []
    p = _only(
        validate(_with_block(default_doc(), "execute", retries=2), CAT), "retries_not_allowed"
    )
    assert (p.block, p.field) == ("execute", "retries")
    assert "robot.execute has side effects" in p.reason


def test_several_problems_are_all_reported_at_once():
    doc = _with_block(default_doc(), "capture", params={"exposure_ms": -1})
    doc = _with_block(doc, "qc", type="qc.evaluat")
    doc = _with_wires(
        doc,
        drop=["input.recipe -> fit.recipe", "locate.outline -> fit.outline"],
        add=["capture.image -> fit.outline", "locate.pose -> fit.pose", "ghost.x -> notify.data"],
    )
    problems = validate(doc, CAT)
    assert {(p.code, p.block, p.port) for p in problems} == {
        ("bad_params", "capture", None),
        ("unknown_block_type", "qc", None),
        ("missing_input", "fit", "recipe"),
        ("type_mismatch", "fit", "outline"),
        ("multiple_wires", "fit", "pose"),
        ("unknown_block", "ghost", "x"),
    }
    with pytest.raises(PipelineInvalidError) as err:
        check(doc, CAT)
    assert len(err.value.problems) == 6
    assert "(and 5 more)" in str(err.value)


def test_empty_pipeline():
    doc = make_doc([], [])
    assert [p.code for p in validate(doc, CAT)] == ["empty"]


# --- sub-pipelines ---------------------------------------------------------------------
def _inspect_doc(version=1, extra_blocks=()):
    return make_doc(
        [("qc", "qc.evaluate", {}), *extra_blocks],
        ["input.film -> qc.film", "input.recipe -> qc.recipe", "qc.report -> output.report"],
        inputs=[{"name": "film", "type": "ThicknessMap"}, {"name": "recipe", "type": "Recipe"}],
        outputs=[{"name": "report", "type": "QCReport"}],
        pipeline_id="inspect",
        version=version,
    )


def test_a_sub_pipeline_is_a_typed_block():
    inner = _inspect_doc()
    cat = CAT.with_pipelines(inner)
    decl = cat.get("pipeline:inspect@1")
    assert [(p.name, p.type.value) for p in decl.inputs] == [
        ("film", "ThicknessMap"),
        ("recipe", "Recipe"),
    ]
    assert decl.side_effect_free and decl.runtime == "pipeline"
    doc = _with_block(default_doc(), "qc", type="pipeline:inspect@1", params={})
    assert [(p.code, p.block, p.port) for p in validate(doc, cat)] == [
        ("unknown_port", "qc", "predicted")  # the sub-pipeline has no input 'predicted'
    ]
    doc = _with_wires(doc, drop=["predict.thickness -> qc.predicted"])
    assert validate(doc, cat) == []
    assert validate(doc, CAT)[0].code == "unknown_block_type"
    assert "Catalog.with_pipelines" in validate(doc, CAT)[0].reason


def test_sub_pipeline_cannot_contain_itself_or_hold_parts():
    inner = _inspect_doc(extra_blocks=[("me", "pipeline:inspect@1", {})])
    problems = validate(inner, CAT.with_pipelines(inner))
    assert ("self_reference", "me") in {(p.code, p.block) for p in problems}
    holding = _inspect_doc(version=2, extra_blocks=[("ask", "operator.ask", {})])
    outer = make_doc(
        [("capture", "camera.capture", {}), ("sub", "pipeline:inspect@2", {})],
        ["input.film -> sub.film", "input.recipe -> sub.recipe"],
        inputs=[{"name": "film", "type": "ThicknessMap"}, {"name": "recipe", "type": "Recipe"}],
    )
    p = _only(validate(outer, CAT.with_pipelines(holding)), "nested_hold")
    assert p.block == "sub" and "operator.ask" in p.reason
