"""Predict the film a program leaves on a part, and judge it."""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
import shapely

from recipes.deposition import deposit
from recipes.finish import Finish
from recipes.gun import GunModel
from recipes.parts.surface import SurfaceSamples
from recipes.program import EDGE, MOVE, GunTrajectory, Program
from recipes.quality import PartMetrics, PassFigures, evaluate

#: which faces each pass group is for (its figures are reported on that face)
PASS_GROUPS: dict[str, tuple[str, ...]] = {
    "raster": ("top", "side"),
    "edge": ("edge",),
    "hole": ("hole_edge",),
}


@dataclass(frozen=True)
class Prediction:
    samples: SurfaceSamples
    wet_um: np.ndarray
    dry_um: np.ndarray
    metrics: PartMetrics
    group_wet_um: dict[str, np.ndarray]


def sprayed_holes(part, program: Program) -> list[bool]:
    """Per hole of a panel: whether ``program`` sprays its wall from inside (an edge-pass
    segment, trigger on, ending inside the hole's outline)."""
    holes = getattr(part, "holes", [])
    on = (program.kind == EDGE) & program.trigger
    xy = program.position_mm[on, :2]
    return [bool(shapely.contains_xy(h, xy[:, 0], xy[:, 1]).any()) for h in holes]


def judged_faces_of(part, program: Program | None = None) -> set[str]:
    """Faces a plan is judged on: a panel's top and outer edge band, and its hole walls when
    ``program`` sprays every hole's wall; a mesh's sides."""
    if not hasattr(part, "outline"):
        return {"side"}
    faces = {"top", "edge"}
    if program is not None and part.holes and all(sprayed_holes(part, program)):
        faces.add("hole_edge")
    return faces


def pass_groups(part, program: Program, traj: GunTrajectory) -> tuple[np.ndarray, np.ndarray]:
    """Which pass group each trajectory sample and each program segment belongs to.

    Returns
    -------
    sample_group : (M,) index into ``PASS_GROUPS`` per trajectory sample.
    segment_group : (W-1,) the same per program segment; a trigger-off move belongs to the
        pass it leads to (the trailing ones to the last pass).
    """
    names = list(PASS_GROUPS)
    holes = getattr(part, "holes", [])
    hole_area = shapely.union_all(holes) if holes else None

    def group_of(kind: np.ndarray, xy: np.ndarray) -> np.ndarray:
        g = np.where(kind == EDGE, names.index("edge"), names.index("raster"))
        if hole_area is not None:
            inside = shapely.contains_xy(hole_area, xy[:, 0], xy[:, 1])
            g[(kind == EDGE) & inside] = names.index("hole")
        return g

    sample_group = group_of(traj.kind, traj.position_mm[:, :2])
    seg_kind = program.kind[1:]
    seg_group = group_of(seg_kind, program.position_mm[1:, :2]).astype(float)
    seg_group[seg_kind == MOVE] = np.nan
    # moves take the group of the next pass segment; trailing moves the last one's
    idx = np.where(~np.isnan(seg_group), np.arange(len(seg_group)), len(seg_group))
    nxt = np.minimum.accumulate(idx[::-1])[::-1]
    known = nxt < len(seg_group)
    seg_group[known] = seg_group[nxt[known]]
    last = seg_group[known][-1] if known.any() else names.index("raster")
    seg_group[~known] = last
    return sample_group, seg_group.astype(np.int64)


def predict(
    part,
    program: Program,
    gun: GunModel,
    finish: Finish,
    *,
    spacing_mm: float = 2.0,
    sample_hz: float = 1000.0,
    samples: SurfaceSamples | None = None,
) -> Prediction:
    """Film and metrics of ``program`` on ``part`` (a PanelPart or MeshPart)."""
    samples = samples if samples is not None else part.sample_surface(spacing_mm)
    traj = program.sample(sample_hz)
    sample_group, seg_group = pass_groups(part, program, traj)
    seg_s = program.segment_durations_s()
    seg_mm = np.linalg.norm(np.diff(program.position_mm, axis=0), axis=1)
    group_wet: dict[str, np.ndarray] = {}
    face_capture: dict[str, float] = {}
    face_passes: dict[str, PassFigures] = {}
    for i, name in enumerate(PASS_GROUPS):
        t = traj.select(sample_group == i)
        segs = seg_group == i
        if not segs.any() and not t.trigger.any():
            continue
        figures = PassFigures(
            paint_ml=gun.flow_mm3_s * t.spray_time_s / 1000.0,
            cycle_s=float(seg_s[segs].sum()),
            path_m=float(seg_mm[segs].sum()) / 1000.0,
        )
        cap = None
        if t.trigger.any():
            w = deposit(samples, t, gun)
            group_wet[name] = w
            fan_mm3 = gun.deposit_rate_mm3_s * t.spray_time_s
            cap = 100 * float(np.sum(w * samples.area_mm2) / 1000.0) / fan_mm3
        for face in PASS_GROUPS[name]:
            if face in samples.face_names:
                face_passes[face] = figures
                if cap is not None:
                    face_capture[face] = cap
    wet = sum(group_wet.values()) if group_wet else np.zeros(len(samples))
    metrics = evaluate(
        samples,
        wet,
        finish,
        gun,
        spray_time_s=traj.spray_time_s,
        cycle_s=program.cycle_s,
        path_m=program.path_length_mm / 1000.0,
        judged_faces=judged_faces_of(part, program),
        face_tolerance_pct={
            "edge": finish.edge_tolerance_pct,
            "hole_edge": finish.edge_tolerance_pct,
        },
        face_capture_pct=face_capture,
        face_passes=face_passes,
    )
    return Prediction(samples, wet, wet * finish.paint.volume_solids, metrics, group_wet)
