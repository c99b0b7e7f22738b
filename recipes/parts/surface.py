"""Surface samples: the points where film thickness is predicted and judged."""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np


@dataclass(frozen=True)
class SurfaceSamples:
    """Points on a part's surface with outward normals and the area each one stands for.

    Attributes
    ----------
    points_mm : (N, 3) float array, part frame.
    normals : (N, 3) float array, unit outward normals.
    area_mm2 : (N,) float array, surface area represented by each sample.
    face_ids : (N,) int array, index into ``face_names``.
    face_names : names of the faces / edge bands (e.g. ``("top", "edge")``).
    grid : optional description of a regular top-face grid, used by the fast
        deposition path: ``(x0_mm, y0_mm, spacing_mm, nx, ny, flat_index)`` where
        ``flat_index`` (K,) maps the first K samples (the top face) into the grid.
    """

    points_mm: np.ndarray
    normals: np.ndarray
    area_mm2: np.ndarray
    face_ids: np.ndarray
    face_names: tuple[str, ...]
    grid: TopGrid | None = None

    def __len__(self) -> int:
        return int(self.points_mm.shape[0])

    def face_mask(self, name: str) -> np.ndarray:
        return self.face_ids == self.face_names.index(name)

    def subset(self, mask: np.ndarray) -> SurfaceSamples:
        return SurfaceSamples(
            self.points_mm[mask],
            self.normals[mask],
            self.area_mm2[mask],
            self.face_ids[mask],
            self.face_names,
            None,
        )

    def split_top(self) -> tuple[SurfaceSamples, SurfaceSamples]:
        """(top face with its grid, the rest) for samples that carry a ``grid``."""
        if self.grid is None:
            raise ValueError("these samples have no top-face grid")
        k = self.grid.index.size
        top = SurfaceSamples(
            self.points_mm[:k],
            self.normals[:k],
            self.area_mm2[:k],
            self.face_ids[:k],
            self.face_names,
            self.grid,
        )
        rest = SurfaceSamples(
            self.points_mm[k:],
            self.normals[k:],
            self.area_mm2[k:],
            self.face_ids[k:],
            self.face_names,
            None,
        )
        return top, rest

    def top_map(self, values: np.ndarray) -> np.ndarray:
        """(ny, nx) per-sample ``values`` on the top-face grid (NaN outside the outline)."""
        if self.grid is None:
            raise ValueError("these samples have no top-face grid")
        grid = self.grid
        out = np.full(grid.ny * grid.nx, np.nan)
        out[grid.index] = np.asarray(values)[: grid.index.size]
        return out.reshape(grid.ny, grid.nx)

    @staticmethod
    def concat(parts: list[SurfaceSamples], face_names: tuple[str, ...]) -> SurfaceSamples:
        """Join samples that already use ``face_names`` indices."""
        return SurfaceSamples(
            np.concatenate([p.points_mm for p in parts]),
            np.concatenate([p.normals for p in parts]),
            np.concatenate([p.area_mm2 for p in parts]),
            np.concatenate([p.face_ids for p in parts]),
            face_names,
            parts[0].grid,
        )


@dataclass(frozen=True)
class TopGrid:
    """A regular grid over a flat top face at height ``z_mm`` (cell centres).

    ``index`` (K,) holds the flat (row-major, ``iy * nx + ix``) index of the K top-face
    samples, which come first in their :class:`SurfaceSamples`.
    """

    x0_mm: float
    y0_mm: float
    spacing_mm: float
    nx: int
    ny: int
    z_mm: float
    index: np.ndarray
