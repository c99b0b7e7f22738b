from pathlib import Path

import pytest

from recipes.document import dumps, load, loads, save
from recipes.errors import InvalidInputError
from recipes.planner import PlannerParams
from recipes.recipe import plan_from_spec, simulate_recipe


@pytest.fixture(scope="module")
def small_recipe():
    doc, pred = plan_from_spec(
        "rect:width_mm=300,height_mm=200", "benchmark", params=PlannerParams(spacing_mm=4.0)
    )
    return doc, pred


def test_round_trip_is_byte_identical(small_recipe, tmp_path):
    doc, _ = small_recipe
    path = tmp_path / "r.yaml"
    save(doc, path)
    text = path.read_text()
    again = load(path)
    assert dumps(again) == text
    assert again.content_hash == doc.content_hash
    assert text.startswith("schema: coatshare.recipe/v1\n")


def test_simulating_the_saved_recipe_reproduces_its_metrics(small_recipe, tmp_path):
    doc, pred = small_recipe
    path = tmp_path / "r.yaml"
    save(doc, path)
    _, again = simulate_recipe(load(path), tmp_path)
    assert again.metrics.within_tol_pct == pytest.approx(pred.metrics.within_tol_pct, abs=1e-9)
    assert again.metrics.paint_ml == pytest.approx(doc.metrics["paint_ml"], abs=1e-3)


def test_editing_the_program_breaks_the_hash(small_recipe):
    doc, _ = small_recipe
    text = dumps(doc)
    tampered = text.replace("speed_mm_s: null", "speed_mm_s: 999.0", 1)
    assert tampered != text
    with pytest.raises(InvalidInputError) as err:
        loads(tampered, "r.yaml")
    assert err.value.field == "content_hash"
    assert "r.yaml" in str(err.value)


def test_validation_errors_name_file_field_and_reason(small_recipe):
    doc, _ = small_recipe
    text = dumps(doc).replace("flow_ml_min: 250.0", "flow_ml_min: -3.0")
    with pytest.raises(InvalidInputError) as err:
        loads(text, "bad.yaml", check_hash=False)
    assert err.value.field == "gun.flow_ml_min"
    assert "greater than 0" in err.value.reason
    assert str(err.value).startswith("bad.yaml: gun.flow_ml_min")
    with pytest.raises(InvalidInputError, match="schema"):
        loads(dumps(doc).replace("coatshare.recipe/v1", "coatshare.recipe/v9"), "x.yaml")


def test_approval_fields_are_reserved_and_outside_the_hash(small_recipe):
    doc, _ = small_recipe
    approved = doc.model_copy(
        update={
            "approval": doc.approval.model_copy(
                update={"status": "approved", "approver": "op1", "signature": "ab" * 32}
            )
        }
    )
    assert approved.compute_hash() == doc.content_hash
    assert loads(dumps(approved)).approval.status == "approved"


def test_a_short_waypoint_row_names_its_index(small_recipe):
    doc, _ = small_recipe
    text = dumps(doc)
    lines = text.splitlines(keepends=True)
    rows = [i for i, line in enumerate(lines) if line.startswith("  - [")]
    k = rows[5]
    _, _, tail = lines[k].partition(", ")  # drop the first number of row 5
    lines[k] = "  - [" + tail
    with pytest.raises(InvalidInputError) as err:
        loads("".join(lines), "bad.yaml", check_hash=False)
    assert err.value.field == "program.waypoints[5]"
    assert "has 11 numbers, expected 12" in err.value.reason
    assert str(err.value).startswith("bad.yaml: program.waypoints[5]")


def test_bad_trigger_and_kind_values_are_refused(small_recipe):
    doc, _ = small_recipe
    rows = [list(r) for r in doc.program.waypoints]
    rows[3][10] = 2.0
    bad = doc.model_copy(update={"program": doc.program.model_copy(update={"waypoints": rows})})
    with pytest.raises(InvalidInputError) as err:
        bad.program.to_program()
    assert err.value.field == "program.waypoints[3].trigger"


def test_a_recipe_file_must_carry_its_hash(small_recipe, tmp_path):
    doc, _ = small_recipe
    text = dumps(doc)
    unhashed = text.replace(f"content_hash: {doc.content_hash}", "content_hash: ''")
    assert unhashed != text
    with pytest.raises(InvalidInputError) as err:
        loads(unhashed, "r.yaml")
    assert err.value.field == "content_hash" and "missing" in err.value.reason
    missing = text.replace(f"content_hash: {doc.content_hash}\n", "")
    with pytest.raises(InvalidInputError, match="content_hash: missing"):
        loads(missing, "r.yaml")
    # documents built in memory need none until they are written and read back
    assert loads(unhashed, check_hash=False).content_hash == ""
    path = tmp_path / "r.yaml"
    save(doc.model_copy(update={"content_hash": ""}).with_hash(), path)
    assert load(path).content_hash == doc.content_hash


def test_part_files_are_stored_relative_to_the_recipe(tmp_path, monkeypatch):
    from recipes.parts.dxf import save_dxf
    from recipes.parts.templates import rect

    (tmp_path / "parts").mkdir()
    (tmp_path / "recipes").mkdir()
    save_dxf(rect(300, 200, 18), tmp_path / "parts" / "x.dxf")
    monkeypatch.chdir(tmp_path)
    params = PlannerParams(spacing_mm=6.0, edge_passes=False)
    doc, _ = plan_from_spec("parts/x.dxf", "benchmark", params=params, recipe_dir=Path("recipes"))
    assert doc.part.path == "../parts/x.dxf"
    save(doc, tmp_path / "recipes" / "r.yaml")
    # used from elsewhere, the recipe finds its part next to it
    monkeypatch.chdir(tmp_path / "parts")
    recipe = tmp_path / "recipes" / "r.yaml"
    part, pred = simulate_recipe(load(recipe), recipe.parent, spacing_mm=6.0)
    assert part.outline.area == pytest.approx(60000.0)
    assert pred.metrics.faces["top"].dft_mean_um > 30.0
    # without a recipe directory the path is absolute
    doc2, _ = plan_from_spec("x.dxf", "benchmark", params=params)
    assert doc2.part.path == (tmp_path / "parts" / "x.dxf").resolve().as_posix()
