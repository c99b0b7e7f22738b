"""The part feed: which part comes next, its real size, damage and placement error.

Part ``i`` of a cell is drawn from its own random stream ``(seed, stream, i)``, so any part
can be re-created alone and a fault that changes part 7 changes nothing else. In order:

1. what it is: the expected spec (the feed's sequence, repeated), or with ``p_wrong_part``
   another spec (``wrong_parts``, else another spec of the sequence);
2. its size: width and length each within +-``size_variation_mm`` (scaled about the centre
   of the outline's bounding box);
3. with ``p_damaged`` (expected parts only): a missing corner (a triangle off a convex
   corner, legs 15-45 mm) or a notch (10-40 mm wide, 4-15 mm deep) in the outer edge;
4. its placement: dx, dy (world axes, mm) and dtheta (deg) from the nominal pose, normal
   with the feed's standard deviations, clipped at 3 sigma;
5. its grey level (``albedo``).
"""

from __future__ import annotations

import math
from dataclasses import dataclass, field
from functools import lru_cache

import numpy as np
from shapely import affinity
from shapely.geometry import Polygon
from shapely.geometry.polygon import orient

from recipes.parts.panel import PanelPart
from sim.faults import PartOverrides
from sim.frames import PlanarPose
from sim.scene import PartView

LABELS = ("ok", "wrong_part", "damaged")


@lru_cache(maxsize=64)
def panel(spec: str) -> PanelPart:
    """The nominal panel of a part spec (cached)."""
    from recipes.parts.loader import load_part

    part, _ = load_part(spec)
    if not isinstance(part, PanelPart):
        raise TypeError(f"{spec} is not a panel")
    return part


def bbox_centre(polygon: Polygon) -> tuple[float, float]:
    xmin, ymin, xmax, ymax = polygon.bounds
    return (0.5 * (xmin + xmax), 0.5 * (ymin + ymax))


@dataclass(frozen=True)
class FedPart:
    """One part as it arrives on the belt.

    Attributes
    ----------
    index : int
        Position in the cell's feed.
    expected_spec, spec : str
        What the job expects, and what came.
    part : PanelPart
        The real geometry (size variation, damage).
    label : "ok", "wrong_part" or "damaged".
    damage : dict or None
        ``kind`` ("corner" or "notch") and its size and place (part frame, mm).
    reference_xy_mm : (x, y)
        Centre of the bounding box of the undamaged outline (part frame): the point whose
        pose is reported.
    offset : (dx_mm, dy_mm, dtheta_deg)
        Placement error from the nominal pose (world axes).
    albedo : float
    """

    index: int
    expected_spec: str
    spec: str
    part: PanelPart
    label: str
    damage: dict | None
    reference_xy_mm: tuple[float, float]
    offset: tuple[float, float, float]
    albedo: float
    faults: tuple = field(default=(), compare=False)

    @property
    def name(self) -> str:
        return self.part.name

    def pose(self, nominal: PlanarPose) -> PlanarPose:
        """Where the reference point really is when the part should be at ``nominal``."""
        return nominal.moved(*self.offset)

    def T_world_part(self, nominal: PlanarPose) -> np.ndarray:
        return self.pose(nominal).T_world_part(self.reference_xy_mm)

    def view(self, nominal: PlanarPose) -> PartView:
        return PartView(self.part, self.T_world_part(nominal), self.albedo, self.reference_xy_mm)


class PartFeed:
    """The parts a cell's feed delivers (see the module docstring).

    Parameters
    ----------
    spec : sim.world.FeedSpec
    seed : int
        The world's seed.
    stream : int
        Separates cells (their index) and other users of the same feed.
    """

    def __init__(self, spec, seed: int, stream: int = 0) -> None:
        self.spec = spec
        self.seed = int(seed)
        self.stream = int(stream)

    def expected(self, index: int) -> str:
        return self.spec.sequence[index % len(self.spec.sequence)]

    def part(self, index: int, overrides: PartOverrides | None = None) -> FedPart:
        spec = self.spec
        rng = np.random.default_rng([self.seed, self.stream, int(index)])
        expected = self.expected(index)
        u = rng.random()
        label = "ok"
        came = expected
        wrong_choice = rng.random()
        if u < spec.p_wrong_part:
            came, label = self._wrong(expected, wrong_choice), "wrong_part"
        elif u < spec.p_wrong_part + spec.p_damaged:
            label = "damaged"
        if overrides is not None and overrides.wrong_spec is not None:
            came = overrides.wrong_spec
            label = "ok" if came == expected else "wrong_part"
        nominal = panel(came)
        dw, dh = rng.uniform(-1.0, 1.0, size=2) * spec.size_variation_mm
        part = _resized(nominal, dw, dh)
        reference = bbox_centre(part.outline)
        damage_draw = rng.random(6)
        damage = None
        if label == "damaged":
            part, damage = _damaged(part, damage_draw)
        sd = np.array([spec.pose_noise.xy_mm, spec.pose_noise.xy_mm, spec.pose_noise.theta_deg])
        offset = np.clip(rng.standard_normal(3), -3.0, 3.0) * sd
        if overrides is not None and overrides.misplace is not None:
            offset = offset + np.asarray(overrides.misplace)
        albedo = float(rng.uniform(*spec.albedo))
        return FedPart(
            index=int(index),
            expected_spec=expected,
            spec=came,
            part=part,
            label=label,
            damage=damage,
            reference_xy_mm=reference,
            offset=(float(offset[0]), float(offset[1]), float(offset[2])),
            albedo=albedo,
            faults=overrides.faults if overrides is not None else (),
        )

    def _wrong(self, expected: str, draw: float) -> str:
        choices = [s for s in self.spec.wrong_parts if s != expected]
        if not choices:
            choices = sorted({s for s in self.spec.sequence if s != expected})
        return choices[min(int(draw * len(choices)), len(choices) - 1)]


def _resized(part: PanelPart, dw_mm: float, dh_mm: float) -> PanelPart:
    if dw_mm == 0 and dh_mm == 0:
        return part
    xmin, ymin, xmax, ymax = part.outline.bounds
    sx = (xmax - xmin + dw_mm) / (xmax - xmin)
    sy = (ymax - ymin + dh_mm) / (ymax - ymin)
    outline = affinity.scale(part.outline, sx, sy, origin=bbox_centre(part.outline))
    params = dict(part.params, size_delta_mm=[round(float(dw_mm), 4), round(float(dh_mm), 4)])
    return PanelPart.create(part.name, outline, part.thickness_mm, "sim:feed", params)


def _damaged(part: PanelPart, draw: np.ndarray) -> tuple[PanelPart, dict]:
    """A missing corner (when the outline has a convex corner and the draw says so) or a
    notch in the outer edge."""
    ring = np.asarray(orient(part.outline.simplify(0.5), 1.0).exterior.coords)[:-1]
    prev, nxt = np.roll(ring, 1, axis=0), np.roll(ring, -1, axis=0)
    e_in, e_out = ring - prev, nxt - ring
    turn = (e_in[:, 0] * e_out[:, 1] - e_in[:, 1] * e_out[:, 0]) / np.maximum(
        np.linalg.norm(e_in, axis=1) * np.linalg.norm(e_out, axis=1), 1e-12
    )
    corners = np.flatnonzero(turn > math.sin(math.radians(30)))  # convex, sharper than 150 deg
    if len(corners) and draw[0] < 0.5:
        i = corners[min(int(draw[1] * len(corners)), len(corners) - 1)]
        v = ring[i]
        to_prev, to_next = prev[i] - v, nxt[i] - v
        len_p, len_n = np.linalg.norm(to_prev), np.linalg.norm(to_next)
        a = min(15.0 + 30.0 * draw[2], 0.4 * len_p)
        b = min(15.0 + 30.0 * draw[3], 0.4 * len_n)
        d1, d2 = to_prev / len_p, to_next / len_n
        cut = Polygon([v + d1 * a, v - (d1 + d2) * 5.0, v + d2 * b])
        info = dict(kind="corner", at_mm=_r(v), legs_mm=[round(float(a), 3), round(float(b), 3)])
    else:
        exterior = part.outline.exterior
        s = draw[4] * exterior.length
        p = np.asarray(exterior.interpolate(s).coords[0])
        q = np.asarray(exterior.interpolate(min(s + 1.0, exterior.length)).coords[0])
        if np.allclose(p, q):
            q = np.asarray(exterior.interpolate(s - 1.0).coords[0])
            p, q = q, p
        t = (q - p) / np.linalg.norm(q - p)
        inward = np.array([-t[1], t[0]])  # exterior is counter-clockwise
        width = 10.0 + 30.0 * draw[5]
        depth = 4.0 + 11.0 * draw[2]
        cut = Polygon(
            [
                p - t * width / 2 - inward * 2.0,
                p + t * width / 2 - inward * 2.0,
                p + t * width / 2 + inward * depth,
                p - t * width / 2 + inward * depth,
            ]
        )
        info = dict(
            kind="notch",
            at_mm=_r(p),
            width_mm=round(float(width), 3),
            depth_mm=round(float(depth), 3),
        )
    outline = part.outline.difference(cut)
    if outline.geom_type != "Polygon":
        outline = max(outline.geoms, key=lambda g: g.area)
    damaged = PanelPart.create(
        part.name, outline, part.thickness_mm, part.source, dict(part.params, damage=info)
    )
    return damaged, info


def _r(p: np.ndarray) -> list[float]:
    return [round(float(p[0]), 3), round(float(p[1]), 3)]
