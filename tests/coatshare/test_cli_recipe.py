"""The recipe commands as a user runs them: real processes, real files."""

import json
import subprocess
import sys

import pytest

CLI = [sys.executable, "-m", "coatshare"]


def run(*args, cwd=None):
    return subprocess.run([*CLI, *args], capture_output=True, text=True, cwd=cwd, timeout=300)


@pytest.fixture(scope="module")
def planned(tmp_path_factory):
    out = tmp_path_factory.mktemp("cli") / "door.yaml"
    res = run(
        "recipe",
        "plan",
        "--part",
        "door",
        "--finish",
        "benchmark",
        "-o",
        str(out),
        "--spacing-mm",
        "4",
    )
    assert res.returncode == 0, res.stderr
    return out


def test_simulate_prints_one_json_object_with_the_agreed_keys(planned):
    res = run("recipe", "simulate", str(planned), "--json")
    assert res.returncode == 0, res.stderr
    data = json.loads(res.stdout)
    keys = {
        "within_tol_pct",
        "coverage_pct",
        "dft_mean_um",
        "dft_min_um",
        "dft_max_um",
        "dft_cv_pct",
        "capture_pct",
        "transfer_efficiency_pct",
        "overspray_pct",
        "paint_ml",
        "cycle_s",
        "path_m",
        "faces",
    }
    assert keys <= set(data)
    assert set(data["faces"]) == {"top", "edge"}
    assert data["faces"]["top"]["within_tol_pct"] >= 99.0
    assert {"within_tol_pct", "capture_pct", "dft_mean_um"} <= set(data["faces"]["top"])


def test_show_writes_a_heat_map(planned, tmp_path):
    png = tmp_path / "heat.png"
    res = run("recipe", "show", str(planned), "-o", str(png))
    assert res.returncode == 0, res.stderr
    assert png.read_bytes()[:8] == b"\x89PNG\r\n\x1a\n"
    assert png.stat().st_size > 20_000


@pytest.mark.parametrize(
    "args, field",
    [
        (["--standoff-mm", "500"], "planner.standoff_mm"),
        (["--speed-mm-s", "0"], "speed_mm_s"),
        (["--speed-mm-s", "5000"], "planner.speed_mm_s"),
    ],
)
def test_bad_input_exits_2_names_the_field_and_writes_nothing(tmp_path, args, field):
    out = tmp_path / "r.yaml"
    res = run("recipe", "plan", "--part", "door", "--finish", "benchmark", "-o", str(out), *args)
    assert res.returncode == 2
    assert field in res.stderr
    assert not out.exists()


def test_unreachable_target_and_open_outline(tmp_path):
    finish = tmp_path / "thin.yaml"
    finish.write_text(
        "name: thin\npaint: {name: lacquer, volume_solids: 0.35}\ntarget_dft_um: 2.0\n"
    )
    out = tmp_path / "r.yaml"
    res = run("recipe", "plan", "--part", "door", "--finish", str(finish), "-o", str(out))
    assert res.returncode == 2
    assert "finish.target_dft_um" in res.stderr and "speed_max_mm_s" in res.stderr
    import ezdxf

    doc = ezdxf.new()
    doc.header["$INSUNITS"] = 4
    doc.modelspace().add_lwpolyline([(0, 0), (100, 0), (100, 50)], close=False)
    dxf = tmp_path / "open.dxf"
    doc.saveas(dxf)
    res = run("recipe", "plan", "--part", str(dxf), "--finish", "benchmark", "-o", str(out))
    assert res.returncode == 2
    assert "not closed" in res.stderr or "no closed contour" in res.stderr
    assert not out.exists()
