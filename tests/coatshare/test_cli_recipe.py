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
    for face in data["faces"].values():
        assert keys - {"faces"} <= set(face)
        assert face["paint_ml"] > 0 and face["cycle_s"] > 0 and face["path_m"] > 0
        assert face["overspray_pct"] == pytest.approx(100 - face["transfer_efficiency_pct"])
    faces = data["faces"].values()
    assert sum(f["paint_ml"] for f in faces) == pytest.approx(data["paint_ml"], abs=1e-3)
    assert sum(f["cycle_s"] for f in faces) == pytest.approx(data["cycle_s"], abs=1e-3)
    assert sum(f["path_m"] for f in faces) == pytest.approx(data["path_m"], abs=1e-3)


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


@pytest.mark.parametrize(
    "finish, args, field, words",
    [
        # the sag limit binds (60 um x 3 coats), not the slowest speed
        ("target_dft_um: 500\nmax_coats: 3", [], "finish.target_dft_um", "180 um"),
        ("target_dft_um: 100", ["--coats", "1"], "planner.coats", "max_dry_per_coat_um=60"),
        ("target_dft_um: 40", ["--coats", "5"], "planner.coats", "finish.max_coats=3"),
        ("target_dft_um: 40", ["--speed-mm-s", "100"], "planner.speed_mm_s", "needs about"),
    ],
)
def test_targets_the_limits_cannot_meet_exit_2_and_write_nothing(
    tmp_path, finish, args, field, words
):
    spec = tmp_path / "f.yaml"
    spec.write_text(f"name: f\npaint: {{name: lacquer, volume_solids: 0.35}}\n{finish}\n")
    out = tmp_path / "r.yaml"
    part = "rect:width_mm=300,height_mm=200"
    res = run("recipe", "plan", "--part", part, "--finish", str(spec), "-o", str(out), *args)
    assert res.returncode == 2, res.stderr
    assert f"error: {field}: " in res.stderr and words in res.stderr
    assert not out.exists()


def test_planner_parameters_by_name(tmp_path):
    out = tmp_path / "r.yaml"
    base = ["recipe", "plan", "--part", "rect:width_mm=300,height_mm=200", "--finish"]
    sets = ["--set", "pitch_mm=55", "--set", "lead_mm=75", "--set", "overtravel_mm=35"]
    res = run(*base, "benchmark", "-o", str(out), "--no-edge-passes", "--spacing-mm", "6", *sets)
    assert res.returncode == 0, res.stderr
    from recipes.document import load

    doc = load(out)
    assert (doc.planner.pitch_mm, doc.planner.lead_mm, doc.planner.overtravel_mm) == (55, 75, 35)
    assert doc.chosen["pitch_mm"] == pytest.approx(55.0, abs=0.3)
    assert doc.chosen["overtravel_mm"] == 35.0
    for item, field in (("pitch=5", "planner.pitch"), ("inset_mm=x", "planner.inset_mm")):
        bad = tmp_path / "bad.yaml"
        res = run(*base, "benchmark", "-o", str(bad), "--set", item)
        assert res.returncode == 2
        assert f"error: {field}: " in res.stderr
        assert not bad.exists()


def test_uneven_waypoint_rows_are_refused_by_index(planned, tmp_path):
    lines = planned.read_text().splitlines(keepends=True)
    k = [i for i, line in enumerate(lines) if line.startswith("  - [")][7]
    lines[k] = "  - [" + lines[k].partition(", ")[2]
    bad = tmp_path / "bad.yaml"
    bad.write_text("".join(lines))
    res = run("recipe", "simulate", str(bad))
    assert res.returncode == 2
    assert "program.waypoints[7]: has 11 numbers, expected 12" in res.stderr
    assert "Traceback" not in res.stderr


def test_a_relative_part_file_is_found_from_anywhere(tmp_path):
    from recipes.parts.dxf import save_dxf
    from recipes.parts.templates import rect

    (tmp_path / "sub").mkdir()
    save_dxf(rect(300, 200, 18), tmp_path / "sub" / "x.dxf")
    res = run("recipe", "plan", "--part", "sub/x.dxf", "--finish", "benchmark", "-o", "sub/r.yaml",
              "--no-edge-passes", "--spacing-mm", "6", cwd=tmp_path)  # fmt: skip
    assert res.returncode == 0, res.stderr
    assert "  path: x.dxf\n" in (tmp_path / "sub" / "r.yaml").read_text()
    res = run("recipe", "simulate", str(tmp_path / "sub" / "r.yaml"), "--json", cwd="/")
    assert res.returncode == 0, res.stderr
    assert json.loads(res.stdout)["faces"]["top"]["dft_mean_um"] > 30.0
