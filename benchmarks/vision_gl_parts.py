"""Parts of the independent image set: real outlines, wrong parts, damage, and meshes.

Every outline is built here from its dimensions (shapely), centred on the centre of its
bounding box, which is the reference point whose pose the locator reports: a part placed
at ``(x_mm, y_mm, theta_deg)`` has its reference point there. Nothing is taken from the
project's part templates except the spec string handed to the locator.

- :data:`EXPECTED`: the part types the jobs expect (spec for the locator, and how to build
  the real one, with its size drift);
- :func:`wrong_outline`: another part than the expected one (other size, a hole too many
  or too few, other corners, another shape);
- :func:`damage`: a chunk cut out of the real part (broken corner, notch, round bite,
  ragged chip), through its whole thickness;
- :func:`extrude`: the mesh TinyRenderer draws: the top face (constrained Delaunay
  triangles of the outline with its holes) and the side faces and hole walls, each face
  with its own vertices and normal (flat shading), texture coordinates from a texture
  atlas (top face above, side faces in a band below).
"""

from __future__ import annotations

import math
from collections.abc import Callable
from dataclasses import dataclass

import numpy as np
import shapely
from shapely import affinity
from shapely.geometry import Point, Polygon, box
from shapely.geometry.polygon import orient

#: texture atlas: the top face uses v in [TOP_V0, 1], the side faces v in [0, SIDE_V1]
TOP_V0 = 0.3
SIDE_V1 = 0.2


def rect(w: float, h: float) -> Polygon:
    return box(-w / 2, -h / 2, w / 2, h / 2)


def rounded_rect(w: float, h: float, r: float, step_deg: float = 2.0) -> Polygon:
    """A rectangle with true circular corners (one vertex every ``step_deg``)."""
    if r <= 0:
        return rect(w, h)
    a = np.radians(np.arange(0.0, 90.0 + 1e-9, step_deg))
    pts = []
    for (cx, cy), start in (
        ((w / 2 - r, h / 2 - r), 0.0),
        ((-w / 2 + r, h / 2 - r), 0.5 * math.pi),
        ((-w / 2 + r, -h / 2 + r), math.pi),
        ((w / 2 - r, -h / 2 + r), 1.5 * math.pi),
    ):
        pts += list(zip(cx + r * np.cos(start + a), cy + r * np.sin(start + a), strict=True))
    return Polygon(pts)


def ellipse(w: float, h: float, n: int = 360) -> Polygon:
    t = np.linspace(0.0, 2.0 * math.pi, n, endpoint=False)
    return Polygon(np.column_stack([0.5 * w * np.cos(t), 0.5 * h * np.sin(t)]))


def centred(poly: Polygon) -> Polygon:
    """The outline moved so that its bounding box is centred on the origin."""
    xmin, ymin, xmax, ymax = poly.bounds
    return orient(affinity.translate(poly, -(xmin + xmax) / 2, -(ymin + ymax) / 2), 1.0)


@dataclass(frozen=True)
class PartType:
    """A part type the jobs expect.

    Attributes
    ----------
    spec : str, the part as the edge loads it (``recipes.parts.loader.load_part``).
    thickness_mm : float
    build : (dw_mm, dh_mm) -> Polygon, the real outline with a size drift.
    theta_sd_deg : placement spread of the heading on the belt (None: any heading).
    xy_sd_mm : placement spread of the position.
    """

    spec: str
    thickness_mm: float
    build: Callable[[float, float], Polygon]
    theta_sd_deg: float | None
    xy_sd_mm: float


def _cutout(w: float, h: float, hole: float, dx: float = 0.0, dy: float = 0.0) -> Polygon:
    return rect(w, h).difference(affinity.translate(rect(hole, hole), dx, dy))


EXPECTED: dict[str, PartType] = {
    "door": PartType("door", 18.0, lambda dw, dh: rect(600 + dw, 400 + dh), 1.5, 6.0),
    "cutout_panel": PartType(
        "cutout_panel", 18.0, lambda dw, dh: _cutout(400 + dw, 400 + dh, 150.0), None, 15.0
    ),
    "rounded": PartType(
        "rect:width_mm=500,height_mm=350,corner_radius_mm=20",
        18.0,
        lambda dw, dh: rounded_rect(500 + dw, 350 + dh, 20.0),
        8.0,
        15.0,
    ),
    "disc": PartType(
        "round_top:diameter_mm=420", 25.0, lambda dw, dh: ellipse(420 + dw, 420 + dw), None, 15.0
    ),
}

#: wrong parts for each expected type: (name, outline)
_WRONG: dict[str, list[tuple[str, Callable[[], Polygon]]]] = {
    "door": [
        ("rect 560x380", lambda: rect(560, 380)),
        ("door 10 mm short", lambda: rect(600, 390)),
        ("door 12 mm narrow", lambda: rect(588, 400)),
        ("door with a 35 mm bore", lambda: rect(600, 400).difference(Point(-240, 0).buffer(17.5))),
        ("L-shaped front", lambda: rect(600, 400).difference(box(150, 50, 300, 200))),
        ("cut-out panel", lambda: _cutout(400, 400, 150.0)),
    ],
    "cutout_panel": [
        ("panel without the cut-out", lambda: rect(400, 400)),
        ("cut-out 200 mm", lambda: _cutout(400, 400, 200.0)),
        ("cut-out off centre", lambda: _cutout(400, 400, 150.0, 30.0, 0.0)),
        ("round cut-out", lambda: rect(400, 400).difference(Point(0, 0).buffer(75.0, 64))),
        ("rect 450x300", lambda: rect(450, 300)),
    ],
    "rounded": [
        ("corner radius 60 mm", lambda: rounded_rect(500, 350, 60.0)),
        ("rect 450x300 r20", lambda: rounded_rect(450, 300, 20.0)),
        ("rect 520x350 r20", lambda: rounded_rect(520, 350, 20.0)),
        ("square corners", lambda: rect(500, 350)),
        ("door", lambda: rect(600, 400)),
    ],
    "disc": [
        ("disc 400", lambda: ellipse(400, 400)),
        ("oval 420x400", lambda: ellipse(420, 400)),
        ("square 420 r100", lambda: rounded_rect(420, 420, 100.0)),
        ("disc with a 60 mm hole", lambda: ellipse(420, 420).difference(Point(0, 0).buffer(30.0))),
    ],
}


def wrong_outline(kind: str, rng: np.random.Generator) -> tuple[str, Polygon]:
    """Another part than the expected ``kind``: its name and outline (centred)."""
    name, build = _WRONG[kind][int(rng.integers(len(_WRONG[kind])))]
    return name, centred(build())


# --- damage ---------------------------------------------------------------------------------
def _boundary_point(
    poly: Polygon, rng: np.random.Generator, clear_mm: float
) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """A point on a ring of ``poly`` at least ``clear_mm`` from its corners, with the
    ring's unit tangent and outward normal there. Holes are picked one time in five."""
    rings = [poly.exterior] + list(poly.interiors)
    ring = (
        rings[0]
        if len(rings) == 1 or rng.random() < 0.8
        else rings[1 + rng.integers(len(rings) - 1)]
    )
    pts = np.asarray(ring.coords)
    seg = np.diff(pts, axis=0)
    length = np.hypot(seg[:, 0], seg[:, 1])
    # long straight runs (a sequence of nearly collinear segments counts as one)
    usable = np.maximum(length - 2 * clear_mm, 0.0)
    if usable.sum() <= 0:  # curved rings: any point
        usable = length
        clear_mm = 0.0
    i = int(rng.choice(len(seg), p=usable / usable.sum()))
    s = clear_mm + rng.uniform(0.0, max(length[i] - 2 * clear_mm, 1e-6))
    t = seg[i] / length[i]
    p = pts[i] + t * min(s, length[i])
    normal = np.array([t[1], -t[0]])
    if poly.contains(Point(*(p + 0.5 * normal))):  # holes run the other way
        normal = -normal
    return p, t, normal


def damage(poly: Polygon, rng: np.random.Generator) -> tuple[Polygon, dict]:
    """The outline with a chunk missing, and what was cut (kind, size in mm, area mm2)."""
    kind = str(rng.choice(["corner", "notch", "bite", "chip"], p=[0.25, 0.25, 0.25, 0.25]))
    if kind == "corner":
        cut, size = _corner_cut(poly, rng)
        if cut is None:
            kind = "bite"
    if kind == "notch":
        p, t, n = _boundary_point(poly, rng, 25.0)
        width, depth = rng.uniform(8.0, 40.0), rng.uniform(3.0, 15.0)
        corners = [p - t * width / 2 + n * 3, p + t * width / 2 + n * 3]
        corners += [p + t * width / 2 - n * depth, p - t * width / 2 - n * depth]
        cut, size = Polygon(corners), dict(width_mm=width, depth_mm=depth)
    elif kind == "bite":
        p, _, n = _boundary_point(poly, rng, 20.0)
        radius = rng.uniform(5.0, 16.0)
        centre = p + n * radius * rng.uniform(-0.3, 0.3)
        cut, size = Point(*centre).buffer(radius, 48), dict(radius_mm=radius)
    elif kind == "chip":
        p, t, n = _boundary_point(poly, rng, 25.0)
        length, depth = rng.uniform(10.0, 40.0), rng.uniform(3.0, 10.0)
        k = 7
        along = np.linspace(-length / 2, length / 2, k)
        inward = depth * np.sin(np.linspace(0, math.pi, k)) ** 0.7
        inward *= rng.uniform(0.6, 1.0, k)
        inward[[0, -1]] = 0.0
        ragged = [p + t * a - n * d for a, d in zip(along, inward, strict=True)]
        outside = [p + t * length / 2 + n * 3, p - t * length / 2 + n * 3]
        cut, size = Polygon(ragged + outside), dict(length_mm=length, depth_mm=depth)
    damaged = poly.difference(cut)
    if damaged.geom_type != "Polygon":  # keep the main piece
        damaged = max(damaged.geoms, key=lambda g: g.area)
    missing = poly.area - damaged.area
    return orient(damaged, 1.0), dict(kind=kind, area_mm2=round(missing, 1), **_round(size))


def _corner_cut(poly: Polygon, rng: np.random.Generator) -> tuple[Polygon | None, dict]:
    """A triangle off a convex corner of the exterior (legs 12-45 mm)."""
    pts = np.asarray(orient(poly, 1.0).exterior.coords)[:-1]
    prev, nxt = np.roll(pts, 1, axis=0), np.roll(pts, -1, axis=0)
    a, b = pts - prev, nxt - pts
    cross = a[:, 0] * b[:, 1] - a[:, 1] * b[:, 0]
    turn = np.degrees(np.arctan2(cross, np.einsum("ij,ij->i", a, b)))
    sharp = np.flatnonzero(turn > 45.0)
    if len(sharp) == 0:
        return None, {}
    i = int(rng.choice(sharp))
    leg1, leg2 = rng.uniform(12.0, 45.0, 2)
    u = -a[i] / np.linalg.norm(a[i])
    v = b[i] / np.linalg.norm(b[i])
    c = pts[i]
    out = -(u + v) / np.linalg.norm(u + v)
    tri = Polygon([c + u * leg1, c + out * 3.0, c + v * leg2])
    return tri, dict(leg1_mm=leg1, leg2_mm=leg2)


def _round(d: dict) -> dict:
    return {k: round(float(v), 2) for k, v in d.items()}


# --- meshes ---------------------------------------------------------------------------------
@dataclass(frozen=True)
class Mesh:
    """Triangles for TinyRenderer, one set of vertices per face (flat shading).

    Attributes
    ----------
    vertices, normals : (V, 3) float, mm in the part frame (bottom face at z = 0).
    uvs : (V, 2) float, texture atlas coordinates.
    indices : (T * 3,) int, counter-clockwise seen from outside.
    """

    vertices: np.ndarray
    normals: np.ndarray
    uvs: np.ndarray
    indices: np.ndarray


def extrude(poly: Polygon, thickness_mm: float, span_mm: float, edge_mm: float = 8.0) -> Mesh:
    """The solid part: ``poly`` (part frame, mm, within +-``span_mm`` / 2 of the origin)
    raised to ``thickness_mm``. The top face's texture coordinates are its x, y over
    ``span_mm`` (mapped into the atlas' top region); long edges are split every
    ``edge_mm`` so that no triangle is very long and thin."""
    poly = orient(shapely.segmentize(poly, edge_mm), 1.0)
    tris = shapely.get_parts(shapely.constrained_delaunay_triangles(poly))
    corners = np.array([np.asarray(t.exterior.coords)[:3] for t in tris])  # (T, 3, 2)
    area2 = (corners[:, 1, 0] - corners[:, 0, 0]) * (corners[:, 2, 1] - corners[:, 0, 1]) - (
        corners[:, 1, 1] - corners[:, 0, 1]
    ) * (corners[:, 2, 0] - corners[:, 0, 0])
    corners[area2 < 0] = corners[area2 < 0][:, ::-1]
    top = corners.reshape(-1, 2)
    top_uv = np.clip(top / span_mm + 0.5, 0.0, 1.0)
    top_uv[:, 1] = TOP_V0 + (1.0 - TOP_V0) * top_uv[:, 1]
    verts = [np.column_stack([top, np.full(len(top), thickness_mm)])]
    normals = [np.tile([0.0, 0.0, 1.0], (len(top), 1))]
    uvs = [top_uv]
    for ring in [poly.exterior, *poly.interiors]:
        pts = np.asarray(ring.coords)
        a, b = pts[:-1], pts[1:]
        d = b - a
        length = np.hypot(d[:, 0], d[:, 1])
        keep = length > 1e-9
        a, b, d, length = a[keep], b[keep], d[keep], length[keep]
        n = np.column_stack([d[:, 1], -d[:, 0]]) / length[:, None]
        z0, z1 = np.zeros(len(a)), np.full(len(a), thickness_mm)
        quad = [
            np.column_stack([a, z0]),
            np.column_stack([b, z0]),
            np.column_stack([b, z1]),
            np.column_stack([a, z0]),
            np.column_stack([b, z1]),
            np.column_stack([a, z1]),
        ]
        side = np.stack(quad, axis=1).reshape(-1, 3)
        verts.append(side)
        normals.append(np.repeat(np.column_stack([n, np.zeros(len(n))]), 6, axis=0))
        s = np.cumsum(length) - length
        u = np.repeat((s / span_mm) % 1.0, 6)
        v = np.tile([0.0, 0.0, 1.0, 0.0, 1.0, 1.0], len(a)) * SIDE_V1 * 0.9 + 0.05 * SIDE_V1
        uvs.append(np.column_stack([u, v]))
    vertices = np.concatenate(verts)
    return Mesh(
        vertices,
        np.concatenate(normals),
        np.concatenate(uvs),
        np.arange(len(vertices), dtype=np.int32),
    )
