"""Flat panels: an outline polygon (mm) with holes, extruded by a thickness.

Part frame: the panel's bottom face lies on z = 0, its top face at z = thickness_mm,
the outline in the xy plane. The top face and the side faces (outer edge band and the
walls of holes) are sprayed and judged; the bottom face is the other side's job.
"""

from __future__ import annotations

import math
from dataclasses import dataclass, field

import numpy as np
import shapely
from shapely.geometry import Polygon
from shapely.geometry.polygon import orient

from recipes.errors import InvalidInputError
from recipes.parts.surface import SurfaceSamples, TopGrid

PANEL_FACES: tuple[str, ...] = ("top", "edge", "hole_edge")
MIN_AREA_MM2 = 1.0


@dataclass(frozen=True)
class PanelPart:
    """A flat panel. ``outline`` is oriented: exterior CCW, holes CW."""

    name: str
    outline: Polygon
    thickness_mm: float
    source: str = "template"
    params: dict = field(default_factory=dict)

    @staticmethod
    def create(
        name: str,
        outline: Polygon,
        thickness_mm: float,
        source: str = "template",
        params: dict | None = None,
    ) -> PanelPart:
        """Validate and orient an outline; raises :class:`InvalidInputError`."""
        if outline.is_empty or outline.geom_type != "Polygon":
            raise InvalidInputError("part.outline", "must be one closed polygon", source=source)
        # validity first (a bow-tie's lobes may cancel to zero area), except for points
        # on one line, which enclose nothing rather than cross
        if outline.convex_hull.area >= MIN_AREA_MM2 and not outline.is_valid:
            reason = shapely.is_valid_reason(outline)
            kind = "self-intersecting" if "Self-intersection" in reason else "invalid"
            raise InvalidInputError("part.outline", f"{kind} polygon ({reason})", source=source)
        if abs(outline.area) < MIN_AREA_MM2 or not outline.is_valid:
            raise InvalidInputError(
                "part.outline",
                f"area {abs(outline.area):.3g} mm2 is below {MIN_AREA_MM2} mm2 (zero-area part)",
                source=source,
            )
        if not (thickness_mm > 0 and math.isfinite(thickness_mm)):
            raise InvalidInputError(
                "part.thickness_mm", f"must be > 0, got {thickness_mm}", source=source
            )
        return PanelPart(name, orient(outline, 1.0), float(thickness_mm), source, params or {})

    @property
    def holes(self) -> list[Polygon]:
        return [Polygon(ring) for ring in self.outline.interiors]

    @property
    def bounds_mm(self) -> tuple[float, float, float, float]:
        return tuple(self.outline.bounds)  # type: ignore[return-value]

    def sample_surface(self, spacing_mm: float = 2.0) -> SurfaceSamples:
        """Top face on a regular grid (cell centres inside the outline) then side faces.

        The first K samples are the top face; ``grid`` maps them into a regular
        raster for the fast deposition path.
        """
        if not spacing_mm > 0:
            raise InvalidInputError("spacing_mm", f"must be > 0, got {spacing_mm}")
        top, grid = _sample_top(self.outline, self.thickness_mm, spacing_mm)
        outer = _sample_rings(
            [self.outline.exterior], self.thickness_mm, spacing_mm, PANEL_FACES.index("edge")
        )
        inner = _sample_rings(
            list(self.outline.interiors),
            self.thickness_mm,
            spacing_mm,
            PANEL_FACES.index("hole_edge"),
        )
        samples = SurfaceSamples.concat([top, outer, inner], PANEL_FACES)
        return SurfaceSamples(
            samples.points_mm,
            samples.normals,
            samples.area_mm2,
            samples.face_ids,
            PANEL_FACES,
            grid,
        )


def _sample_top(outline: Polygon, z_mm: float, spacing_mm: float) -> tuple[SurfaceSamples, TopGrid]:
    xmin, ymin, xmax, ymax = outline.bounds
    nx = int(math.ceil((xmax - xmin) / spacing_mm))
    ny = int(math.ceil((ymax - ymin) / spacing_mm))
    x0 = xmin + 0.5 * spacing_mm
    y0 = ymin + 0.5 * spacing_mm
    xs = x0 + spacing_mm * np.arange(nx)
    ys = y0 + spacing_mm * np.arange(ny)
    gx, gy = np.meshgrid(xs, ys)
    inside = shapely.contains_xy(outline, gx, gy)
    flat_index = np.flatnonzero(inside.ravel())
    k = flat_index.size
    points = np.column_stack([gx.ravel()[flat_index], gy.ravel()[flat_index], np.full(k, z_mm)])
    normals = np.zeros((k, 3))
    normals[:, 2] = 1.0
    area = np.full(k, spacing_mm * spacing_mm)
    samples = SurfaceSamples(points, normals, area, np.zeros(k, dtype=np.int64), PANEL_FACES)
    grid = TopGrid(float(x0), float(y0), float(spacing_mm), nx, ny, float(z_mm), flat_index)
    return samples, grid


def _sample_rings(
    rings: list, thickness_mm: float, spacing_mm: float, face_id: int
) -> SurfaceSamples:
    """Side-face samples along rings; normals (dy, -dx) point away from the material
    for an oriented polygon (exterior CCW, holes CW)."""
    n_rows = max(1, int(math.ceil(thickness_mm / spacing_mm)))
    row_h = thickness_mm / n_rows
    zs = (np.arange(n_rows) + 0.5) * row_h
    pts_xy, nrm_xy, lens = [], [], []
    for ring in rings:
        xy = np.asarray(ring.coords)[:, :2]
        seg = np.diff(xy, axis=0)
        seg_len = np.hypot(seg[:, 0], seg[:, 1])
        keep = seg_len > 1e-9
        start, seg, seg_len = xy[:-1][keep], seg[keep], seg_len[keep]
        pieces = np.maximum(1, np.ceil(seg_len / spacing_mm)).astype(int)
        seg_idx = np.repeat(np.arange(seg.shape[0]), pieces)
        offsets = np.concatenate([np.arange(p) for p in pieces]) + 0.5
        frac = offsets / pieces[seg_idx]
        pts_xy.append(start[seg_idx] + seg[seg_idx] * frac[:, None])
        unit = seg / seg_len[:, None]
        nrm_xy.append(np.column_stack([unit[:, 1], -unit[:, 0]])[seg_idx])
        lens.append((seg_len / pieces)[seg_idx])
    if not pts_xy:
        empty = np.zeros((0, 3))
        return SurfaceSamples(empty, empty, np.zeros(0), np.zeros(0, dtype=np.int64), PANEL_FACES)
    p_xy = np.concatenate(pts_xy)
    n_xy = np.concatenate(nrm_xy)
    seg_l = np.concatenate(lens)
    m = p_xy.shape[0]
    points = np.column_stack([np.tile(p_xy, (n_rows, 1)), np.repeat(zs, m)])
    normals = np.column_stack([np.tile(n_xy, (n_rows, 1)), np.zeros(m * n_rows)])
    area = np.tile(seg_l, n_rows) * row_h
    face_ids = np.full(m * n_rows, face_id, dtype=np.int64)
    return SurfaceSamples(points, normals, area, face_ids, PANEL_FACES)
