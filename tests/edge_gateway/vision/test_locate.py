"""Locating and checking parts on rendered images with known ground truth."""

from __future__ import annotations

import cv2
import numpy as np
import pytest
from shapely.geometry import Point, Polygon

from edge_gateway.vision import LocateOptions, Locator, locate
from edge_gateway.vision.segment import detect
from recipes.parts.panel import PanelPart
from sim.camera import CameraCalibration, look_at
from sim.frames import PlanarPose
from sim.render import CameraRenderer, Lighting

from .conftest import (
    VIEW_X_MM,
    VIEW_Y_MM,
    angle_error_deg,
    panel,
    position_error_mm,
    reference,
    render,
    resized,
)

AGREED_KEYS = {"verdict", "x_mm", "y_mm", "theta_deg", "width_mm", "height_mm", "score", "outline"}


@pytest.fixture(scope="module")
def door_locator(camera, door) -> Locator:
    return Locator(camera, door)


@pytest.mark.parametrize(
    ("dx", "dy", "dtheta", "dw", "dh", "light"),
    [
        (0.0, 0.0, 0.0, 0.0, 0.0, Lighting()),
        (5.0, -9.0, 1.5, 0.8, -0.6, Lighting(gradient_strength=0.3, vignetting=0.2)),
        (-4.0, 6.0, -2.0, -1.0, 1.0, Lighting(ambient=0.75, shadow_strength=0.6)),
        (4.0, 14.0, 1.2, 0.3, 0.9, Lighting(ambient=1.2, gradient_direction_deg=200.0)),
    ],
)
def test_door_pose_and_size_match_the_ground_truth(
    renderer, door, door_locator, dx, dy, dtheta, dw, dh, light
) -> None:
    real = resized(door, dw, dh)
    pose = PlanarPose(VIEW_X_MM + dx, VIEW_Y_MM + dy, dtheta)
    scene = render(renderer, [(real, pose)], lighting=light, noise_std=3.0, seed=int(abs(dx)))
    assert scene.frame.truth[0].visibility == "full"
    res = door_locator.locate(scene.image)
    assert res.verdict == "ok", res.part and res.part.reasons
    loc = res.part
    assert position_error_mm(loc, pose) < 0.2
    assert angle_error_deg(loc.theta_deg, dtheta, 180.0) < 0.02
    assert loc.width_mm == pytest.approx(600.0 + dw, abs=0.25)
    assert loc.height_mm == pytest.approx(400.0 + dh, abs=0.25)
    np.testing.assert_allclose(loc.size_deviation_mm, (dw, dh), atol=0.25)
    assert loc.score > 0.95 and loc.edge_rms_mm < 0.1
    # the fitted outline lies on the real one (world, top face)
    truth = Polygon(scene.frame.truth[0].outline_world_mm)
    assert Polygon(loc.outline_mm).symmetric_difference(truth).area < 0.002 * truth.area


def test_pose_errors_over_a_seeded_set(renderer, door, door_locator) -> None:
    rng = np.random.default_rng(7)
    pos, ang = [], []
    for k in range(10):
        pose = PlanarPose(
            VIEW_X_MM + rng.uniform(-6, 6), VIEW_Y_MM + rng.uniform(-15, 15), rng.uniform(-2, 2)
        )
        light = Lighting(
            ambient=rng.uniform(0.8, 1.15),
            gradient_strength=rng.uniform(0.0, 0.3),
            gradient_direction_deg=rng.uniform(0, 360),
            vignetting=rng.uniform(0.05, 0.2),
            shadow_strength=rng.uniform(0.3, 0.6),
        )
        real = resized(door, *rng.uniform(-1, 1, 2))
        scene = render(
            renderer, [(real, pose)], lighting=light, noise_std=rng.uniform(1, 4), seed=k
        )
        res = door_locator.locate(scene.image)
        assert res.verdict == "ok"
        pos.append(position_error_mm(res.part, pose))
        ang.append(angle_error_deg(res.part.theta_deg, pose.theta_deg, 180.0))
    assert np.mean(pos) < 0.1 and np.max(pos) < 0.25
    assert np.mean(ang) < 0.01 and np.max(ang) < 0.03


def test_the_top_face_is_measured_at_its_height(renderer, camera) -> None:
    # a 60 mm thick panel: on the belt plane its top face would look ~5 % larger
    thick = panel("rect:width_mm=400,height_mm=300,thickness_mm=60")
    pose = PlanarPose(VIEW_X_MM + 30.0, VIEW_Y_MM - 20.0, 8.0)
    res = locate(render(renderer, [(thick, pose)]).image, camera, thick)
    assert res.verdict == "ok"
    assert position_error_mm(res.part, pose) < 0.25
    assert res.part.width_mm == pytest.approx(400.0, abs=0.3)


def test_side_faces_in_view_do_not_shift_the_part(calibration) -> None:
    # an oblique camera 25 deg off the vertical sees one long side face ~20 px wide
    T = look_at(np.array([-2000.0, -600.0, 1100.0]), np.array([-2000.0, 0.0, 0.0]))
    K = calibration.K.copy()
    K[0, 0] = K[1, 1] = 1900.0
    oblique = CameraCalibration(1280, 960, K, calibration.dist, T)
    renderer = CameraRenderer(oblique, texture_seed=2)
    from edge_gateway.vision import CameraModel

    camera = CameraModel.from_dict(oblique.to_dict())
    part = panel("rect:width_mm=450,height_mm=300,thickness_mm=30")
    view = oblique.view_point_mm()
    for k, theta in enumerate((0.0, 6.0)):
        pose = PlanarPose(view[0] + 10.0 * k, view[1], theta)
        res = locate(render(renderer, [(part, pose)], seed=k).image, camera, part)
        assert res.verdict == "ok", res.part.reasons
        assert position_error_mm(res.part, pose) < 0.3
        assert angle_error_deg(res.part.theta_deg, theta, 180.0) < 0.02


def test_a_part_darker_than_the_belt(renderer, door, door_locator) -> None:
    pose = PlanarPose(VIEW_X_MM + 5.0, VIEW_Y_MM - 5.0, -1.0)
    res = door_locator.locate(render(renderer, [(door, pose)], albedo=35.0).image)
    assert res.verdict == "ok"
    assert position_error_mm(res.part, pose) < 0.3


# --- verdicts ---------------------------------------------------------------------------
@pytest.mark.parametrize(
    ("spec", "reason"),
    [
        ("rect:width_mm=560,height_mm=380", "size 560"),
        ("cutout_panel", "hole"),
        ("cutout_panel:width_mm=600,height_mm=400,cutout_width_mm=120", "hole"),
    ],
)
def test_a_wrong_part_is_caught(renderer, door_locator, spec, reason) -> None:
    pose = PlanarPose(VIEW_X_MM + 3.0, VIEW_Y_MM, 1.0)
    res = door_locator.locate(render(renderer, [(panel(spec), pose)]).image)
    assert res.verdict == "wrong_part"
    assert any(reason in r for r in res.part.reasons), res.part.reasons


def test_a_wrong_size_reports_its_deviation(renderer, door_locator) -> None:
    pose = PlanarPose(VIEW_X_MM, VIEW_Y_MM, 0.5)
    res = door_locator.locate(
        render(renderer, [(panel("rect:width_mm=592,height_mm=400"), pose)]).image
    )
    assert res.verdict == "wrong_part"
    np.testing.assert_allclose(res.part.size_deviation_mm, (-8.0, 0.0), atol=0.3)
    assert position_error_mm(res.part, pose) < 0.3


def _cut(part: PanelPart, cut: Polygon) -> PanelPart:
    return PanelPart.create(part.name, part.outline.difference(cut), part.thickness_mm, "test")


@pytest.mark.parametrize(
    ("cut", "area"),
    [
        (Polygon([(600, 400), (580, 400), (600, 380)]), 200.0),  # corner, legs 20 mm
        (Polygon([(250, -2), (262, -2), (262, 5), (250, 5)]), 60.0),  # notch 12 x 5 mm
        (Polygon([(-2, 150), (4, 150), (4, 160), (-2, 160)]), 40.0),  # notch 10 x 4 mm
    ],
)
def test_a_damaged_part_is_caught_and_still_located(
    renderer, door, door_locator, cut, area
) -> None:
    damaged = _cut(door, cut)
    pose = PlanarPose(VIEW_X_MM - 6.0, VIEW_Y_MM + 4.0, -1.5)
    res = door_locator.locate(render(renderer, [(damaged, pose)], ref=(300.0, 200.0)).image)
    assert res.verdict == "damaged", res.part.reasons
    assert res.part.missing_area_mm2 == pytest.approx(area, rel=0.35)
    assert position_error_mm(res.part, pose) < 0.25


def test_a_bite_is_caught_with_belt_texture_as_bright_as_the_part_in_it(
    renderer, camera, door, door_locator
) -> None:
    """Belt texture at the part's level runs through a bite, close to the nominal edge:
    the profiles there start on it, so the material extent is read from further in."""
    bite = Point(300.0, 0.0).buffer(12.0)
    pose = PlanarPose(VIEW_X_MM - 6.0, VIEW_Y_MM + 4.0, -1.5)
    scene = render(renderer, [(_cut(door, bite), pose)], ref=(300.0, 200.0))
    T = pose.T_world_part((300.0, 200.0))
    band_part = np.array([[288.5, 1.5], [311.5, 1.5], [311.5, 3.5], [288.5, 3.5]])
    band_world = band_part @ T[:2, :2].T + T[:2, 3]
    uv = camera.project(np.column_stack([band_world, np.zeros(len(band_world))]))
    image = scene.image.copy()
    centre = camera.project(np.array([[pose.x_mm, pose.y_mm, door.thickness_mm]]))[0]
    part_level = int(image[int(centre[1]), int(centre[0])])
    cv2.fillPoly(image, [np.round(uv * 16).astype(np.int32)], part_level, cv2.LINE_AA, 4)
    res = door_locator.locate(image)
    assert res.verdict == "damaged", res.part.reasons
    assert res.part.missing_area_mm2 == pytest.approx(
        bite.intersection(door.outline).area, rel=0.35
    )


def test_an_empty_belt_is_no_part(renderer, door_locator) -> None:
    res = door_locator.locate(render(renderer, []).image)
    assert res.verdict == "no_part" and res.parts == ()
    data = res.to_dict()
    assert data["verdict"] == "no_part" and set(data) >= AGREED_KEYS and data["x_mm"] is None


def test_an_empty_belt_with_coarse_speckle_is_no_part(renderer, door_locator) -> None:
    """Speckle as coarse as overspray leaves the classes apart by less than
    MIN_SEPARATION but more than WEAK_SEPARATION: the regions are tried, and none has
    the door's edges."""
    image = render(renderer, []).image.astype(np.float32)
    rng = np.random.default_rng(7)
    dots = cv2.dilate((rng.random(image.shape) < 0.3).astype(np.float32), np.ones((3, 3)))
    dots = cv2.GaussianBlur(dots, (0, 0), 1.0)
    sign = np.where(rng.random(image.shape) < 0.5, -1.0, 1.0).astype(np.float32)
    image = np.clip(image + 30.0 * cv2.GaussianBlur(sign * dots, (0, 0), 0.7), 0, 255)
    image = image.astype(np.uint8)
    assert detect(image, "auto", 100).has_weak_contrast
    res = door_locator.locate(image)
    assert res.verdict == "no_part" and res.parts == ()


def test_several_parts_are_each_located(renderer, camera) -> None:
    small = panel("rect:width_mm=250,height_mm=200")
    poses = [PlanarPose(VIEW_X_MM - 150.0, 20.0, 3.0), PlanarPose(VIEW_X_MM + 160.0, -30.0, -8.0)]
    scene = render(renderer, [(small, p) for p in poses])
    res = locate(scene.image, camera, small)
    assert res.verdict == "several" and len(res.parts) == 2
    for pose in poses:
        loc = min(res.parts, key=lambda p, pose=pose: position_error_mm(p, pose))
        assert loc.verdict == "ok"
        assert position_error_mm(loc, pose) < 0.25
        assert angle_error_deg(loc.theta_deg, pose.theta_deg, 180.0) < 0.05
    data = res.to_dict()
    assert data["verdict"] == "several" and len(data["parts"]) == 2
    assert all(set(p) >= AGREED_KEYS for p in data["parts"])


def test_a_part_cut_by_the_border_is_reported_and_located(renderer, door_locator) -> None:
    pose = PlanarPose(VIEW_X_MM + 250.0, VIEW_Y_MM + 3.0, 1.0)
    scene = render(renderer, [(panel("door"), pose)])
    assert scene.frame.truth[0].visibility == "partial"
    res = door_locator.locate(scene.image)
    assert res.verdict == "cut_by_border"
    assert position_error_mm(res.part, pose) < 1.5  # its far end is not seen


def test_a_margin_makes_parts_near_the_border_cut(renderer, camera, door) -> None:
    pose = PlanarPose(VIEW_X_MM + 5.0, VIEW_Y_MM, 0.0)
    image = render(renderer, [(door, pose)]).image
    assert locate(image, camera, door).verdict == "ok"
    near = locate(image, camera, door, LocateOptions(border_margin_px=60.0))
    assert near.verdict == "cut_by_border"


# --- symmetry ----------------------------------------------------------------------------
def test_angles_are_reported_modulo_the_symmetry(renderer, camera) -> None:
    cutout = panel("cutout_panel")
    pose = PlanarPose(VIEW_X_MM + 20.0, VIEW_Y_MM, 95.0)
    res = locate(render(renderer, [(cutout, pose)]).image, camera, cutout)
    assert res.verdict == "ok"
    assert -45.0 <= res.part.theta_deg < 45.0
    assert res.part.theta_deg == pytest.approx(5.0, abs=0.03)
    assert position_error_mm(res.part, pose) < 0.25

    disc = panel("round_top:diameter_mm=400")
    pose = PlanarPose(VIEW_X_MM - 30.0, VIEW_Y_MM + 15.0, 33.0)
    res = locate(render(renderer, [(disc, pose)]).image, camera, disc)
    assert res.verdict == "ok"
    assert res.part.theta_deg == 0.0
    assert position_error_mm(res.part, pose) < 0.25


def test_a_part_without_symmetry_gets_its_full_angle(renderer, camera) -> None:
    # an L-shaped panel: one way round only
    ell = PanelPart.create(
        "ell", Polygon([(0, 0), (400, 0), (400, 120), (150, 120), (150, 300), (0, 300)]), 18.0
    )
    for theta in (-170.0, 25.0):
        pose = PlanarPose(VIEW_X_MM + 10.0, VIEW_Y_MM, theta)
        res = locate(render(renderer, [(ell, pose)], ref=reference(ell)).image, camera, ell)
        assert res.verdict == "ok"
        assert angle_error_deg(res.part.theta_deg, theta) < 0.03
        assert position_error_mm(res.part, pose) < 0.25


# --- the simulator's labelled datasets -----------------------------------------------------
def test_verdicts_agree_with_a_simulator_dataset(camera) -> None:
    from sim.dataset import DatasetGenerator, DatasetOptions
    from sim.world import load_world

    from .conftest import DEMO_WORLD

    world = load_world(DEMO_WORLD)
    gen = DatasetGenerator(
        world,
        DatasetOptions(images=14, seed=5, p_no_part=0.1, p_several=0.15, p_cut_by_border=0.15),
    )
    locators: dict[str, Locator] = {}
    seen = set()
    for item in gen:
        rec = item.record
        spec = rec["expected_part"]
        locators.setdefault(spec, Locator(camera, panel(spec)))
        res = locators[spec].locate(item.image)
        assert res.verdict == rec["label"], (rec["index"], rec["label"], res.verdict)
        seen.add(rec["label"])
        if rec["label"] == "ok":
            t = rec["pose"]
            assert position_error_mm(res.part, PlanarPose(t["x_mm"], t["y_mm"], 0.0)) < 0.25
    assert {"ok", "no_part", "several", "cut_by_border"} <= seen
