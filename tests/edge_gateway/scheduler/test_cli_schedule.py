import json
from pathlib import Path

import pytest
import yaml
from typer.testing import CliRunner

from coatshare.cli_schedule import schedule_app
from edge_gateway.scheduler.upmsp import makespan, read_upmsp
from recipes.errors import InvalidInputError
from tests.edge_gateway.scheduler.helpers import job, small_problem

BENCH = Path(__file__).resolve().parents[4] / "shared" / "benchmarks" / "upmsp"
runner = CliRunner()


@pytest.mark.skipif(not BENCH.exists(), reason="shared benchmark not present")
def test_solve_upmsp_json():
    path = BENCH / "instances" / "small" / "I_8_3_S_1-124_7.txt"
    res = runner.invoke(
        schedule_app, ["solve", str(path), "--format", "upmsp", "--time-limit", "5", "--json"]
    )
    assert res.exit_code == 0, res.output
    out = json.loads(res.output)
    assert out["makespan"] == 130  # proven optimum
    assert makespan(read_upmsp(path), out["machines"]) == 130


def test_solve_jobs_yaml_with_gantt(tmp_path):
    doc = tmp_path / "day.yaml"
    doc.write_text(yaml.safe_dump(small_problem().model_dump(mode="json")))
    png = tmp_path / "gantt.png"
    res = runner.invoke(
        schedule_app, ["solve", str(doc), "--time-limit", "3", "--json", "--gantt", str(png)]
    )
    assert res.exit_code == 0, res.output
    out = json.loads(res.output)
    assert sum(len(v) for v in out["cells"].values()) == 7
    assert out["figures"]["deadline_misses"] == 0
    assert png.read_bytes()[:4] == b"\x89PNG"


def test_bad_job_document_raises_domain_error(tmp_path):
    p = small_problem()
    p.jobs.append(job("j17", "grey", part_size_mm=9000))
    doc = tmp_path / "bad.json"
    doc.write_text(json.dumps(p.model_dump(mode="json")))
    res = runner.invoke(schedule_app, ["solve", str(doc), "--time-limit", "1"])
    assert isinstance(res.exception, InvalidInputError)
    assert res.exception.field == "jobs[j17]"
