"""``coatshare pipeline validate|blocks`` through the typer sub-app."""

from __future__ import annotations

import json

from typer.testing import CliRunner

from coatshare.cli_pipeline import pipeline_app
from pipelines import dumps, save
from pipelines.document import LIBRARY_DIR
from tests.pipelines.fakes import blocks_of, default_doc, edit, make_doc

RUNNER = CliRunner()


def test_validate_the_default_pipeline():
    res = RUNNER.invoke(pipeline_app, ["validate", str(LIBRARY_DIR / "spray_default.yaml")])
    assert res.exit_code == 0, res.output
    assert "pipeline 'spray-default@1' is valid (11 blocks, 32 wires, draft)" in res.output


def test_validate_prints_every_problem_and_exits_2(tmp_path):
    blocks = blocks_of(default_doc())
    blocks[0]["params"]["exposure_ms"] = 900
    blocks[4]["type"] = "recipe.fitt"
    wires = [w.model_dump(by_alias=True) for w in default_doc().wires]
    wires.append({"from": "locate.pose", "to": "record.pose"})
    path = tmp_path / "bad.yaml"
    save(edit(default_doc(), blocks=blocks, wires=wires, content_hash=""), path)
    res = RUNNER.invoke(pipeline_app, ["validate", str(path)])
    assert res.exit_code == 2
    lines = res.output.strip().splitlines()
    assert lines[-1] == "3 problem(s)"
    assert any("block 'capture': parameter 'exposure_ms' = 900" in x for x in lines)
    assert any("block 'fit': unknown block type 'recipe.fitt'" in x for x in lines)
    assert any("block 'record': input 'pose' has 2 wires" in x for x in lines)
    res = RUNNER.invoke(pipeline_app, ["validate", str(path), "--json"])
    data = json.loads(res.output)
    assert res.exit_code == 2 and not data["valid"]
    assert [(p["code"], p["block"]) for p in data["problems"]] == [
        ("bad_params", "capture"),
        ("unknown_block_type", "fit"),
        ("multiple_wires", "record"),
    ]


def test_validate_reports_structural_errors(tmp_path):
    path = tmp_path / "broken.yaml"
    text = dumps(default_doc()).replace("version: 1", "version: -2")
    path.write_text(text.replace("failure_policy: hold", "failure_policy: panic"))
    res = RUNNER.invoke(pipeline_app, ["validate", str(path)])
    assert res.exit_code == 2
    assert "version: Input should be greater than or equal to 1" in res.output
    assert "failure_policy: Input should be 'hold', 'reject' or 'stop_cell'" in res.output


def test_validate_resolves_sub_pipelines_from_a_library(tmp_path):
    lib = tmp_path / "lib"
    lib.mkdir()
    inner = make_doc(
        [("qc", "qc.evaluate", {})],
        ["input.film -> qc.film", "input.recipe -> qc.recipe", "qc.report -> output.report"],
        inputs=[{"name": "film", "type": "ThicknessMap"}, {"name": "recipe", "type": "Recipe"}],
        outputs=[{"name": "report", "type": "QCReport"}],
        pipeline_id="inspect",
    )
    save(inner, lib / "inspect.yaml")
    outer = make_doc(
        [("sub", "pipeline:inspect@1", {})],
        ["input.film -> sub.film", "input.recipe -> sub.recipe"],
        inputs=[{"name": "film", "type": "ThicknessMap"}, {"name": "recipe", "type": "Recipe"}],
    )
    save(outer, tmp_path / "outer.yaml")
    assert RUNNER.invoke(pipeline_app, ["validate", str(tmp_path / "outer.yaml")]).exit_code == 2
    res = RUNNER.invoke(
        pipeline_app, ["validate", str(tmp_path / "outer.yaml"), "--library", str(lib)]
    )
    assert res.exit_code == 0, res.output


def test_blocks_json_lists_the_catalog_with_schemas():
    res = RUNNER.invoke(pipeline_app, ["blocks", "--json"])
    assert res.exit_code == 0
    data = json.loads(res.output)
    by_type = {b["type"]: b for b in data["blocks"]}
    assert "pipeline:spray-default@1" in by_type  # the shipped library is usable as blocks
    assert by_type["robot.execute"]["side_effect_free"] is False
    assert by_type["recipe.fit"]["params_schema"]["properties"]["max_offset_mm"]["maximum"] == 500
    res = RUNNER.invoke(pipeline_app, ["blocks"])
    assert "camera.capture" in res.output and "[pure, 2 s]" in res.output
