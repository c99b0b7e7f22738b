"""Camera renderer: geometry where the pinhole model says, determinism, ground truth, light."""

from __future__ import annotations

import cv2
import numpy as np
import pytest
import shapely
from shapely.geometry import Polygon, box

from recipes.parts.loader import load_part
from sim.frames import BeltFrame, PlanarPose, apply
from sim.render import FLAT_BELT_GREY, CameraRenderer, Lighting, PartView

POSES = [
    PlanarPose(-2000.0, 0.0, 0.0),
    PlanarPose(-1975.0, 30.0, 3.0),
    PlanarPose(-2040.0, -25.0, -7.5),
]


@pytest.fixture(scope="module")
def flat(demo_cell) -> CameraRenderer:
    return CameraRenderer(demo_cell.calibration, texture=False)


@pytest.fixture(scope="module")
def textured(demo_cell) -> CameraRenderer:
    return CameraRenderer(demo_cell.calibration, demo_cell.belt, texture_seed=5)


@pytest.fixture(scope="module")
def small_panel():
    part, _ = load_part("rect:width_mm=400,height_mm=300")
    return part


def projected_top(cal, view: PartView) -> Polygon:
    """The top face's outline projected through K, dist and the pose, cut to the image."""
    ring = np.asarray(shapely.segmentize(view.part.outline, 1.0).exterior.coords)[:-1]
    top = np.column_stack([ring, np.full(len(ring), view.part.thickness_mm)])
    image = box(-0.5, -0.5, cal.width - 0.5, cal.height - 0.5)
    return Polygon(cal.project(apply(view.T_world_part, top))).intersection(image)


def projected_centroid(cal, view: PartView) -> np.ndarray:
    c = projected_top(cal, view).centroid
    return np.array([c.x, c.y])


def image_centroid(weights: np.ndarray) -> np.ndarray:
    ys, xs = np.mgrid[0 : weights.shape[0], 0 : weights.shape[1]]
    return np.array([(weights * xs).sum(), (weights * ys).sum()]) / weights.sum()


@pytest.mark.parametrize("pose", POSES)
def test_door_top_face_lands_where_the_pinhole_model_says(flat, door, pose) -> None:
    # sides as grey as the belt, no shadow: the brightness above the belt is the top face's
    # anti-aliased coverage, so its centroid is the projected outline's
    view = PartView(door, pose.T_world_part((300.0, 200.0)), 200.0, side_factor=0.4)
    frame = flat.render([view], lighting=Lighting(shadow_strength=0.0))
    assert frame.image.shape == (960, 1280) and frame.image.dtype == np.uint8
    cover = (frame.image.astype(float) - FLAT_BELT_GREY) / (200.0 - FLAT_BELT_GREY)
    # a door nearly fills the view: where the border cuts it, the part inside is compared
    expected = projected_top(flat.calibration, view)
    err = image_centroid(cover) - projected_centroid(flat.calibration, view)
    assert np.hypot(*err) < 0.05  # asked: 0.5 px
    assert cover.sum() == pytest.approx(expected.area, rel=2e-4)
    if frame.truth[0].visibility == "full":
        assert Polygon(frame.truth[0].outline_px).area == pytest.approx(expected.area, rel=2e-4)


@pytest.mark.parametrize("pose", POSES)
def test_thresholded_part_centroid_in_a_realistic_frame(textured, small_panel, pose) -> None:
    view = PartView(small_panel, pose.T_world_part((200.0, 150.0)), 205.0)
    light = Lighting(gradient_strength=0.1, gradient_direction_deg=30.0, vignetting=0.1)
    frame = textured.render([view], lighting=light, noise_std=2.5, blur_sigma_px=0.7, rng=3)
    assert frame.truth[0].visibility == "full"
    _, mask = cv2.threshold(frame.image, 0, 1, cv2.THRESH_BINARY + cv2.THRESH_OTSU)
    err = image_centroid(mask.astype(float)) - projected_centroid(textured.calibration, view)
    assert np.hypot(*err) < 0.5


def test_same_seed_same_frame_other_seed_other_noise(textured, door) -> None:
    view = PartView(door, POSES[1].T_world_part((300.0, 200.0)), 190.0)
    light = Lighting(gradient_strength=0.2, gradient_direction_deg=120.0)
    kw = dict(lighting=light, noise_std=2.0, blur_sigma_px=0.5, belt_offset_mm=37.0)
    a = textured.render([view], rng=11, **kw).image
    b = textured.render([view], rng=11, **kw).image
    c = textured.render([view], rng=12, **kw).image
    assert np.array_equal(a, b)
    diff = a.astype(int) - c.astype(int)
    assert 1.0 < diff.std() < 6.0  # only the sensor noise differs
    again = CameraRenderer(textured.calibration, textured.belt, texture_seed=5)
    assert np.array_equal(again.render([view], rng=11, **kw).image, a)


def test_ground_truth_pose_outline_and_visibility(flat, door, small_panel) -> None:
    pose = PlanarPose(-1990.0, 12.5, 4.0)
    view = PartView(small_panel, pose.T_world_part((200.0, 150.0)), 200.0)
    far = PartView(door, PlanarPose(-900.0, 0.0, 0.0).T_world_part((300.0, 200.0)))
    (truth, gone) = flat.truth([view, far])
    assert truth.pose.x_mm == pytest.approx(-1990.0) and truth.pose.y_mm == pytest.approx(12.5)
    assert truth.pose.theta_deg == pytest.approx(4.0)
    assert truth.visibility == "full" and truth.visible_fraction == pytest.approx(1.0)
    world = Polygon(truth.outline_world_mm)
    assert world.area == pytest.approx(400 * 300)
    assert (world.centroid.x, world.centroid.y) == pytest.approx((-1990.0, 12.5))
    assert gone.visibility == "none" and gone.visible_fraction == 0.0
    d = truth.to_dict()
    assert d["pose"] == {"x_mm": -1990.0, "y_mm": 12.5, "theta_deg": 4.0}
    assert len(d["outline_world_mm"]) == 4


def test_cut_by_the_border_is_partial(flat, small_panel) -> None:
    view = PartView(small_panel, PlanarPose(-1750.0, 0.0, 0.0).T_world_part((200.0, 150.0)))
    (truth,) = flat.truth([view])
    assert truth.visibility == "partial" and 0.2 < truth.visible_fraction < 0.8


def test_gradient_brightens_towards_its_direction_and_shadows_fall_away(flat, small_panel) -> None:
    light = Lighting(gradient_strength=0.3, gradient_direction_deg=0.0)
    empty = flat.render([], lighting=light).image.astype(float)
    # +x world is +u in the image: the right half is brighter
    assert empty[:, 900:].mean() > 1.15 * empty[:, :380].mean()
    lit = Lighting(light_elevation_deg=45.0, shadow_strength=0.5, shadow_softness_mm=1.0)
    view = PartView(small_panel, PlanarPose(-2000.0, 0.0, 0.0).T_world_part((200.0, 150.0)))
    img = flat.render([view], lighting=lit).image.astype(float)
    px = flat.calibration.project(np.array([[-2000.0 - 215.0, 0.0, 0.0], [-2000 + 215.0, 0, 0]]))
    (ul, vl), (ur, vr) = np.round(px).astype(int)
    # light from +x: the shadow (18 mm long at 45 deg) lies beside the -x edge
    assert img[vl, ul] < 0.7 * FLAT_BELT_GREY
    assert img[vr, ur] == pytest.approx(FLAT_BELT_GREY, abs=1.0)


def test_belt_texture_moves_with_the_belt(demo_cell) -> None:
    r = CameraRenderer(demo_cell.calibration, BeltFrame((-3200.0, 0.0), 0.0, 800.0))
    a = r.render(belt_offset_mm=0.0).image
    b = r.render(belt_offset_mm=20.0).image  # 40 texels = ~40 px to the right
    shift = int(round(20.0 / r.calibration.mm_per_px()))
    rows = slice(300, 660)
    same = np.abs(a[rows, 400:800].astype(int) - b[rows, 400 + shift : 800 + shift]).mean()
    other = np.abs(a[rows, 400:800].astype(int) - b[rows, 400:800]).mean()
    assert same < 0.35 * other
