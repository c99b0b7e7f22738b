"""Parts given as closed triangle meshes (STL, OBJ), e.g. chair legs and frames.

A :class:`MeshPart` holds a watertight mesh in mm in the part frame with outward
normals. Its surface is sampled deterministically: every triangle (long thin ones
first cut into compact pieces) is cut into k x k equal sub-triangles, each giving one
sample at its centroid. Sample normals follow the
smooth surface the facets stand for (a faceted cylinder gives the true cylinder normal)
except across sharp edges, where the facet normal is kept.
"""

from __future__ import annotations

import math
import os
from dataclasses import dataclass, field
from functools import cached_property
from pathlib import Path

import numpy as np
import scipy.sparse
import scipy.sparse.csgraph
import trimesh

from recipes.errors import InvalidInputError, NotFoundError
from recipes.parts.surface import SurfaceSamples

MESH_FACES: tuple[str, ...] = ("side", "end")
#: a sample is an "end" sample if its normal is within this angle of +-principal axis
END_ANGLE_DEG = 25.0
#: facets meeting at more than this angle form a sharp edge: normals are not blended
CREASE_ANGLE_DEG = 30.0
#: triangles whose longest edge exceeds this multiple of their height onto it (and the
#: spacing) are cut into compact pieces before the k x k split
MAX_ASPECT = 4.0
#: refuse spacings that would give more samples than this
MAX_SAMPLES = 10_000_000
#: millimetres per unit for ``load_mesh(units=...)``
MESH_UNITS_TO_MM: dict[str, float] = {"mm": 1.0, "cm": 10.0, "m": 1000.0, "in": 25.4, "inch": 25.4}
MESH_SUFFIXES: tuple[str, ...] = (".stl", ".obj")
_MAX_CUT_ROUNDS = 32


@dataclass(frozen=True)
class MeshPart:
    """A closed triangle mesh part (mm, part frame, outward normals)."""

    name: str
    mesh: trimesh.Trimesh
    source: str = "template"
    params: dict = field(default_factory=dict)

    @cached_property
    def principal_axis(self) -> np.ndarray:
        """(3,) unit vector along the longest extent of the oriented bounding box.

        The sign is chosen so that the largest component is positive.
        """
        to_origin, extents = trimesh.bounds.oriented_bounds(self.mesh)
        axis = np.asarray(to_origin, dtype=float)[int(np.argmax(extents)), :3]
        axis = axis / np.linalg.norm(axis)
        return axis if axis[int(np.argmax(np.abs(axis)))] > 0 else -axis

    @property
    def bounds_mm(self) -> np.ndarray:
        """(2, 3) axis-aligned bounds ``[min, max]`` in mm."""
        return np.asarray(self.mesh.bounds, dtype=float)

    def sample_surface(self, spacing_mm: float = 2.0) -> SurfaceSamples:
        """Deterministic samples over the whole surface, faces ``("side", "end")``.

        Each triangle is cut into k x k congruent sub-triangles, k = ceil(longest edge /
        spacing_mm), one sample at each sub-triangle centroid, area = triangle area / k^2.
        Long thin triangles (see ``MAX_ASPECT``) are first cut into strips across their
        length and the k x k split is applied to the pieces: a k x k split keeps the
        shape, so a 450 x 1.3 mm facet would give k^2 = 50,625 slivers. Degenerate
        triangles (no area or no normal) give no samples.

        Normals are the barycentric blend of per-corner normals, which average the
        facets around a vertex that meet the triangle at no more than
        ``CREASE_ANGLE_DEG``; where the blend differs from the facet normal by more than
        that angle the facet normal is used. "end" samples have normals within
        ``END_ANGLE_DEG`` of +-``principal_axis``, the rest are "side".

        Returns
        -------
        SurfaceSamples
            points_mm (N, 3), normals (N, 3) unit, area_mm2 (N,) summing to the mesh
            area, face_ids (N,) into ``("side", "end")``.
        """
        if not (spacing_mm > 0 and math.isfinite(spacing_mm)):
            raise InvalidInputError("spacing_mm", f"must be > 0, got {spacing_mm}")
        mesh = self.mesh
        triangles = np.asarray(mesh.triangles, dtype=float)
        face_normals = _unit_face_normals(triangles)
        face_area = np.asarray(mesh.area_faces, dtype=float)
        usable = (face_area > 0) & np.any(face_normals != 0, axis=1)
        if not usable.any():
            raise InvalidInputError("mesh", "no triangle with area", source=self.source)
        corner_normals = _corner_normals(
            np.asarray(mesh.faces),
            face_normals,
            np.asarray(mesh.face_angles, dtype=float),
            math.radians(CREASE_ANGLE_DEG),
        )
        face_idx, bary, corners = _split_slivers(np.flatnonzero(usable), triangles, spacing_mm)
        longest = np.sqrt(_edge_lengths_sq(corners).max(axis=1))
        k = np.maximum(1, np.ceil(longest / spacing_mm - 1e-9)).astype(np.int64)
        n_total = int(np.sum(k * k))
        if n_total > MAX_SAMPLES:
            raise InvalidInputError(
                "spacing_mm",
                f"{spacing_mm:g} mm gives {n_total} samples (limit {MAX_SAMPLES})",
                source=self.source,
            )

        points, normals, areas, faces = [], [], [], []
        for kk in np.unique(k):
            idx = np.flatnonzero(k == kk)
            weights = _sub_centroids(int(kk)) @ bary[idx]  # (T, k^2, 3)
            f = face_idx[idx]
            points.append((weights @ triangles[f]).reshape(-1, 3))
            normals.append((weights @ corner_normals[f]).reshape(-1, 3))
            piece_area = face_area[f] * np.abs(np.linalg.det(bary[idx])) / float(kk * kk)
            areas.append(np.repeat(piece_area, kk * kk))
            faces.append(np.repeat(f, kk * kk))
        fid = np.concatenate(faces)
        normal = _blend_or_facet(np.concatenate(normals), face_normals[fid])
        is_end = np.abs(normal @ self.principal_axis) >= math.cos(math.radians(END_ANGLE_DEG))
        return SurfaceSamples(
            np.concatenate(points),
            normal,
            np.concatenate(areas),
            is_end.astype(np.int64),
            MESH_FACES,
        )


def load_mesh(
    path: str | os.PathLike[str], *, name: str | None = None, units: str = "mm"
) -> MeshPart:
    """Read a closed STL or OBJ mesh as a part.

    Parameters
    ----------
    path : ``.stl`` or ``.obj`` file.
    name : part name; defaults to the file name without suffix.
    units : unit of the file's coordinates, one of ``MESH_UNITS_TO_MM``.

    Vertices are merged; triangles wound against their neighbours or pointing inwards
    are turned round (``params["flipped_faces"]`` counts them). Degenerate triangles are
    kept for the topology and give no samples.

    Raises
    ------
    NotFoundError
        The file does not exist.
    InvalidInputError
        Unknown units or format, unreadable file, no triangles, non-finite coordinates,
        zero area, only degenerate triangles, a mesh that is not closed, undefined
        normals. ``source`` is the file.
    """
    src = str(path)
    if units not in MESH_UNITS_TO_MM:
        raise InvalidInputError(
            "units", f"unknown unit {units!r} (known: {', '.join(MESH_UNITS_TO_MM)})", source=src
        )
    file = Path(path)
    suffix = file.suffix.lower()
    if suffix not in MESH_SUFFIXES:
        raise InvalidInputError(
            "path",
            f"unsupported mesh format {suffix!r} (use {', '.join(MESH_SUFFIXES)})",
            source=src,
        )
    if not file.is_file():
        raise NotFoundError("mesh file", src)
    try:
        loaded = trimesh.load(file, file_type=suffix[1:], force="mesh", process=False)
    except Exception as exc:  # the parsers raise many kinds of errors on bad input
        raise InvalidInputError(
            "file", f"not a readable {suffix} mesh: {exc}", source=src
        ) from None
    if not isinstance(loaded, trimesh.Trimesh):
        raise InvalidInputError("mesh", "empty mesh: no triangles", source=src)
    mesh, flipped = _validated(loaded, MESH_UNITS_TO_MM[units], src)
    params = dict(path=src, units=units, mm_per_unit=MESH_UNITS_TO_MM[units], flipped_faces=flipped)
    return MeshPart(name if name is not None else file.stem, mesh, f"mesh:{src}", params)


def chair_leg(
    length_mm: float = 450.0,
    d_top_mm: float = 40.0,
    d_bottom_mm: float = 25.0,
    segments: int = 96,
) -> MeshPart:
    """Tapered round leg: a closed frustum with both end caps along +x.

    The thick end (``d_top_mm``) is at x = 0, the thin end at x = ``length_mm``; the
    axis lies at y = 0, z = ``d_top_mm / 2`` so the thick end rests on z = 0.
    """
    for key, value in dict(length_mm=length_mm, d_top_mm=d_top_mm, d_bottom_mm=d_bottom_mm).items():
        if not (value > 0 and math.isfinite(value)):
            raise InvalidInputError(f"part.{key}", f"must be > 0, got {value}")
    if int(segments) != segments or segments < 3:
        raise InvalidInputError("part.segments", f"must be an integer >= 3, got {segments}")
    n = int(segments)
    z_axis = d_top_mm / 2.0
    angles = 2.0 * math.pi * np.arange(n) / n
    rings = []
    for x, radius in ((0.0, d_top_mm / 2.0), (length_mm, d_bottom_mm / 2.0)):
        rings.append(
            np.column_stack(
                [np.full(n, x), radius * np.cos(angles), z_axis + radius * np.sin(angles)]
            )
        )
    centres = np.array([[0.0, 0.0, z_axis], [length_mm, 0.0, z_axis]])
    vertices = np.concatenate([rings[0], rings[1], centres])
    i = np.arange(n)
    j = (i + 1) % n
    a_i, a_j, b_i, b_j = i, j, n + i, n + j  # a: ring at x = 0, b: ring at x = length
    c0 = np.full(n, 2 * n)
    c1 = np.full(n, 2 * n + 1)
    faces = np.concatenate(
        [
            np.column_stack([a_i, a_j, b_i]),
            np.column_stack([a_j, b_j, b_i]),
            np.column_stack([c0, a_j, a_i]),  # cap at x = 0, normal -x
            np.column_stack([c1, b_i, b_j]),  # cap at x = length, normal +x
        ]
    )
    mesh = trimesh.Trimesh(vertices, faces, process=False)
    params = dict(length_mm=length_mm, d_top_mm=d_top_mm, d_bottom_mm=d_bottom_mm, segments=n)
    return MeshPart("chair_leg", mesh, "template:chair_leg", params)


def _validated(mesh: trimesh.Trimesh, mm_per_unit: float, src: str) -> tuple[trimesh.Trimesh, int]:
    """Checked, merged, outward-wound copy of ``mesh`` in mm and the number of flips."""
    if len(mesh.faces) == 0:
        raise InvalidInputError("mesh", "empty mesh: no triangles", source=src)
    vertices = np.asarray(mesh.vertices, dtype=float)
    if not np.isfinite(vertices).all():
        raise InvalidInputError(
            "mesh.vertices", "NaN or infinite coordinates: normals are undefined", source=src
        )
    mesh = trimesh.Trimesh(vertices * mm_per_unit, np.asarray(mesh.faces), process=False)
    mesh.merge_vertices(merge_tex=True, merge_norm=True)
    f = mesh.faces
    mesh.update_faces((f[:, 0] != f[:, 1]) & (f[:, 1] != f[:, 2]) & (f[:, 2] != f[:, 0]))
    if not mesh.area > 0:
        raise InvalidInputError("mesh", "zero total area", source=src)
    solid = mesh.nondegenerate_faces()
    if not solid.any():
        raise InvalidInputError(
            "mesh", "degenerate faces only: no triangle has an area", source=src
        )
    if not mesh.is_watertight:
        open_edges = _count_open_edges(mesh)
        raise InvalidInputError(
            "mesh",
            f"not watertight ({open_edges} open or non-manifold edges): meshes without "
            "usable normals: the mesh must be closed so outward normals are defined",
            source=src,
        )
    faces, flip = _outward_winding(np.asarray(mesh.vertices), np.asarray(mesh.faces))
    if flip is None:
        raise InvalidInputError(
            "mesh", "not orientable (no consistent inside and outside)", source=src
        )
    mesh = trimesh.Trimesh(mesh.vertices, faces, process=False)
    normals = _unit_face_normals(np.asarray(mesh.triangles, dtype=float))[solid]
    lengths = np.linalg.norm(normals, axis=1)
    if not (np.isfinite(normals).all() and np.allclose(lengths, 1.0, atol=1e-6)):
        raise InvalidInputError("mesh", "NaN or zero face normals", source=src)
    return mesh, int(np.count_nonzero(flip))


def _outward_winding(
    vertices: np.ndarray, faces: np.ndarray
) -> tuple[np.ndarray, np.ndarray | None]:
    """Turn faces round so that each closed body is wound consistently and outwards.

    Parameters
    ----------
    vertices : (V, 3) coordinates.
    faces : (F, 3) vertex indices of a closed mesh (every edge in exactly two faces).

    Returns
    -------
    faces : (F, 3) faces, some reversed.
    flip : (F,) bool, True where a face was reversed; None if a body is not orientable.

    Notes
    -----
    Faces sharing an edge are wound alike if they run along it in opposite directions.
    Each face has two states (kept, reversed); linking the states that agree across each
    edge gives two mirror components per body, and the face is reversed if its
    "reversed" state lies in the component with the lower label. A body with negative
    signed volume (pointing inwards) is then reversed as a whole; an inner shell (a
    closed cavity) is treated as a body of its own.
    """
    n_faces = faces.shape[0]
    directed = faces[:, [0, 1, 1, 2, 2, 0]].reshape(-1, 2)
    lo, hi = directed.min(axis=1), directed.max(axis=1)
    order = np.argsort(lo * (int(vertices.shape[0]) + 1) + hi, kind="stable")
    first, second = order[0::2], order[1::2]  # the two uses of each edge
    face_a, face_b = first // 3, second // 3
    forward = directed[:, 0] < directed[:, 1]
    same_way = forward[first] == forward[second]  # wound against each other
    kept_a = face_a
    other_b = np.where(same_way, face_b + n_faces, face_b)
    rows = np.concatenate([kept_a, kept_a + n_faces])
    cols = np.concatenate([other_b, (other_b + n_faces) % (2 * n_faces)])
    graph = scipy.sparse.coo_matrix(
        (np.ones(rows.size), (rows, cols)), shape=(2 * n_faces, 2 * n_faces)
    )
    _, label = scipy.sparse.csgraph.connected_components(graph, directed=False)
    kept_label, reversed_label = label[:n_faces], label[n_faces:]
    if np.any(kept_label == reversed_label):
        return faces, None
    flip = reversed_label < kept_label
    oriented = np.where(flip[:, None], faces[:, ::-1], faces)
    tri = vertices[oriented]
    volume6 = np.einsum("ij,ij->i", tri[:, 0], np.cross(tri[:, 1], tri[:, 2]))
    body = np.unique(np.minimum(kept_label, reversed_label), return_inverse=True)[1]
    inwards = np.bincount(body, weights=volume6) < 0
    flip = flip ^ inwards[body]
    return np.where(flip[:, None], faces[:, ::-1], faces), flip


def _count_open_edges(mesh: trimesh.Trimesh) -> int:
    """Number of edges not shared by exactly two faces."""
    _, counts = np.unique(mesh.edges_sorted, axis=0, return_counts=True)
    return int(np.count_nonzero(counts != 2))


def _unit_face_normals(triangles: np.ndarray) -> np.ndarray:
    """(F, 3) unit normals of (F, 3, 3) triangles (right hand); zero where degenerate."""
    cross = np.cross(triangles[:, 1] - triangles[:, 0], triangles[:, 2] - triangles[:, 0])
    norm = np.linalg.norm(cross, axis=1)
    out = np.zeros_like(cross)
    ok = norm > 1e-12 * np.max(norm, initial=0.0)
    out[ok] = cross[ok] / norm[ok, None]
    return out


def _corner_normals(
    faces: np.ndarray, face_normals: np.ndarray, corner_angles: np.ndarray, crease_rad: float
) -> np.ndarray:
    """Smooth normal at each triangle corner, not blended across sharp edges.

    Parameters
    ----------
    faces : (F, 3) vertex indices.
    face_normals : (F, 3) unit facet normals (zero rows for degenerate facets).
    corner_angles : (F, 3) interior angle at each corner (the blending weights).
    crease_rad : facets whose normal differs from this facet's by more are left out.

    Returns
    -------
    (F, 3, 3) array: unit normal of corner c of face f at ``[f, c]``, the
    angle-weighted mean of the normals of the facets at that vertex within the crease
    angle of facet f.
    """
    n_faces = faces.shape[0]
    corner_vertex = faces.ravel()
    corner_face = np.repeat(np.arange(n_faces), 3)
    order = np.argsort(corner_vertex, kind="stable")
    vertex_sorted = corner_vertex[order]
    face_sorted = corner_face[order]
    weight_sorted = np.nan_to_num(corner_angles.ravel()[order])
    n = vertex_sorted.size
    starts = np.flatnonzero(np.r_[True, vertex_sorted[1:] != vertex_sorted[:-1]])
    counts = np.diff(np.r_[starts, n])
    group = np.repeat(np.arange(starts.size), counts)
    partners = counts[group]
    # every (corner, other corner at the same vertex) pair
    pair_i = np.repeat(np.arange(n), partners)
    pair_j = starts[group][pair_i] + (
        np.arange(pair_i.size) - np.repeat(np.cumsum(partners) - partners, partners)
    )
    n_i = face_normals[face_sorted[pair_i]]
    n_j = face_normals[face_sorted[pair_j]]
    smooth = np.einsum("ij,ij->i", n_i, n_j) >= math.cos(crease_rad)
    w = np.where(smooth, weight_sorted[pair_j], 0.0)
    summed = np.column_stack(
        [np.bincount(pair_i, weights=w * n_j[:, d], minlength=n) for d in range(3)]
    )
    out = np.empty_like(summed)
    out[order] = summed
    out = out.reshape(n_faces, 3, 3)
    norm = np.linalg.norm(out, axis=2, keepdims=True)
    fallback = np.broadcast_to(face_normals[:, None, :], out.shape)
    return np.where(norm > 1e-12, out / np.maximum(norm, 1e-300), fallback)


def _edge_lengths_sq(corners: np.ndarray) -> np.ndarray:
    """(T, 3) squared length of the edge opposite each corner of (T, 3, 3) triangles."""
    c0, c1, c2 = corners[:, 0], corners[:, 1], corners[:, 2]
    return np.column_stack(
        [
            np.sum((c2 - c1) ** 2, axis=1),
            np.sum((c0 - c2) ** 2, axis=1),
            np.sum((c1 - c0) ** 2, axis=1),
        ]
    )


def _split_slivers(
    face_idx: np.ndarray, triangles: np.ndarray, spacing_mm: float
) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """Cut long thin triangles into pieces no longer than the spacing or the width.

    A piece is cut while its longest edge is longer than ``spacing_mm`` and more than
    ``MAX_ASPECT`` times its height onto that edge: first at the foot of that height
    into two right triangles, then each of these into strips across its long leg
    (see :func:`_strip_pieces`). Halving (or k x k splitting) would keep the shape.

    Parameters
    ----------
    face_idx : (F,) indices of the faces to cut.
    triangles : (M, 3, 3) corner coordinates of all mesh faces.

    Returns
    -------
    face_idx : (T,) mesh face of each piece.
    bary : (T, 3, 3) barycentric coordinates (in its face) of each piece's corners;
        ``abs(det(bary))`` is the piece's share of the face area.
    corners : (T, 3, 3) corner coordinates of each piece.
    """
    bary = np.broadcast_to(np.eye(3), (face_idx.size, 3, 3)).copy()
    for _ in range(_MAX_CUT_ROUNDS):
        corners = bary @ triangles[face_idx]
        edges_sq = _edge_lengths_sq(corners)
        longest = np.argmax(edges_sq, axis=1)
        length = np.sqrt(edges_sq[np.arange(longest.size), longest])
        twice_area = np.linalg.norm(
            np.cross(corners[:, 1] - corners[:, 0], corners[:, 2] - corners[:, 0]), axis=1
        )
        height = twice_area / np.maximum(length, 1e-300)
        cut = (length > spacing_mm) & (length > MAX_ASPECT * height)
        if not cut.any():
            return face_idx, bary, corners
        s = np.flatnonzero(cut)
        roll = (longest[s, None] + np.arange(3)) % 3  # longest edge opposite corner 0
        apex, q, r = np.moveaxis(np.take_along_axis(bary[s], roll[:, :, None], axis=1), 1, 0)
        c_apex, c_q, c_r = np.moveaxis(
            np.take_along_axis(corners[s], roll[:, :, None], axis=1), 1, 0
        )
        tau = np.einsum("ij,ij->i", c_apex - c_q, c_r - c_q) / length[s] ** 2
        tau = np.clip(tau, 0.0, 1.0)[:, None]
        foot = (1.0 - tau) * q + tau * r
        # right triangles (far end, foot, apex) with the long leg far end -> foot
        right = np.concatenate(
            [np.stack([q, foot, apex], axis=1), np.stack([r, foot, apex], axis=1)]
        )
        both = np.concatenate([s, s])
        leg_mm = np.concatenate([tau[:, 0], 1.0 - tau[:, 0]]) * length[both]
        strip_mm = np.maximum(height[both], spacing_mm / math.sqrt(2.0))
        keep = leg_mm > 1e-9 * length[both]
        n_strips = np.maximum(1, np.ceil(leg_mm / strip_mm)).astype(np.int64)
        pieces, owner = _strip_pieces(right[keep], n_strips[keep])
        bary = np.concatenate([bary[~cut], pieces])
        face_idx = np.concatenate([face_idx[~cut], face_idx[both[keep]][owner]])
    corners = bary @ triangles[face_idx]
    return face_idx, bary, corners


def _strip_pieces(right: np.ndarray, n_strips: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """Cut right triangles into strips parallel to their short leg.

    Parameters
    ----------
    right : (R, 3, 3) corners (far end A, right-angle corner F, apex P) as barycentric
        rows; the cuts run from A + t (F - A) to A + t (P - A) at t = j / m.
    n_strips : (R,) number of strips m per triangle.

    Returns
    -------
    pieces : (sum(2 m - 1), 3, 3) corners of the pieces: the tip triangle and two
        triangles per further strip.
    owner : index into ``right`` of each piece.
    """
    counts = 2 * n_strips - 1
    owner = np.repeat(np.arange(right.shape[0]), counts)
    q = np.arange(owner.size) - np.repeat(np.cumsum(counts) - counts, counts)
    m = n_strips[owner].astype(float)
    first = (q % 2 == 1) | (q == 0)  # (F_j, F_j+1, P_j+1), else (F_j, P_j+1, P_j)
    j = np.where(first, (q + 1) // 2, q // 2).astype(float)
    t0, t1 = (j / m)[:, None], ((j + 1) / m)[:, None]
    a, f, p = right[owner, 0], right[owner, 1], right[owner, 2]

    def on_leg(end: np.ndarray, t: np.ndarray) -> np.ndarray:
        return a + t * (end - a)

    corner0 = on_leg(f, t0)
    corner1 = np.where(first[:, None], on_leg(f, t1), on_leg(p, t1))
    corner2 = np.where(first[:, None], on_leg(p, t1), on_leg(p, t0))
    return np.stack([corner0, corner1, corner2], axis=1), owner


def _sub_centroids(k: int) -> np.ndarray:
    """(k^2, 3) barycentric centroids of the k x k congruent sub-triangles."""
    i, j = np.meshgrid(np.arange(k), np.arange(k), indexing="ij")
    up = (i + j) <= k - 1
    down = (i + j) <= k - 2
    u = np.concatenate([i[up] + 1.0 / 3.0, i[down] + 2.0 / 3.0]) / k
    v = np.concatenate([j[up] + 1.0 / 3.0, j[down] + 2.0 / 3.0]) / k
    return np.column_stack([1.0 - u - v, u, v])


def _blend_or_facet(blended: np.ndarray, facet: np.ndarray) -> np.ndarray:
    """(N, 3) unit normals: ``blended`` unless more than the crease angle off ``facet``."""
    norm = np.linalg.norm(blended, axis=1)
    unit = blended / np.maximum(norm, 1e-300)[:, None]
    cos_limit = math.cos(math.radians(CREASE_ANGLE_DEG))
    keep = (norm > 1e-12) & (np.einsum("ij,ij->i", unit, facet) >= cos_limit)
    return np.where(keep[:, None], unit, facet)
