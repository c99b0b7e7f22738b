"""Quality metrics of a predicted (or measured) film: per face and for the part."""

from __future__ import annotations

from dataclasses import asdict, dataclass, field

import numpy as np

from recipes.finish import Finish
from recipes.gun import GunModel
from recipes.parts.surface import SurfaceSamples


@dataclass(frozen=True)
class PassFigures:
    """What the passes planned for one face cost: paint leaving the gun (ml wet), time
    (s) and gun path (m)."""

    paint_ml: float
    cycle_s: float
    path_m: float


@dataclass(frozen=True)
class FaceMetrics:
    name: str
    area_mm2: float
    tolerance_pct: float
    judged: bool
    coverage_pct: float
    within_tol_pct: float
    dft_mean_um: float
    dft_min_um: float
    dft_max_um: float
    dft_cv_pct: float
    #: figures of the passes planned for this face (None: no pass is for it)
    capture_pct: float | None = None
    transfer_efficiency_pct: float | None = None
    overspray_pct: float | None = None
    paint_ml: float | None = None
    cycle_s: float | None = None
    path_m: float | None = None


@dataclass(frozen=True)
class PartMetrics:
    """Figures of one predicted film. Part-level film figures cover the judged faces."""

    within_tol_pct: float
    coverage_pct: float
    dft_mean_um: float
    dft_min_um: float
    dft_max_um: float
    dft_cv_pct: float
    capture_pct: float
    transfer_efficiency_pct: float
    overspray_pct: float
    paint_ml: float
    paint_on_part_ml: float
    cycle_s: float
    path_m: float
    faces: dict[str, FaceMetrics] = field(default_factory=dict)

    def to_dict(self) -> dict:
        out = asdict(self)
        out["faces"] = {k: asdict(v) for k, v in self.faces.items()}
        return _rounded(out)


def _rounded(obj):
    if isinstance(obj, dict):
        return {k: _rounded(v) for k, v in obj.items()}
    if isinstance(obj, float):
        return round(obj, 4)
    return obj


def film_stats(dry_um: np.ndarray, area: np.ndarray, target_um: float, tol_pct: float) -> dict:
    """Area-weighted figures of a film against target ± tol."""
    if dry_um.size == 0 or area.sum() <= 0:
        return dict(
            coverage_pct=0.0,
            within_tol_pct=0.0,
            dft_mean_um=0.0,
            dft_min_um=0.0,
            dft_max_um=0.0,
            dft_cv_pct=0.0,
        )
    lo = target_um * (1 - tol_pct / 100)
    hi = target_um * (1 + tol_pct / 100)
    total = area.sum()
    mean = float(np.sum(dry_um * area) / total)
    std = float(np.sqrt(np.sum(area * (dry_um - mean) ** 2) / total))
    return dict(
        coverage_pct=float(100 * area[dry_um >= lo].sum() / total),
        within_tol_pct=float(100 * area[(dry_um >= lo) & (dry_um <= hi)].sum() / total),
        dft_mean_um=mean,
        dft_min_um=float(dry_um.min()),
        dft_max_um=float(dry_um.max()),
        dft_cv_pct=100 * std / mean if mean > 0 else 0.0,
    )


def evaluate(
    samples: SurfaceSamples,
    wet_um: np.ndarray,
    finish: Finish,
    gun: GunModel,
    *,
    spray_time_s: float,
    cycle_s: float,
    path_m: float,
    judged_faces: set[str],
    face_tolerance_pct: dict[str, float] | None = None,
    face_capture_pct: dict[str, float] | None = None,
    face_passes: dict[str, PassFigures] | None = None,
) -> PartMetrics:
    """Metrics of a film. ``wet_um`` (N,) per sample; dry = wet x volume solids.

    ``face_capture_pct`` and ``face_passes`` carry, per face, the capture and the cost of
    the passes planned for it; transfer efficiency and overspray follow from the capture
    as for the part. When ``face_passes`` is given, faces no pass is for report 0 ml, 0 s
    and 0 m, so the faces' paint, cycle and path add up to the part's.
    """
    vs = finish.paint.volume_solids
    dry = wet_um * vs
    tol_of = face_tolerance_pct or {}
    faces: dict[str, FaceMetrics] = {}
    judged_mask = np.zeros(len(samples), dtype=bool)
    judged_tol = np.zeros(len(samples))
    for name in samples.face_names:
        m = samples.face_mask(name)
        if not m.any():
            continue
        tol = tol_of.get(name, finish.tolerance_pct)
        st = film_stats(dry[m], samples.area_mm2[m], finish.target_dft_um, tol)
        cap = (face_capture_pct or {}).get(name)
        te = None if cap is None else cap * gun.gun_efficiency
        passes = None
        if face_passes is not None:
            passes = face_passes.get(name, PassFigures(0.0, 0.0, 0.0))
        faces[name] = FaceMetrics(
            name=name,
            area_mm2=float(samples.area_mm2[m].sum()),
            tolerance_pct=tol,
            judged=name in judged_faces,
            capture_pct=cap,
            transfer_efficiency_pct=te,
            overspray_pct=None if te is None else 100 - te,
            paint_ml=None if passes is None else passes.paint_ml,
            cycle_s=None if passes is None else passes.cycle_s,
            path_m=None if passes is None else passes.path_m,
            **st,
        )
        if name in judged_faces:
            judged_mask |= m
            judged_tol[m] = tol
    area = samples.area_mm2
    d, a, t = dry[judged_mask], area[judged_mask], judged_tol[judged_mask]
    lo = finish.target_dft_um * (1 - t / 100)
    hi = finish.target_dft_um * (1 + t / 100)
    base = film_stats(d, a, finish.target_dft_um, finish.tolerance_pct)
    if a.sum() > 0:  # each judged face against its own band
        base["within_tol_pct"] = float(100 * a[(d >= lo) & (d <= hi)].sum() / a.sum())
        base["coverage_pct"] = float(100 * a[d >= lo].sum() / a.sum())
    on_part_mm3 = float(np.sum(wet_um * area) / 1000.0)
    fan_mm3 = gun.deposit_rate_mm3_s * spray_time_s
    leaving_mm3 = gun.flow_mm3_s * spray_time_s
    capture = on_part_mm3 / fan_mm3 if fan_mm3 > 0 else 0.0
    te = capture * gun.gun_efficiency
    return PartMetrics(
        capture_pct=100 * capture,
        transfer_efficiency_pct=100 * te,
        overspray_pct=100 * (1 - te) if leaving_mm3 > 0 else 0.0,
        paint_ml=leaving_mm3 / 1000.0,
        paint_on_part_ml=on_part_mm3 / 1000.0,
        cycle_s=cycle_s,
        path_m=path_m,
        faces=faces,
        **base,
    )
