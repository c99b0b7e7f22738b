"""The expected part as the locator matches it: outline rings, edge samples, symmetry.

Coordinates are millimetres in the part frame *relative to the reference point* (the centre
of the outline's bounding box), so that a planar pose (x_mm, y_mm, theta_deg) places the
model with ``P = (x, y) + R(theta) diag(sx, sy) m``.
"""

from __future__ import annotations

import math
from dataclasses import dataclass

import numpy as np
from shapely import affinity
from shapely.geometry import Polygon
from shapely.geometry.polygon import orient

from recipes.errors import InvalidInputError

#: spacing of the edge samples along the outline (mm)
SAMPLE_STEP_MM = 2.0
#: samples keep this far from corners sharper than ``_CORNER_DEG`` (mm)
CORNER_CLEAR_MM = 2.5
_CORNER_DEG = 20.0
#: the coarse match uses the exterior simplified within this (mm)
COARSE_TOLERANCE_MM = 0.5
#: symmetry orders tested (0 stands for a circle)
_SYMMETRIES = (6, 4, 3, 2)
_SYM_TOL = 2e-3


@dataclass(frozen=True)
class ExpectedPart:
    """A flat part as the locator expects it.

    Attributes
    ----------
    name : str
    outline : Polygon
        Nominal outline in the part frame (exterior CCW, holes CW), mm.
    thickness_mm : float
        The top face lies at z = thickness_mm.
    reference_xy_mm : (2,) ndarray
        Reference point in the part frame (centre of the bounding box).
    symmetry : int
        Rotational symmetry order about the reference point: 1 (none), 2, 3, 4, 6, or 0
        for a circle (the angle is then not observable and reported as 0).
    seg_a, seg_b : (M, 2) ndarray
        Outline segments (all rings), relative to the reference.
    seg_normal : (M, 2) ndarray
        Unit normals pointing out of the material.
    seg_ring : (M,) int
        Ring of each segment (0: exterior).
    samples : (S, 2) ndarray
        Edge sample points every ``SAMPLE_STEP_MM`` (not next to sharp corners).
    sample_normal : (S, 2) ndarray
    sample_seg, sample_ring : (S,) int
    sample_step_mm : (S,) ndarray
        Outline length each sample stands for.
    coarse_a, coarse_b, coarse_normal : (C, 2) ndarray
        The exterior simplified within ``COARSE_TOLERANCE_MM`` (for the coarse match).
    """

    name: str
    outline: Polygon
    thickness_mm: float
    reference_xy_mm: np.ndarray
    symmetry: int
    seg_a: np.ndarray
    seg_b: np.ndarray
    seg_normal: np.ndarray
    seg_ring: np.ndarray
    samples: np.ndarray
    sample_normal: np.ndarray
    sample_seg: np.ndarray
    sample_ring: np.ndarray
    sample_step_mm: np.ndarray
    coarse_a: np.ndarray
    coarse_b: np.ndarray
    coarse_normal: np.ndarray

    @classmethod
    def from_part(cls, part: object, *, step_mm: float = SAMPLE_STEP_MM) -> ExpectedPart:
        """From a :class:`recipes.parts.panel.PanelPart` (anything with ``outline`` and
        ``thickness_mm``); parts without an outline raise :class:`InvalidInputError`."""
        name = str(getattr(part, "name", "part"))
        outline = getattr(part, "outline", None)
        if not isinstance(outline, Polygon) or outline.is_empty:
            raise InvalidInputError(
                "part.outline",
                f"'{name}' has no outline: the locator needs a flat part (panel) whose "
                "top face is a polygon",
            )
        if not outline.is_valid or outline.area < 1.0:
            raise InvalidInputError("part.outline", f"'{name}': not a valid polygon")
        thickness = float(getattr(part, "thickness_mm", float("nan")))
        if not (thickness > 0 and math.isfinite(thickness)):
            raise InvalidInputError("part.thickness_mm", f"must be > 0, got {thickness}")
        return cls.create(name, outline, thickness, step_mm=step_mm)

    @classmethod
    def create(
        cls, name: str, outline: Polygon, thickness_mm: float, *, step_mm: float = SAMPLE_STEP_MM
    ) -> ExpectedPart:
        outline = orient(outline, 1.0)
        xmin, ymin, xmax, ymax = outline.bounds
        ref = np.array([0.5 * (xmin + xmax), 0.5 * (ymin + ymax)])
        rel = affinity.translate(outline, -ref[0], -ref[1])
        rings = [np.asarray(rel.exterior.coords)[:-1]] + [
            np.asarray(r.coords)[:-1] for r in rel.interiors
        ]
        seg_a, seg_b, ring_id = [], [], []
        for k, ring in enumerate(rings):
            seg_a.append(ring)
            seg_b.append(np.roll(ring, -1, axis=0))
            ring_id.append(np.full(len(ring), k))
        a, b = np.concatenate(seg_a), np.concatenate(seg_b)
        d = b - a
        length = np.hypot(d[:, 0], d[:, 1])
        keep = length > 1e-9
        a, b, d, length = a[keep], b[keep], d[keep], length[keep]
        rid = np.concatenate(ring_id)[keep]
        normal = np.column_stack([d[:, 1], -d[:, 0]]) / length[:, None]
        samples = _edge_samples(rings, step_mm)
        ext = np.asarray(orient(rel.simplify(COARSE_TOLERANCE_MM), 1.0).exterior.coords)
        ca, cb = ext[:-1], ext[1:]
        cd = cb - ca
        cn = np.column_stack([cd[:, 1], -cd[:, 0]]) / np.hypot(cd[:, 0], cd[:, 1])[:, None]
        # map samples onto the filtered segment list
        seg_index = np.cumsum(keep) - 1
        return cls(
            name=name,
            outline=outline,
            thickness_mm=float(thickness_mm),
            reference_xy_mm=ref,
            symmetry=_symmetry(rel),
            seg_a=a,
            seg_b=b,
            seg_normal=normal,
            seg_ring=rid,
            samples=samples[0],
            sample_normal=samples[1],
            sample_seg=seg_index[samples[2]],
            sample_ring=samples[3],
            sample_step_mm=samples[4],
            coarse_a=ca,
            coarse_b=cb,
            coarse_normal=cn,
        )

    # --- derived ----------------------------------------------------------------------------
    @property
    def width_mm(self) -> float:
        xmin, _, xmax, _ = self.outline.bounds
        return xmax - xmin

    @property
    def height_mm(self) -> float:
        _, ymin, _, ymax = self.outline.bounds
        return ymax - ymin

    @property
    def area_mm2(self) -> float:
        return float(self.outline.area)

    @property
    def has_holes(self) -> bool:
        return len(self.outline.interiors) > 0

    def relative_outline(self) -> Polygon:
        """The outline with the reference point at the origin."""
        return affinity.translate(self.outline, -self.reference_xy_mm[0], -self.reference_xy_mm[1])

    def moments(self) -> tuple[np.ndarray, float, float]:
        """Area centroid (relative to the reference), principal angle (deg) and the ratio of
        the principal second moments (>= 1; near 1: no preferred axis)."""
        return _moments(self.relative_outline())

    def posed(self, x_mm: float, y_mm: float, theta_deg: float, sx: float = 1.0, sy: float = 1.0):
        """The outline (world xy) at a pose, scaled along the part axes about the reference."""
        rel = affinity.scale(self.relative_outline(), sx, sy, origin=(0.0, 0.0))
        return affinity.translate(affinity.rotate(rel, theta_deg, origin=(0.0, 0.0)), x_mm, y_mm)

    def reduce_angle(self, theta_deg: float) -> float:
        """``theta_deg`` modulo the part's symmetry, in [-period/2, period/2)."""
        if self.symmetry == 0:
            return 0.0
        period = 360.0 / self.symmetry
        return (theta_deg + period / 2.0) % period - period / 2.0


def _moments(poly: Polygon) -> tuple[np.ndarray, float, float]:
    rings = [np.asarray(poly.exterior.coords)] + [np.asarray(r.coords) for r in poly.interiors]
    A = cx = cy = sxx = syy = sxy = 0.0
    for ring in rings:
        x0, y0 = ring[:-1, 0], ring[:-1, 1]
        x1, y1 = ring[1:, 0], ring[1:, 1]
        c = x0 * y1 - x1 * y0  # holes are CW: they subtract
        A += c.sum() / 2
        cx += ((x0 + x1) * c).sum() / 6
        cy += ((y0 + y1) * c).sum() / 6
        sxx += ((x0 * x0 + x0 * x1 + x1 * x1) * c).sum() / 12
        syy += ((y0 * y0 + y0 * y1 + y1 * y1) * c).sum() / 12
        sxy += ((x0 * y1 + 2 * x0 * y0 + 2 * x1 * y1 + x1 * y0) * c).sum() / 24
    return _principal(A, cx, cy, sxx, syy, sxy)


def _principal(A, cx, cy, sxx, syy, sxy) -> tuple[np.ndarray, float, float]:
    centroid = np.array([cx / A, cy / A])
    mxx = sxx / A - centroid[0] ** 2
    myy = syy / A - centroid[1] ** 2
    mxy = sxy / A - centroid[0] * centroid[1]
    angle = 0.5 * math.degrees(math.atan2(2 * mxy, mxx - myy))
    spread = math.hypot(0.5 * (mxx - myy), mxy)
    mean = 0.5 * (mxx + myy)
    ratio = (mean + spread) / max(mean - spread, 1e-12)
    return centroid, angle, ratio


def points_moments(ring_xy: np.ndarray) -> tuple[np.ndarray, float, float]:
    """Moments of the polygon bounded by a closed ring of points (N, 2)."""
    return _moments(Polygon(ring_xy))


def _symmetry(rel: Polygon) -> int:
    area = rel.area
    for probe in (37.0, 101.0):
        turned = affinity.rotate(rel, probe, origin=(0.0, 0.0))
        if rel.symmetric_difference(turned).area > _SYM_TOL * area:
            break
    else:
        return 0
    for n in _SYMMETRIES:
        turned = affinity.rotate(rel, 360.0 / n, origin=(0.0, 0.0))
        if rel.symmetric_difference(turned).area <= _SYM_TOL * area:
            return n
    return 1


def _edge_samples(rings: list[np.ndarray], step_mm: float):
    """Points every ``step_mm`` along each ring, away from sharp corners, with the outward
    normal of their segment, the segment index (over all rings), the ring and the length
    each stands for."""
    pts, nrm, seg, rid, step = [], [], [], [], []
    offset = 0
    for k, ring in enumerate(rings):
        nxt = np.roll(ring, -1, axis=0)
        d = nxt - ring
        length = np.hypot(d[:, 0], d[:, 1])
        unit = d / np.maximum(length, 1e-12)[:, None]
        prev_unit = np.roll(unit, 1, axis=0)
        turn = np.degrees(
            np.abs(
                np.arctan2(
                    prev_unit[:, 0] * unit[:, 1] - prev_unit[:, 1] * unit[:, 0],
                    np.einsum("ij,ij->i", prev_unit, unit),
                )
            )
        )
        sharp = turn > _CORNER_DEG  # at the start vertex of each segment
        sharp_end = np.roll(sharp, -1)
        s_ring = np.concatenate([[0.0], np.cumsum(length)])
        total = s_ring[-1]
        n = max(int(math.floor(total / step_mm)), 8)
        s = (np.arange(n) + 0.5) * (total / n)
        i = np.clip(np.searchsorted(s_ring, s, side="right") - 1, 0, len(ring) - 1)
        along = s - s_ring[i]
        ok = length[i] > 1e-9
        ok &= ~(sharp[i] & (along < CORNER_CLEAR_MM))
        ok &= ~(sharp_end[i] & (length[i] - along < CORNER_CLEAR_MM))
        i, along = i[ok], along[ok]
        pts.append(ring[i] + unit[i] * along[:, None])
        nrm.append(np.column_stack([unit[i, 1], -unit[i, 0]]))
        seg.append(offset + i)
        rid.append(np.full(len(i), k))
        step.append(np.full(len(i), total / n))
        offset += len(ring)
    return (
        np.concatenate(pts),
        np.concatenate(nrm),
        np.concatenate(seg),
        np.concatenate(rid),
        np.concatenate(step),
    )
