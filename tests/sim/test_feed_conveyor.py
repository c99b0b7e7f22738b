"""Part feed (what comes, its size, damage, placement) and the belt that carries it."""

from __future__ import annotations

import numpy as np
import pytest

from sim.conveyor import AT_STATION, OUTBOUND, Conveyor
from sim.faults import PartOverrides
from sim.feed import PartFeed
from sim.frames import PlanarPose
from sim.world import FeedSpec


def _feed(**kw) -> PartFeed:
    spec = FeedSpec(sequence=["door"], wrong_parts=["cutout_panel"], **kw)
    return PartFeed(spec, seed=3)


def test_each_part_is_reproducible_on_its_own() -> None:
    feed = _feed(p_wrong_part=0.3, p_damaged=0.3)
    a, b = feed.part(17), feed.part(17)
    assert a.spec == b.spec and a.offset == b.offset and a.albedo == b.albedo
    assert a.part.outline.equals(b.part.outline)
    assert len({feed.part(i).offset for i in range(20)}) == 20


def test_rates_sizes_and_placement_follow_the_feed() -> None:
    feed = _feed(
        p_wrong_part=0.2,
        p_damaged=0.25,
        size_variation_mm=2.0,
        pose_noise=dict(xy_mm=5.0, theta_deg=1.0),
    )
    parts = [feed.part(i) for i in range(600)]
    labels = [p.label for p in parts]
    # binomial: 600 x 0.2 = 120 +- 10, 600 x 0.25 = 150 +- 11 (3.5 sigma bounds)
    assert 85 < labels.count("wrong_part") < 155
    assert 110 < labels.count("damaged") < 190
    assert all(p.spec == "cutout_panel" for p in parts if p.label == "wrong_part")
    intact = [p for p in parts if p.label == "ok"]
    widths = np.array([np.ptp(np.asarray(p.part.outline.exterior.coords)[:, 0]) for p in intact])
    assert np.all(np.abs(widths - 600.0) <= 2.0 + 1e-9) and widths.std() > 0.5
    off = np.array([p.offset for p in parts])
    assert off[:, 0].std() == pytest.approx(5.0, rel=0.15)
    assert off[:, 2].std() == pytest.approx(1.0, rel=0.15)
    assert np.abs(off[:, :2]).max() <= 15.0 + 1e-9  # clipped at 3 sigma


def test_damage_removes_a_corner_or_a_notch() -> None:
    feed = _feed(p_damaged=1.0, size_variation_mm=0.0)
    kinds = set()
    for i in range(30):
        fed = feed.part(i)
        assert fed.label == "damaged"
        lost = 600 * 400 - fed.part.outline.area
        d = fed.damage
        kinds.add(d["kind"])
        if d["kind"] == "corner":
            a, b = d["legs_mm"]
            assert lost == pytest.approx(0.5 * a * b, rel=1e-4)
            assert 15.0 <= a <= 45.0 and 15.0 <= b <= 45.0
        else:
            assert lost == pytest.approx(d["width_mm"] * d["depth_mm"], rel=1e-4)
        # the pose reference stays the centre of the intact door
        assert fed.reference_xy_mm == pytest.approx((300.0, 200.0))
    assert kinds == {"corner", "notch"}


def test_fault_overrides_substitute_and_misplace() -> None:
    feed = _feed(size_variation_mm=0.0)
    base = feed.part(4)
    moved = feed.part(4, PartOverrides(misplace=(25.0, -15.0, 4.0)))
    assert np.subtract(moved.offset, base.offset) == pytest.approx((25.0, -15.0, 4.0))
    wrong = feed.part(4, PartOverrides(wrong_spec="cutout_panel"))
    assert (wrong.label, wrong.spec, wrong.expected_spec) == ("wrong_part", "cutout_panel", "door")
    assert wrong.part.outline.area == pytest.approx(400 * 400 - 150 * 150)


def test_belt_carries_a_part_past_the_camera_to_the_station_and_out(demo_cell) -> None:
    conv = Conveyor.for_cell(demo_cell)
    feed = PartFeed(demo_cell.spec.feed, seed=1, stream=0)
    fed = feed.part(0)
    part = conv.load(fed)
    assert part.s_mm == 350.0 and not conv.can_load(feed.part(1))
    t, events = 0.0, []
    while t < 20.0 and conv.at_station is None:
        events += [(round(t, 3), e.kind) for e in conv.step(0.004)]
        t += 0.004
    # 250 mm/s: camera at s = 1198 after (1198 - 350) / 250 s, station at s = 3200
    assert [k for _, k in events] == ["camera", "station"]
    assert events[0][0] == pytest.approx((demo_cell.camera_s_mm - 350.0) / 250.0, abs=0.005)
    assert events[1][0] == pytest.approx((3200.0 - 350.0) / 250.0, abs=0.005)
    assert part.state == AT_STATION and part.s_mm == 3200.0
    # the real pose at the station: nominal (world origin) plus the part's placement error
    T = conv.T_world_part(part)
    expected = PlanarPose(0.0, 0.0, 0.0).moved(*fed.offset).T_world_part(fed.reference_xy_mm)
    np.testing.assert_allclose(T, expected, atol=1e-9)
    # the belt stands while the part is held, then carries it to the exit zone
    assert conv.step(1.0) == [] and part.s_mm == 3200.0
    conv.release()
    assert part.state == OUTBOUND
    kinds = []
    for _ in range(2000):
        kinds += [e.kind for e in conv.step(0.004)]
    assert kinds == ["exit"] and conv.parts == []
    assert conv.travel_mm == pytest.approx(4300.0 - 350.0)


def test_conveyor_stop_and_spacing(demo_cell) -> None:
    conv = Conveyor.for_cell(demo_cell)
    feed = PartFeed(demo_cell.spec.feed, seed=1)
    first = conv.load(feed.part(0))
    assert conv.step(2.0, stopped=True) == [] and first.s_mm == 350.0
    conv.step(1.0)
    assert first.s_mm == pytest.approx(600.0)
    # door half-length 300 (+ tilt), gap 300: the next fits once the first is ~950 mm on
    while not conv.can_load(feed.part(1)):
        conv.step(0.004)
    rear_gap = first.s_mm - first.half_length_mm - (350.0 + conv.half_length_mm(feed.part(1)))
    assert rear_gap == pytest.approx(300.0, abs=1.1)
