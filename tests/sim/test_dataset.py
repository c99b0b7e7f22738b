"""Camera datasets: files, labels that agree with the ground truth, reproducibility, CLI."""

from __future__ import annotations

import json

import cv2
import numpy as np
import pytest
import typer
from shapely.geometry import Polygon
from typer.testing import CliRunner

from coatshare.cli_sim import sim_app
from recipes.errors import InvalidInputError
from sim.camera import CameraCalibration
from sim.dataset import LABELS, DatasetGenerator, DatasetOptions, write_dataset

from .conftest import DEMO_WORLD


@pytest.fixture(scope="module")
def written(tmp_path_factory, demo_world):
    out = tmp_path_factory.mktemp("dataset")
    options = DatasetOptions(images=16, p_no_part=0.2, p_several=0.2, p_cut_by_border=0.2)
    summary = write_dataset(demo_world, out, options)
    return out, summary


def test_files_and_summary(written, demo_cell) -> None:
    out, summary = written
    names = sorted(p.name for p in out.iterdir())
    assert names.count("camera.yaml") == 1 and "dataset.json" in names
    assert len([n for n in names if n.endswith(".png")]) == 16
    assert len([n for n in names if n.endswith(".json")]) == 17
    cal = CameraCalibration.load(out / "camera.yaml")
    np.testing.assert_array_equal(cal.K, demo_cell.calibration.K)
    assert summary["images"] == 16 and sum(summary["labels"].values()) == 16
    assert set(summary["labels"]) == set(LABELS)
    assert json.loads((out / "dataset.json").read_text()) == summary


def test_each_label_agrees_with_the_ground_truth(written) -> None:
    out, _ = written
    seen = set()
    for k in range(16):
        rec = json.loads((out / f"{k:06d}.json").read_text())
        img = cv2.imread(str(out / rec["image"]), cv2.IMREAD_UNCHANGED)
        assert img.shape == (960, 1280) and img.dtype == np.uint8
        visible = [p for p in rec["parts"] if p["visibility"] != "none"]
        seen.add(rec["label"])
        if rec["label"] == "no_part":
            assert not visible and rec["pose"] is None
        elif rec["label"] == "several":
            assert len(visible) == 2 and rec["pose"] is None
        elif rec["label"] == "cut_by_border":
            assert len(visible) == 1 and visible[0]["visibility"] == "partial"
        else:
            assert rec["label"] == visible[0]["label"]
            assert visible[0]["visibility"] == "full"
            pose, outline = rec["pose"], Polygon(rec["outline"])
            assert set(pose) == {"x_mm", "y_mm", "theta_deg"}
            # the pose is the centre of the outline's bounding box (undamaged parts)
            if rec["damage"] is None:
                assert outline.centroid.x == pytest.approx(pose["x_mm"], abs=1e-3)
                assert outline.centroid.y == pytest.approx(pose["y_mm"], abs=1e-3)
            # the part is bright where the ground truth says, the belt dark around it
            mask = np.zeros(img.shape, np.uint8)
            cv2.fillPoly(mask, [np.round(np.array(rec["outline_px"])).astype(np.int32)], 1)
            inner = cv2.erode(mask, np.ones((9, 9), np.uint8))
            outer = cv2.dilate(mask, np.ones((41, 41), np.uint8)) - cv2.dilate(
                mask, np.ones((21, 21), np.uint8)
            )
            assert img[inner > 0].mean() > img[outer > 0].mean() + 40
    assert {"no_part", "several", "cut_by_border"} <= seen


def test_images_are_reproducible_and_seeds_differ(demo_world) -> None:
    a = DatasetGenerator(demo_world, DatasetOptions(images=4)).image(3)
    b = DatasetGenerator(demo_world, DatasetOptions(images=4)).image(3)
    c = DatasetGenerator(demo_world, DatasetOptions(images=4, seed=99)).image(3)
    assert np.array_equal(a.image, b.image) and a.record == b.record
    assert not np.array_equal(a.image, c.image)


def test_options_are_checked() -> None:
    with pytest.raises(InvalidInputError, match="images"):
        DatasetOptions(images=0)
    with pytest.raises(InvalidInputError, match="sum to <= 1"):
        DatasetOptions(images=3, p_no_part=0.6, p_several=0.6)


def test_cli_writes_the_dataset(tmp_path) -> None:
    app = typer.Typer()
    app.add_typer(sim_app, name="sim")
    out = tmp_path / "ds"
    result = CliRunner().invoke(
        app, ["sim", "dataset", str(DEMO_WORLD), "--images", "3", "--out", str(out), "--seed", "5"]
    )
    assert result.exit_code == 0, result.output
    assert "wrote 3 images (1280x960, 0.501 mm/px)" in result.output
    assert sorted(p.name for p in out.glob("*.png")) == ["000000.png", "000001.png", "000002.png"]
    assert json.loads((out / "000001.json").read_text())["seed"] == 5
