"""The default spray pipeline end to end in the simulator: real blocks, the controller's
logic driving the simulated robot, the edge database."""

import json
import subprocess
import sys
from pathlib import Path

import pytest

from coatshare.pipeline_sim import run_in_sim
from edge_gateway.db import open_database
from edge_gateway.records import PartRecordStore
from pipelines import load_library, standard_catalog
from sim.world import load_world

ROOT = Path(__file__).resolve().parents[2]
DEMO_WORLD = ROOT / "sim" / "worlds" / "demo_cell.yaml"


@pytest.fixture(scope="module")
def dry_run(tmp_path_factory):
    db = tmp_path_factory.mktemp("edge") / "edge.db"
    result = run_in_sim(
        load_library("spray_default"),
        standard_catalog(),
        load_world(DEMO_WORLD),
        parts=4,
        database=db,
    )
    return result, db


def test_good_doors_are_painted_as_predicted(dry_run):
    result, _ = dry_run
    good = [r for r in result.rows if r.label == "ok" and r.part_id != "1-0003"]
    assert [r.part_id for r in good] == ["1-0000", "1-0001"]
    for row in good:
        assert row.status == "completed" and row.qc_passed is True and row.completed is True
        assert row.pose_error_mm < 0.5 and row.pose_error_deg < 0.1
        assert row.fit_action == "adjusted" and 0.2 < row.fit_deviation_mm < 2.0
        assert row.predicted_within_tol_pct == pytest.approx(86.8, abs=0.5)
        assert abs(row.simulated_within_tol_pct - row.predicted_within_tol_pct) <= 2.0
        assert 13.0 < row.cycle_s < 16.0


def test_a_wrong_part_goes_through_the_branch_to_the_operator(dry_run):
    result, _ = dry_run
    row = result.rows[2]
    assert (row.label, row.status, row.held_by) == ("wrong_part", "held", "ask")
    assert row.completed is None  # never sent to the cell
    run = result.runs[2]
    assert run.block("check").outputs["ok"] == "false"
    assert run.block("branch").outputs.get("else") is not None
    assert run.block("fit").status == "skipped"
    assert run.block("ask").status == "held"
    assert run.held.choices == ("accept", "rework", "scrap")
    assert "wrong part" in run.held.reason


def test_the_clogged_gun_fails_qc_against_the_prediction(dry_run):
    result, _ = dry_run
    row = result.rows[3]
    assert row.label == "ok" and row.completed is True
    assert row.simulated_within_tol_pct < row.predicted_within_tol_pct - 2.0
    assert row.qc_passed is False
    report = result.runs[3].outputs["report"]
    assert report["passed"] is False
    assert any("below the prediction" in f for f in report["failures"])


def test_painted_parts_are_recorded_with_an_outbox_message(dry_run):
    result, db = dry_run
    store = PartRecordStore(open_database(sqlite_path=db))
    assert store.count() == 3
    ids = store.for_part("1-0003")
    assert len(ids) == 1
    rec = store.get(ids[0])
    assert rec["status"] == "done" and rec["passed"] is False
    assert rec["recipe"] == "door-benchmark@1"
    assert rec["film_um"].ndim == 2 and rec["film_um"].size > 10_000
    messages = store.pending_messages()
    assert [m["key"] for m in messages] == [f"part-record/{i}" for i in (
        store.for_part("1-0000") + store.for_part("1-0001") + ids
    )]  # fmt: skip


def test_target_check_summary(dry_run):
    result, _ = dry_run
    target = result.summary()["target"]
    assert target["parts"] == 4 and target["sent_to_cell"] == 3 and target["completed"] == 3
    assert target["refused_or_aborted"] == []
    assert target["qc_passed"] == 2
    assert 14.0 < target["cycle_s_mean"] < 15.0


def test_cli_answers_the_operator_and_prints_json():
    res = subprocess.run(
        [
            sys.executable, "-m", "coatshare", "pipeline", "run",
            str(ROOT / "pipelines" / "library" / "spray_default.yaml"),
            "--world", str(DEMO_WORLD), "--parts", "3", "--decision", "scrap", "--json",
        ],
        capture_output=True, text=True, timeout=600,
    )  # fmt: skip
    assert res.returncode == 0, res.stderr
    out = json.loads(res.stdout)
    rows = {r["part_id"]: r for r in out["parts"]}
    assert rows["1-0002"]["status"] == "completed" and rows["1-0002"]["decision"] == "scrap"
    assert rows["1-0000"]["qc_passed"] is True
    assert out["target"]["sent_to_cell"] == 2


def test_cli_refuses_a_bad_world(tmp_path):
    bad = tmp_path / "w.yaml"
    bad.write_text("schema: coatshare.world/v1\nname: x\ncells: []\n")
    res = subprocess.run(
        [sys.executable, "-m", "coatshare", "pipeline", "run",
         str(ROOT / "pipelines" / "library" / "spray_default.yaml"), "--world", str(bad)],
        capture_output=True, text=True, timeout=120,
    )  # fmt: skip
    assert res.returncode == 2
    assert "cells" in res.stderr


def test_validate_with_a_world_reports_the_target_check_and_reach(tmp_path):
    import yaml

    data = yaml.safe_load(DEMO_WORLD.read_text())
    data["cells"][0]["robot"]["T_world_base"]["xyz_mm"] = [0, -1650, -500]  # the door out of reach
    data["cells"][0]["camera"]["calibration"] = str(DEMO_WORLD.parent / "demo_camera.yaml")
    far = tmp_path / "far.yaml"
    far.write_text(yaml.safe_dump(data))
    res = subprocess.run(
        [sys.executable, "-m", "coatshare", "pipeline", "validate",
         str(ROOT / "pipelines" / "library" / "spray_default.yaml"),
         "--world", str(far), "--parts", "1", "--json"],
        capture_output=True, text=True, timeout=600,
    )  # fmt: skip
    assert res.returncode == 0, res.stderr
    out = json.loads(res.stdout)
    assert out["valid"] is True
    target = out["target"]
    assert target["sent_to_cell"] == 1 and target["completed"] == 0
    [refused] = target["refused_or_aborted"]
    assert refused.startswith("1-0000: ")
    assert "UNREACHABLE" in refused or "WORKSPACE" in refused
