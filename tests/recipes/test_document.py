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
