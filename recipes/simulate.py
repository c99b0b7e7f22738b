"""Predict the film a program leaves on a part, and judge it."""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

from recipes.deposition import deposit
from recipes.finish import Finish
from recipes.gun import GunModel
from recipes.parts.surface import SurfaceSamples
from recipes.program import EDGE, Program
from recipes.quality import PartMetrics, evaluate

#: which faces each pass group is for (its capture is reported on that face)
PASS_GROUPS: dict[str, tuple[str, ...]] = {"raster": ("top", "side"), "edge": ("edge",)}


@dataclass(frozen=True)
class Prediction:
    samples: SurfaceSamples
    wet_um: np.ndarray
    dry_um: np.ndarray
    metrics: PartMetrics
    group_wet_um: dict[str, np.ndarray]


def judged_faces_of(part) -> set[str]:
    """Faces a plan is judged on: a panel's top and outer edge band; a mesh's sides."""
    if hasattr(part, "outline"):
        return {"top", "edge"}
    return {"side"}


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
    is_edge = traj.kind == EDGE
    groups = {"raster": traj.select(~is_edge), "edge": traj.select(is_edge)}
    group_wet = {name: deposit(samples, t, gun) for name, t in groups.items() if t.trigger.any()}
    wet = sum(group_wet.values()) if group_wet else np.zeros(len(samples))
    face_capture: dict[str, float] = {}
    for name, w in group_wet.items():
        fan_mm3 = gun.deposit_rate_mm3_s * groups[name].spray_time_s
        cap = 100 * float(np.sum(w * samples.area_mm2) / 1000.0) / fan_mm3
        for face in PASS_GROUPS[name]:
            if face in samples.face_names:
                face_capture[face] = cap
    metrics = evaluate(
        samples,
        wet,
        finish,
        gun,
        spray_time_s=traj.spray_time_s,
        cycle_s=program.cycle_s,
        path_m=program.path_length_mm / 1000.0,
        judged_faces=judged_faces_of(part),
        face_tolerance_pct={
            "edge": finish.edge_tolerance_pct,
            "hole_edge": finish.edge_tolerance_pct,
        },
        face_capture_pct=face_capture,
    )
    return Prediction(samples, wet, wet * finish.paint.volume_solids, metrics, group_wet)
