"""``coatshare vision locate`` as a user runs it: real processes, files, exit codes."""

from __future__ import annotations

import json
import subprocess
import sys

import cv2
import numpy as np
import pytest
import yaml

from sim.frames import PlanarPose

from .conftest import DEMO_CAMERA, VIEW_X_MM, panel, render

# the command as registered in coatshare.cli (added here when cli.py does not list it yet)
_MAIN = """
import sys
from coatshare import cli
if not any(g.name == "vision" for g in cli.app.registered_groups):
    from coatshare.cli_vision import vision_app
    cli.app.add_typer(vision_app, name="vision")
sys.argv = ["coatshare", *sys.argv[1:]]
cli.main()
"""


def run(*args: str) -> subprocess.CompletedProcess:
    return subprocess.run(
        [sys.executable, "-c", _MAIN, "vision", "locate", *args],
        capture_output=True,
        text=True,
        timeout=120,
    )


@pytest.fixture(scope="module")
def images(tmp_path_factory, renderer) -> dict:
    out = tmp_path_factory.mktemp("vision_cli")
    door = panel("door")
    small = panel("rect:width_mm=250,height_mm=200")
    scenes = {
        "door": render(renderer, [(door, PlanarPose(VIEW_X_MM + 4.0, -3.0, 1.0))]),
        "two": render(
            renderer,
            [
                (small, PlanarPose(VIEW_X_MM - 150.0, 20.0, 3.0)),
                (small, PlanarPose(VIEW_X_MM + 160.0, -30.0, -8.0)),
            ],
        ),
    }
    paths = {}
    for name, scene in scenes.items():
        paths[name] = out / f"{name}.png"
        cv2.imwrite(str(paths[name]), scene.image)
    paths["camera"] = out / "camera.yaml"
    paths["camera"].write_text(DEMO_CAMERA.read_text())
    return paths


def test_locate_prints_the_agreed_json(images) -> None:
    res = run(str(images["door"]), "--camera", str(images["camera"]), "--part", "door", "--json")
    assert res.returncode == 0, res.stderr
    data = json.loads(res.stdout)
    assert {
        "verdict",
        "x_mm",
        "y_mm",
        "theta_deg",
        "width_mm",
        "height_mm",
        "score",
        "outline",
    } <= set(data)
    assert data["verdict"] == "ok"
    assert data["x_mm"] == pytest.approx(VIEW_X_MM + 4.0, abs=0.2)
    assert data["y_mm"] == pytest.approx(-3.0, abs=0.2)
    assert data["theta_deg"] == pytest.approx(1.0, abs=0.02)
    assert np.asarray(data["outline"]).shape == (4, 2)


def test_several_parts_come_as_a_list(images) -> None:
    res = run(
        str(images["two"]),
        "--camera",
        str(images["camera"]),
        "--part",
        "rect:width_mm=250,height_mm=200",
        "--json",
    )
    assert res.returncode == 0, res.stderr
    data = json.loads(res.stdout)
    assert data["verdict"] == "several"
    assert sorted(round(p["x_mm"]) for p in data["parts"]) == [-2150, -1840]


def test_bad_input_exits_with_2(images, tmp_path) -> None:
    empty = tmp_path / "empty.png"
    empty.write_bytes(b"")
    res = run(str(empty), "--camera", str(images["camera"]), "--part", "door")
    assert res.returncode == 2 and "image: the file is empty" in res.stderr

    cal = yaml.safe_load(DEMO_CAMERA.read_text())
    cal["K"] = [[0.0, 0.0, 640.0], [0.0, 0.0, 480.0], [0.0, 0.0, 1.0]]
    bad_cal = tmp_path / "singular.yaml"
    bad_cal.write_text(yaml.safe_dump(cal))
    res = run(str(images["door"]), "--camera", str(bad_cal), "--part", "door")
    assert res.returncode == 2 and "K: singular" in res.stderr

    res = run(str(images["door"]), "--camera", str(images["camera"]), "--part", "chair_leg")
    assert res.returncode == 2 and "part.outline" in res.stderr
