"""Pipeline documents: byte-identical round trips, the content hash, load errors, diff."""

from __future__ import annotations

import json

import pytest

from pipelines import (
    DocumentError,
    PipelineDoc,
    approved,
    diff,
    dumps,
    library_paths,
    load,
    load_library,
    loads,
    save,
)
from pipelines.document import LIBRARY_DIR
from recipes.errors import NotFoundError
from tests.pipelines.fakes import blocks_of, default_doc, edit, make_doc, wires_of


def _awkward() -> PipelineDoc:
    """Values that trip naive dumpers: unicode, tiny floats, nested params, quotes, colons."""
    return make_doc(
        [
            ("capture", "camera.capture", {"camera": "top-2", "exposure_ms": 0.1}),
            (
                "ask",
                "operator.ask",
                {"question": "Teil prüfen: 'ok'? # no comment", "choices": ["ja", "nein", "1e3"]},
                {"timeout_s": 1e-07, "retries": 0},
            ),
            (
                "gate",
                "flow.branch",
                {"condition": {"field": "a.b", "op": "in", "value": [1, 2.5, "x"]}},
            ),
        ],
        ["capture.image -> ask.image", "capture.image -> gate.value", "gate.then -> ask.data"],
        inputs=[
            {"name": "note", "type": "Text", "required": False, "description": "Lackierung – Tür"}
        ],
        pipeline_id="odd-one",
    ).model_copy(update={"description": "line one\nline two: with colon\n\nsecond paragraph"})


@pytest.mark.parametrize("fmt", ["yaml", "json"])
def test_round_trip_is_byte_identical(tmp_path, fmt):
    for doc in (default_doc(), _awkward().with_hash()):
        path = tmp_path / f"p.{fmt}"
        save(doc, path)
        text = path.read_text(encoding="utf-8")
        again = load(path)
        assert again == doc
        assert dumps(again, fmt) == text
        save(again, path)
        assert path.read_text(encoding="utf-8") == text


def test_shipped_default_is_in_canonical_form():
    path = LIBRARY_DIR / "spray_default.yaml"
    text = path.read_text(encoding="utf-8")
    assert dumps(loads(text)) == text
    assert text.startswith("schema: coatshare.pipeline/v1\nid: spray-default\nversion: 1\n")
    doc = load_library("spray_default")
    assert doc.content_hash == doc.compute_hash()
    assert doc.approval.status == "draft"
    assert path in library_paths()
    with pytest.raises(NotFoundError, match="spray_default"):
        load_library("spray_fancy")


def test_json_is_accepted_and_written_as_json(tmp_path):
    doc = default_doc()
    text = dumps(doc, "json")
    data = json.loads(text)
    assert data["schema"] == "coatshare.pipeline/v1" and data["wires"][0] == {
        "from": "capture.image",
        "to": "locate.image",
    }
    assert loads(text) == doc


def test_hash_covers_what_runs_but_not_layout_or_approval():
    doc = default_doc()
    h = doc.compute_hash()
    assert h.startswith("sha256:") and len(h) == 7 + 64
    moved = edit(doc, blocks=[{**b, "position": {"x": 1.0, "y": 2.0}} for b in blocks_of(doc)])
    assert moved.compute_hash() == h
    signed = approved(doc, "op", "ab" * 32)
    assert signed.compute_hash() == h and signed.content_hash == h
    blocks = blocks_of(doc)
    blocks[0]["params"]["exposure_ms"] = 9.0
    assert edit(doc, blocks=blocks).compute_hash() != h
    assert edit(doc, wires=wires_of(doc)[1:]).compute_hash() != h
    assert edit(doc, failure_policy="reject").compute_hash() != h


def test_edited_file_breaks_the_hash():
    text = dumps(default_doc())
    tampered = text.replace("max_offset_mm: 50.0", "max_offset_mm: 400.0")
    assert tampered != text
    with pytest.raises(DocumentError) as err:
        loads(tampered, "p.yaml")
    assert err.value.field == "content_hash"
    assert str(err.value).startswith("p.yaml: content_hash: sha256:")
    assert loads(tampered, check_hash=False).blocks[4].params["max_offset_mm"] == 400.0
    # moving a block is fine
    assert (
        loads(text.replace("x: 880.0, y: 80.0", "x: 900.0, y: 60.0")).block("fit").position.x
        == 900.0
    )


def test_structural_errors_are_all_listed():
    text = dumps(default_doc()).replace("version: 1", "version: 0")
    text = text.replace("failure_policy: hold", "failure_policy: explode")
    text = text.replace("- {from: capture.image, to: locate.image}", "- {from: capture.image}")
    text = text.replace("type: PartSpec", "type: Part")
    with pytest.raises(DocumentError) as err:
        loads(text, "bad.yaml", check_hash=False)
    fields = [f for f, _ in err.value.problems]
    assert fields == ["version", "failure_policy", "inputs[0].type", "wires[0].to"]
    assert "greater than or equal to 1" in err.value.problems[0][1]
    assert "(and 3 more)" in str(err.value)


@pytest.mark.parametrize(
    ("text", "field", "reason"),
    [
        ("schema: coatshare.recipe/v1\nid: x\n", "schema", "expected 'coatshare.pipeline/v1'"),
        ("- 1\n- 2\n", "(root)", "expected a mapping"),
        ("a: [1, 2\n", "(yaml)", "not valid YAML"),
    ],
)
def test_not_a_pipeline(text, field, reason):
    with pytest.raises(DocumentError) as err:
        loads(text, "x.yaml")
    assert err.value.field == field and reason in err.value.reason


def test_diff_between_versions():
    old = default_doc()
    blocks = blocks_of(old)
    by_id = {b["id"]: b for b in blocks}
    by_id["capture"]["params"]["exposure_ms"] = 12.0
    by_id["capture"]["params"]["settle_ms"] = 50.0
    del by_id["locate"]["params"]["min_confidence"]
    by_id["branch"]["params"]["condition"]["value"] = False
    by_id["fit"]["position"] = {"x": 900.0, "y": 60.0}
    by_id["qc"]["retries"] = 2
    blocks = [b for b in blocks if b["id"] != "record"]
    blocks.append(
        {
            "id": "alarm",
            "type": "notify",
            "params": {"level": "alarm"},
            "position": {"x": 0.0, "y": 0.0},
        }
    )
    wires = [w for w in wires_of(old) if "record" not in w["from"] + w["to"]]
    wires.append({"from": "qc.report", "to": "alarm.report"})
    new = edit(old, version=2, blocks=blocks, wires=wires, failure_policy="stop_cell")
    d = diff(old, new)
    assert (d.old, d.new) == ("spray-default@1", "spray-default@2")
    assert d.blocks_added == ["alarm"] and d.blocks_removed == ["record"]
    assert {b: [str(c) for c in cs] for b, cs in d.blocks_changed.items()} == {
        "capture": ["params.exposure_ms: 8.0 -> 12.0", "params.settle_ms: added 50.0"],
        "locate": ["params.min_confidence: removed (was 0.6)"],
        "branch": ["params.condition.value: True -> False"],
        "qc": ["retries: added 2"],
    }
    assert d.blocks_moved == {"fit": ((880.0, 80.0), (900.0, 60.0))}
    assert d.wires_added == ["qc.report -> alarm.report"]
    assert d.wires_removed == [
        "qc.report -> record.report",
        "fit.program -> record.program",
        "branch.then -> record.pose",
        "execute.film -> record.film",
        "record.record_id -> notify.record_id",
        "record.record_id -> output.record_id",
    ]
    assert [str(c) for c in d.settings_changed] == ["failure_policy: 'hold' -> 'stop_cell'"]
    assert d.behaviour_changed and not d.is_empty
    lines = d.lines()
    assert lines[:3] == ["spray-default@1 -> spray-default@2", "+ block alarm", "- block record"]
    assert "~ block fit: moved (880, 80) -> (900, 60)" in lines
    assert json.loads(json.dumps(d.to_json()))["blocks_moved"]["fit"] == {
        "from": [880.0, 80.0],
        "to": [900.0, 60.0],
    }


def test_layout_only_diff_needs_no_new_approval():
    old = default_doc()
    new = edit(old, blocks=[{**b, "position": {"x": 0.0, "y": 0.0}} for b in blocks_of(old)])
    d = diff(old, new)
    assert not d.behaviour_changed and not d.is_empty
    assert len(d.blocks_moved) == len(old.blocks)
    assert diff(old, old).is_empty
