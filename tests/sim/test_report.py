"""The run report (table, Markdown, heat maps) from results as the simulator publishes them,
and ``coatshare sim run`` refusing a bad world before it starts anything."""

from __future__ import annotations

import json
import subprocess
import sys

import numpy as np

from sim.report import table_rows, write_report
from sim.results import qc_verdict

from .conftest import write_world

METRICS = {"within_tol_pct": 85.0, "coverage_pct": 86.0, "dft_mean_um": 39.5, "paint_ml": 43.0,
           "cycle_s": 13.9, "faces": {"top": {"within_tol_pct": 98.9}}}  # fmt: skip
PREDICTED = {"within_tol_pct": 86.8, "coverage_pct": 86.8}


def _result(tmp_path, part_id: str, *, completed: bool = True, faults=()) -> dict:
    film = np.full((200, 300), 40.0)
    film[90:110, 100:190] = 15.0
    npz = tmp_path / f"{part_id}.npz"
    np.savez(npz, top_map_um=film, grid_x0_y0_spacing_mm=np.array([1.0, 1.0, 2.0]),
             target_tol=np.array([40.0, 10.0]))  # fmt: skip
    program = {"completed": completed, "fault_code": "" if completed else "ESTOP"}
    return dict(
        cell="1", index=int(part_id[-1]), part_id=part_id, spec="door", label="ok",
        program=program, metrics=METRICS, predicted=PREDICTED,
        qc=qc_verdict(METRICS, PREDICTED, program), faults=list(faults), collisions=[],
        files={"npz": str(npz)},
    )  # fmt: skip


def test_qc_compares_with_the_recipes_prediction() -> None:
    ok = qc_verdict(METRICS, PREDICTED, {"completed": True})
    assert ok["passed"] and ok["reasons"] == []
    thin = qc_verdict({**METRICS, "within_tol_pct": 84.7}, PREDICTED, {"completed": True})
    assert not thin["passed"] and thin["reasons"] == ["within_tol_pct 84.70 < 86.80 predicted - 2"]
    stopped = qc_verdict(METRICS, PREDICTED, {"completed": False, "fault_code": "ESTOP"})
    assert stopped["reasons"] == ["program not completed (ESTOP)"]
    assert not qc_verdict(None, None, {"completed": True})["passed"]


def test_report_has_a_row_per_part_and_a_heat_map_each(tmp_path) -> None:
    clog = {"code": "GUN_CLOG", "kind": "gun_clog", "start_s": 1.0, "end_s": 1.4}
    results = [_result(tmp_path, "1-0000"), _result(tmp_path, "1-0001", completed=False,
                                                    faults=[clog])]  # fmt: skip
    rows = table_rows(results)
    assert rows[0]["within"] == "85.00 / 86.80" and rows[0]["qc"] == "pass"
    assert rows[1]["program"] == "ESTOP" and rows[1]["faults"] == "GUN_CLOG"
    assert rows[1]["qc"] == "FAIL"
    paths = write_report(tmp_path / "report", results, dict(world_name="w", cells=["1"]))
    report = json.loads(paths["json"].read_text())
    assert report["summary"] == {"parts": 2, "completed": 1, "qc_passed": 1,
                                 "within_tol_pct_mean": 85.0, "paint_ml": 86.0}  # fmt: skip
    md = paths["md"].read_text()
    assert "| 1 | 1-0001 | door | ESTOP | 85.00 / 86.80 |" in md
    for part in ("1-0000", "1-0001"):
        assert paths[f"heat:{part}"].read_bytes()[:4] == b"\x89PNG"
    empty = write_report(tmp_path / "empty", [], dict(world_name="w", cells=["1"]))
    assert "0 parts: 0 programs completed" in empty["md"].read_text()


def test_sim_run_refuses_a_bad_world_with_the_field_path(tmp_path, world_data) -> None:
    world_data["cells"][0]["gun"] = {"on_latency_s": -0.01}
    world = write_world(tmp_path, world_data)
    out = subprocess.run(
        [sys.executable, "-m", "coatshare", "sim", "run", str(world), "--parts", "1",
         "--report", str(tmp_path / "report")],
        capture_output=True, text=True, timeout=60,
    )  # fmt: skip
    assert out.returncode == 2, out.stderr
    field = "cells[0].gun.on_latency_s: Input should be greater than or equal to 0"
    assert f"{world}: {field}" in out.stderr
    assert not (tmp_path / "report").exists()  # nothing was planned or started
