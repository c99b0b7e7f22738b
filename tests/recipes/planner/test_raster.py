import numpy as np
import pytest

from recipes.parts.templates import cutout_panel, round_top
from recipes.planner.raster import RasterSpec, plan_raster, raster_angle_deg
from recipes.program import STROKE, TURN


def _on_runs_at(prog, v_mm: float):
    """(start, end) x of trigger-on stroke segments along the stroke at y = v_mm."""
    runs = []
    for k in range(1, len(prog)):
        if prog.trigger[k] and prog.kind[k] == STROKE:
            a, b = prog.position_mm[k - 1], prog.position_mm[k]
            if abs(a[1] - v_mm) < 1e-6 and abs(b[1] - v_mm) < 1e-6:
                runs.append(tuple(sorted((a[0], b[0]))))
    return sorted(runs)


def test_trigger_closes_over_a_large_hole_and_stays_on_over_a_small_gap():
    part = cutout_panel(800, 400, 18, cutout_width_mm=400, cutout_height_mm=150)
    spec = RasterSpec(0.0, 100.0, 50.0, 4, 40.0, 300.0, 200.0, 40.0, 60.0)
    prog = plan_raster(part.outline, 18.0, spec)
    # the stroke at y = 150 crosses the hole (x 200..600): trigger off from 240 to 560
    runs = _on_runs_at(prog, 150.0)
    assert runs == [pytest.approx((-40.0, 240.0)), pytest.approx((560.0, 840.0))]
    # with a gap threshold larger than what remains, the trigger stays on across the hole
    spec_on = RasterSpec(0.0, 100.0, 50.0, 4, 40.0, 300.0, 200.0, 400.0, 60.0)
    assert _on_runs_at(plan_raster(part.outline, 18.0, spec_on), 150.0) == [
        pytest.approx((-40.0, 840.0))
    ]
    # trigger is off on every turnaround
    assert not prog.trigger[prog.kind == TURN].any()


def test_round_top_strokes_follow_the_outline_with_overtravel():
    part = round_top(800, 25)
    spec = RasterSpec(
        raster_angle_deg(part.outline, "auto"), 100.0, 50.0, 8, 30.0, 300.0, 200.0, 40.0, 60.0
    )
    prog = plan_raster(part.outline, 25.0, spec)
    # the first stroke (y = 50) paints the band y in [0, 100]: its extent is the chord at
    # the band's widest line (y = 100), plus the overtravel
    ((start, end),) = _on_runs_at(prog, 50.0)
    half_chord = np.sqrt(400.0**2 - 300.0**2)
    assert start == pytest.approx(400 - half_chord - 30.0, abs=0.5)
    assert end == pytest.approx(400 + half_chord + 30.0, abs=0.5)
    # the middle strokes span (nearly) the full diameter
    ((start, end),) = _on_runs_at(prog, 350.0)
    assert end - start == pytest.approx(800.0 + 60.0, abs=1.0)
