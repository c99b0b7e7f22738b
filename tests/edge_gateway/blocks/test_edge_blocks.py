"""The edge's block implementations on real recipes, fits and films."""

from dataclasses import replace

import numpy as np
import pytest

from edge_gateway.blocks import (
    BlockFailedError,
    MeasuredOutline,
    PartContext,
    PartPose,
    RecipeBlocks,
    RecordBlocks,
    VisionBlocks,
)
from edge_gateway.db import open_database
from edge_gateway.records import PartRecordStore
from edge_gateway.vision import PartLocation
from pipelines.catalog import (
    CheckPartParams,
    EvaluateParams,
    FitParams,
    NotifyParams,
    PredictParams,
    RecordParams,
)
from recipes.film import ThicknessMap
from recipes.fit import FittedProgram
from recipes.planner import PlannerParams
from recipes.recipe import plan_from_spec
from sim.blocks import predict_thickness
from sim.feed import panel

SPEC = "rect:width_mm=400,height_mm=300"


@pytest.fixture(scope="module")
def recipe():
    doc, _ = plan_from_spec(SPEC, "benchmark", None, PlannerParams(edge_passes=False, spacing_mm=4))
    return doc


def _pose(dx=0.0, dy=0.0, theta_deg=0.0):
    th = np.radians(theta_deg)
    T = np.eye(4)
    T[:2, :2] = [[np.cos(th), -np.sin(th)], [np.sin(th), np.cos(th)]]
    T[:2, 3] = [dx, dy]
    return PartPose(dx + 200, dy + 150, theta_deg, T)


def _location(verdict="ok", size_dev=(0.3, -0.2), scale=(1.0007, 0.9993), score=0.98, holes=()):
    ring = np.array([[0, 0], [400, 0], [400, 300], [0, 300], [0, 0]], dtype=float)
    return PartLocation(
        verdict, 200.0, 150.0, 0.0, 400.3, 299.8, size_dev, score, 0.1, 0.0, ring, holes,
        np.eye(4), scale, () if verdict == "ok" else ("outline differs",),
    )  # fmt: skip


def _outline(**kw):
    loc = _location(**kw)
    return MeasuredOutline(loc.outline_mm, loc.holes_mm, loc)


def test_check_part_passes_a_good_part_and_names_every_problem_of_a_bad_one(recipe):
    vision = VisionBlocks()
    part = panel(SPEC)
    ok = vision.check_part({"outline": _outline(), "part": part}, CheckPartParams())
    assert ok == {"ok": True, "score": 0.98, "reason": ""}
    bad = vision.check_part(
        {"outline": _outline(verdict="wrong_part", size_dev=(8.0, 0.5), scale=(1.02, 1.0),
                             score=0.5), "part": part},
        CheckPartParams(),
    )  # fmt: skip
    assert bad["ok"] is False and bad["score"] == 0.5
    reason = bad["reason"]
    for text in ("wrong part", "size off by 8.0 x 0.5 mm", "area off by 2.0 %", "outline match"):
        assert text in reason


def test_fit_moves_the_program_and_refuses_a_part_too_far_from_the_station(recipe):
    blocks = RecipeBlocks(np.eye(4))
    out = blocks.fit({"recipe": recipe, "pose": _pose(12.0, -5.0, 1.0)}, FitParams())
    fitted = out["program"]
    assert isinstance(fitted, FittedProgram) and fitted.fit.action == "transformed"
    np.testing.assert_allclose(fitted.T_world_part[:2, 3], [12.0, -5.0])
    with pytest.raises(BlockFailedError, match="60.0 mm from the station"):
        blocks.fit({"recipe": recipe, "pose": _pose(60.0)}, FitParams())
    with pytest.raises(BlockFailedError, match="turned 20.0 deg"):
        blocks.fit({"recipe": recipe, "pose": _pose(theta_deg=20.0)}, FitParams())


def test_predict_then_evaluate_judges_against_floors_and_the_prediction(recipe):
    fitted = RecipeBlocks(np.eye(4)).fit({"recipe": recipe, "pose": _pose()}, FitParams())
    pred = predict_thickness(
        {"program": fitted["program"], "recipe": recipe}, PredictParams(spacing_mm=4.0)
    )
    film = pred["thickness"]
    assert isinstance(film, ThicknessMap) and film.source == "predicted"
    assert pred["report"]["within_tol_pct"] == pytest.approx(film.metrics.within_tol_pct, abs=1e-3)
    blocks = RecipeBlocks()
    same = blocks.evaluate(
        {"film": film, "recipe": recipe, "predicted": film},
        EvaluateParams(min_within_tol_pct=0, min_coverage_pct=0, max_below_prediction_pct=2),
    )
    assert same["passed"] is True and same["report"]["prediction"]["drop_pct"] == 0.0
    thin = ThicknessMap(
        film.samples, film.wet_um * 0.5, film.dry_um * 0.5,
        replace(film.metrics, within_tol_pct=film.metrics.within_tol_pct - 30),
        "simulated", film.target_dft_um, film.tolerance_pct,
    )  # fmt: skip
    judged = blocks.evaluate(
        {"film": thin, "recipe": recipe, "predicted": film},
        EvaluateParams(min_within_tol_pct=50, min_coverage_pct=0, max_below_prediction_pct=2),
    )
    assert judged["passed"] is False
    assert any("30.00 points below the prediction" in f for f in judged["report"]["failures"])


def test_record_and_notify_use_the_part_context(tmp_path, recipe):
    store = PartRecordStore(open_database(sqlite_path=tmp_path / "e.db"))
    sent = []
    blocks = RecordBlocks(store, publish=lambda t, p: sent.append((t, p)), topic_prefix="f1")
    blocks.context = PartContext("J1-004", cell_id="2", pipeline="spray-default@1")
    out = blocks.record(
        {"report": {"passed": True}, "pose": _pose(1.0, 2.0)}, RecordParams(tags=["a"])
    )
    rec = store.get(out["record_id"])
    assert (rec["part_id"], rec["cell_id"], rec["status"], rec["passed"]) == (
        "J1-004", "2", "done", True
    )  # fmt: skip
    assert rec["pose"] == {"x_mm": 201.0, "y_mm": 152.0, "theta_deg": 0.0}
    blocks.notify({"decision": "scrap"}, NotifyParams(channel="mqtt", to=["shift"], level="alarm"))
    assert sent[0][0] == "f1/notify/shift" and '"decision": "scrap"' in sent[0][1]
    no_link = RecordBlocks(store)
    with pytest.raises(Exception, match="no MQTT link"):
        no_link.notify({}, NotifyParams(channel="mqtt"))
