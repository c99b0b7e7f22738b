"""The independent image set: scenes drawn at random, rendered, with their ground truth.

Image ``i`` is drawn from its own random stream ``(seed, i)``:

- the camera: one of :func:`benchmarks.vision_gl_camera.standard_rigs`;
- the job's part type (door 40 %, cut-out panel, rounded 500x350 and 420 mm disc 20 %
  each) and what lies on the belt: the expected part (ok, 60 %), another part (15 %) or
  the expected part with a chunk missing (25 %), with +-1 mm size drift on ok and damaged
  parts and +-0.3 mm on their thickness;
- the scene: one part in view (86 %), an empty belt (4 %), two parts (5 %), or one part
  shifted along the belt across the image border (5 %);
- the placement: long axis along the image's long axis, the part type's spread of
  position and heading (a single part is re-drawn until its silhouette is 6 px inside the
  image);
- the belt (texture family, tint, travel), the part's finish, tint and gloss (a part's
  luminance differs from the belt's by a factor 1.8 or more, either way; a second part in
  view is re-tinted to meet that too), the lamps, and
  the optics and sensor (:class:`benchmarks.vision_gl_sensor.Sensor`).

The ground truth is the geometry placed: each part's pose (its outline is centred on its
reference point, see :mod:`benchmarks.vision_gl_parts`), its outline in the world, its
size, and what the camera sees of its silhouette (top and bottom outline, projected with
``cv2.projectPoints``): all of it, part of it, or none (less than 5 % of its top face,
which the locator's definition of a part leaves out). The image's label follows the
locator's order: ``no_part``, ``several``, ``cut_by_border``, else the part's own label.
"""

from __future__ import annotations

import math
from dataclasses import dataclass, replace
from pathlib import Path

import numpy as np
import shapely
from shapely import affinity
from shapely.geometry import Polygon, box

from benchmarks.vision_gl_camera import PixelMaps, Rig, pixel_maps, standard_rigs
from benchmarks.vision_gl_parts import EXPECTED, damage, wrong_outline
from benchmarks.vision_gl_render import Belt, Lighting, PlacedPart, TinyScene
from benchmarks.vision_gl_sensor import Sensor, expose
from benchmarks.vision_gl_textures import BELT_FAMILIES
from benchmarks.vision_gl_truth import PartTruth, Sample

KINDS = {"door": 0.4, "cutout_panel": 0.2, "rounded": 0.2, "disc": 0.2}
SCENES = {"single": 0.86, "no_part": 0.04, "several": 0.05, "cut": 0.05}
PART_LABELS = {"ok": 0.6, "wrong_part": 0.15, "damaged": 0.25}
#: a single part's silhouette stays this far inside the image (px)
_MARGIN_PX = 6.0
#: a part with less of its top face in view than this is not seen (the locator takes
#: regions under 5 % of the expected area for debris, and says so)
MIN_SHARE_IN_VIEW = 0.05
#: luminance ratio between a part and its belt, at least
_MIN_CONTRAST = 1.8
_BELT_TINTS = [
    (0.32, 0.32, 0.32),
    (0.25, 0.45, 0.30),
    (0.20, 0.30, 0.55),
    (0.12, 0.12, 0.13),
    (0.78, 0.78, 0.76),
    (0.55, 0.45, 0.35),
]
_PART_TINTS = {
    "lacquer": [
        (0.97, 0.97, 0.95),
        (0.95, 0.90, 0.75),
        (0.60, 0.60, 0.62),
        (0.20, 0.20, 0.22),
        (0.07, 0.07, 0.08),
        (0.15, 0.25, 0.60),
        (0.70, 0.12, 0.10),
    ],
    "primer": [(0.85, 0.85, 0.85), (0.55, 0.55, 0.56), (0.75, 0.70, 0.62)],
    "mdf": [(0.78, 0.62, 0.46), (0.70, 0.55, 0.40)],
    "veneer": [(0.88, 0.72, 0.52), (0.46, 0.33, 0.22), (0.97, 0.88, 0.72)],
}
#: mean grey level of the belt and part textures (0..1)
_BELT_LEVEL = 128.0 / 255.0
_PART_LEVEL = 195.0 / 255.0


@dataclass(frozen=True)
class _Drawn:
    """A part drawn for a scene, before it is placed."""

    kind: str
    label: str
    what: str
    outline: Polygon
    thickness_mm: float
    size_mm: tuple[float, float]
    damage: dict | None
    finish: str
    tint: tuple[float, float, float]
    gloss: float
    shininess: float
    raw_edges: bool
    variant: int


def _pick(rng: np.random.Generator, shares: dict[str, float]) -> str:
    names = list(shares)
    p = np.array([shares[n] for n in names])
    return names[int(rng.choice(len(names), p=p / p.sum()))]


def _luminance(rgb) -> float:
    return float(np.dot(rgb, [0.3, 0.59, 0.11]))


class IndependentImages:
    """Draws the images of the independent set (close it, or use it as a context manager).

    Parameters
    ----------
    seed : random seed of the whole set.
    supersample : render pixels per image pixel (each way). TinyRenderer does not
        anti-alias; 2 halves its staircase but costs four times the render time, and gave
        the same figures on a trial (25 images: same verdicts, position errors within
        0.03 mm of each other).
    sub : sample points per image pixel (each way) through the lens, averaged: the pixel's
        area.
    rigs, belts : only these cameras and belt families (default: all).
    """

    def __init__(
        self,
        seed: int,
        supersample: int = 1,
        sub: int = 3,
        rigs: tuple[str, ...] | None = None,
        belts: tuple[str, ...] = BELT_FAMILIES,
    ) -> None:
        self.seed = seed
        self.rigs: dict[str, Rig] = {
            r.name: r for r in standard_rigs() if rigs is None or r.name in rigs
        }
        self.belts = belts
        self._supersample, self._sub = supersample, sub
        self._maps: dict[str, PixelMaps] = {}
        self.scene = TinyScene(seed)

    def close(self) -> None:
        self.scene.close()

    def __enter__(self) -> IndependentImages:
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()

    def settings(self) -> dict:
        """What decides the pixels besides the seed and the code."""
        return dict(
            supersample=self._supersample,
            sub=self._sub,
            rigs=list(self.rigs),
            belts=list(self.belts),
        )

    def maps(self, rig: Rig) -> PixelMaps:
        if rig.name not in self._maps:
            self._maps[rig.name] = pixel_maps(rig, self._supersample, self._sub)
        return self._maps[rig.name]

    def write_calibrations(self, folder: Path) -> dict[str, Path]:
        """Each rig's calibration file, as the edge would be given it."""
        folder.mkdir(parents=True, exist_ok=True)
        return {
            name: rig.write_calibration(folder / f"{name}.yaml") for name, rig in self.rigs.items()
        }

    # --- one image -----------------------------------------------------------------------------
    def sample(
        self,
        index: int,
        *,
        kind: str | None = None,
        scene: str | None = None,
        label: str | None = None,
    ) -> Sample:
        """Image ``index``; ``kind``, ``scene`` and the part's ``label`` may be fixed (the
        rest is drawn as usual)."""
        rng = np.random.default_rng([self.seed, index])
        rig = list(self.rigs.values())[int(rng.integers(len(self.rigs)))]
        kind = kind or _pick(rng, KINDS)
        scene = scene or _pick(rng, SCENES)
        ptype = EXPECTED[kind]
        belt_tint = _BELT_TINTS[int(rng.integers(len(_BELT_TINTS)))]
        placed: list[tuple[PlacedPart, PartTruth]] = []
        if scene != "no_part":
            main = self._draw_part(rng, kind, label or _pick(rng, PART_LABELS))
            belt_tint = self._belt_for(rng, main, belt_tint)
            if scene == "single":
                placed.append(self._place_in_view(rng, rig, main))
            elif scene == "cut":
                placed.append(self._place_across_border(rng, rig, main))
            else:
                label = "wrong_part" if rng.random() < 0.3 else _pick(rng, PART_LABELS)
                other = _visible_on(self._draw_part(rng, kind, label), belt_tint)
                placed += self._place_pair(rng, rig, main, other)
        belt = Belt(
            str(rng.choice(self.belts)),
            0,
            belt_tint,
            float(rng.uniform(-40.0, 40.0)),
            bool(rng.random() < 0.5),
        )
        light = self._draw_lighting(rng, rig)
        parts = [p for p, _ in placed]
        radiance = self.scene.render(rig, self.maps(rig), belt, parts, light)
        sensor = self._draw_sensor(rng, radiance.image)
        image = expose(radiance.image, rig, self.maps(rig), sensor, rng)
        truths = tuple(t for _, t in placed)
        visible = [t for t in truths if t.visibility != "none"]
        if not visible:
            label = "no_part"
        elif len(visible) > 1:
            label = "several"
        elif visible[0].visibility == "partial":
            label = "cut_by_border"
        else:
            label = visible[0].label
        conditions = dict(
            belt=dict(family=belt.family, tint=belt.colour),
            parts=[
                dict(finish=p.finish, tint=p.colour, gloss=round(p.gloss, 3), raw_edges=p.raw_edges)
                for p in parts
            ],
            light=dict(
                ambient=round(light.ambient, 3),
                key_elevation_deg=round(_elevation(rig, light), 1),
                key_size_mm=round(light.key_size_mm, 1),
                field_strength=round(light.field_strength, 3),
            ),
            sensor=sensor.to_dict(),
        )
        return Sample(index, image, rig.name, kind, ptype.spec, label, scene, truths, conditions)

    # --- drawing ---------------------------------------------------------------------------------
    def _draw_part(self, rng: np.random.Generator, kind: str, label: str) -> _Drawn:
        ptype = EXPECTED[kind]
        dmg = None
        if label == "wrong_part":
            what, outline = wrong_outline(kind, rng)
            thickness = ptype.thickness_mm
        else:
            what = kind
            dw, dh = rng.uniform(-1.0, 1.0, 2)
            outline = ptype.build(float(dw), float(dh))
            thickness = ptype.thickness_mm + float(rng.uniform(-0.3, 0.3))
        xmin, ymin, xmax, ymax = outline.bounds
        size = (xmax - xmin, ymax - ymin)
        if label == "damaged":
            outline, dmg = damage(outline, rng)
        finish = str(rng.choice(list(_PART_TINTS)))
        tints = _PART_TINTS[finish]
        glossy = (finish == "lacquer" and rng.random() < 0.6) or (
            finish == "veneer" and rng.random() < 0.3
        )
        return _Drawn(
            kind=kind,
            label=label,
            what=what,
            outline=outline,
            thickness_mm=thickness,
            size_mm=size,
            damage=dmg,
            finish=finish,
            tint=tints[int(rng.integers(len(tints)))],
            gloss=float(rng.uniform(0.1, 0.5)) if glossy else 0.0,
            shininess=float(rng.uniform(20.0, 300.0)),
            raw_edges=finish == "mdf" or bool(rng.random() < 0.4),
            variant=int(rng.integers(2)),
        )

    def _belt_for(self, rng: np.random.Generator, part: _Drawn, tint) -> tuple:
        """A belt tint whose luminance differs from the part's enough (either way)."""
        lum = _luminance(part.tint) * _PART_LEVEL
        for _ in range(30):
            belt = _luminance(tint) * _BELT_LEVEL
            if max(lum, belt) / max(min(lum, belt), 1e-6) >= _MIN_CONTRAST:
                return tint
            tint = _BELT_TINTS[int(rng.integers(len(_BELT_TINTS)))]
        return min(_BELT_TINTS, key=_luminance)  # a mid-grey part: the darkest belt

    @staticmethod
    def _nominal_heading(rig: Rig) -> float:
        """Parts lie with their long axis along the image's long axis."""
        x = rig.T_world_camera[:3, 0]
        return math.degrees(math.atan2(x[1], x[0]))

    def _pose(self, rng, rig: Rig, kind: str, spread: float) -> tuple[float, float, float]:
        ptype = EXPECTED[kind]
        sd = ptype.xy_sd_mm * spread
        dx, dy = np.clip(rng.normal(0.0, sd, 2), -2.5 * sd, 2.5 * sd)
        if ptype.theta_sd_deg is None:
            theta = float(rng.uniform(-180.0, 180.0))
        else:
            s = ptype.theta_sd_deg * spread
            turn = float(np.clip(rng.normal(0.0, s), -2.5 * s, 2.5 * s))
            theta = self._nominal_heading(rig) + turn
        view = rig.view_xy_mm
        return float(view[0] + dx), float(view[1] + dy), theta

    @staticmethod
    def _make(rig: Rig, d: _Drawn, x: float, y: float, theta: float):
        """The part to render, its truth, and how far inside the image it stays (px)."""
        part = PlacedPart(
            d.outline,
            d.thickness_mm,
            x,
            y,
            theta,
            d.finish,
            d.raw_edges,
            d.tint,
            d.gloss,
            d.shininess,
            d.variant,
        )
        uv = _silhouette(rig, d.outline, d.thickness_mm, x, y, theta)
        inside = _inside_px(rig, uv)
        if inside > 0:
            visibility = "full"
        else:
            share = _share_in_view(rig, d.outline, d.thickness_mm, x, y, theta)
            visibility = "partial" if share >= MIN_SHARE_IN_VIEW else "none"
        world = _world_outline(d.outline, x, y, theta)
        truth = PartTruth(
            d.what,
            d.label,
            dict(x_mm=x, y_mm=y, theta_deg=theta),
            d.size_mm,
            np.asarray(world.exterior.coords)[:-1],
            visibility,
            d.damage,
        )
        return part, truth, inside

    def _place_in_view(self, rng, rig: Rig, d: _Drawn):
        for attempt in range(30):
            x, y, theta = self._pose(rng, rig, d.kind, 1.0 if attempt < 20 else 0.3)
            part, truth, inside = self._make(rig, d, x, y, theta)
            if inside >= _MARGIN_PX:
                return part, truth
        view = rig.view_xy_mm
        return self._make(rig, d, float(view[0]), float(view[1]), self._nominal_heading(rig))[:2]

    def _place_across_border(self, rng, rig: Rig, d: _Drawn):
        """Slid along the belt until the reference point leaves the image, then back or on
        by up to 60 % of the part's half length."""
        x, y, theta = self._pose(rng, rig, d.kind, 1.0)
        sign = 1.0 if rng.random() < 0.5 else -1.0
        s = 0.0
        while s < 3000.0:
            s += 10.0
            uv = rig.project(np.array([[x + sign * s, y, d.thickness_mm]]))[0]
            if not (0 <= uv[0] <= rig.width - 1 and 0 <= uv[1] <= rig.height - 1):
                break
        s += float(rng.uniform(-0.6, 0.6)) * 0.5 * max(d.size_mm)
        return self._make(rig, d, x + sign * s, y, theta)[:2]

    def _place_pair(self, rng, rig: Rig, a: _Drawn, b: _Drawn) -> list:
        """Two parts one after the other along the belt, 20-150 mm apart (between their
        extents along the belt, each at its own heading)."""
        gap = float(rng.uniform(20.0, 150.0))
        x, y, theta = self._pose(rng, rig, a.kind, 1.0)
        _, _, theta_b = self._pose(rng, rig, a.kind, 1.0)
        a_lo, a_hi = _extent_along_x(a.outline, theta)
        b_lo, b_hi = _extent_along_x(b.outline, theta_b)
        # the pair centred on the view: a's far end and b's near end gap apart
        span = (a_hi - a_lo) + gap + (b_hi - b_lo)
        xa = x - span / 2 - a_lo
        xb = xa + a_hi + gap - b_lo
        first = self._make(rig, a, xa, y, theta)[:2]
        second = self._make(rig, b, xb, y + float(rng.uniform(-20, 20)), theta_b)
        return [first, second[:2]]

    def _draw_lighting(self, rng, rig: Rig) -> Lighting:
        view = np.append(rig.view_xy_mm, 0.0)
        el = math.radians(rng.uniform(45.0, 85.0))
        az = rng.uniform(0.0, 2 * math.pi)
        dist = rng.uniform(1500.0, 3000.0)
        key = view + dist * np.array(
            [math.cos(el) * math.cos(az), math.cos(el) * math.sin(az), math.sin(el)]
        )
        lamps = []
        for _ in range(int(rng.integers(1, 4))):
            off = rng.uniform(-1200.0, 1200.0, 2)
            lamps.append(
                (
                    (
                        float(view[0] + off[0]),
                        float(view[1] + off[1]),
                        float(rng.uniform(900.0, 2000.0)),
                    ),
                    float(rng.uniform(0.3, 1.0)),
                )
            )
        cam = rig.centre_mm
        spec = cam + np.append(rng.uniform(-400.0, 400.0, 2), rng.uniform(-50.0, 100.0))
        return Lighting(
            tuple(float(v) for v in key),
            float(rng.uniform(150.0, 600.0)),
            float(rng.uniform(0.5, 0.85)),
            tuple(lamps),
            float(rng.uniform(0.0, 0.6)),
            tuple(float(v) for v in spec),
        )

    def _draw_sensor(self, rng, radiance: np.ndarray) -> Sensor:
        bayer = str(rng.choice(["RGGB", "BGGR", "GRBG", "GBRG"])) if rng.random() < 0.6 else None
        bits = int(rng.choice([10, 12]))
        top = float(np.percentile(radiance[::4, ::4].max(axis=2), 99.0))
        tone = _pick(rng, {"linear": 0.25, "srgb": 0.3, "gamma": 0.25, "filmic": 0.2})
        return Sensor(
            exposure=float(rng.uniform(0.55, 0.95)) / max(top, 1e-3),
            defocus_px=float(rng.uniform(0.0, 1.0)),
            blur_px=float(rng.uniform(0.25, 0.7)),
            motion_px=float(rng.uniform(0.0, 3.0)),
            vignetting=float(rng.uniform(0.0, 0.35)),
            bayer=bayer,
            demosaic=str(rng.choice(["bilinear", "vng", "ea"])),
            full_well_e=float(rng.uniform(6000.0, 20000.0)),
            read_noise_e=float(rng.uniform(2.0, 12.0)),
            prnu=float(rng.uniform(0.003, 0.015)),
            hot_pixels=int(rng.integers(0, 30)),
            adc_bits=bits,
            black_level=float(rng.uniform(0.02, 0.06) * 2**bits),
            tone=tone,
            gamma=float(rng.uniform(1.8, 2.4)),
            sharpen=float(rng.uniform(0.3, 1.0)) if rng.random() < 0.4 else 0.0,
            jpeg_quality=int(rng.integers(55, 96)) if rng.random() < 0.65 else None,
        )


def _contrast(part_tint, belt_tint) -> float:
    lum = _luminance(part_tint) * _PART_LEVEL
    belt = _luminance(belt_tint) * _BELT_LEVEL
    return max(lum, belt) / max(min(lum, belt), 1e-6)


def _visible_on(part: _Drawn, belt_tint) -> _Drawn:
    """The part, or the same part in the nearest tint (its finish's first, then any
    finish's) whose luminance differs from the belt's enough."""
    if _contrast(part.tint, belt_tint) >= _MIN_CONTRAST:
        return part
    options = [(part.finish, t) for t in _PART_TINTS[part.finish]]
    options += [(f, t) for f, ts in _PART_TINTS.items() if f != part.finish for t in ts]
    for finish, tint in options:
        if _contrast(tint, belt_tint) >= _MIN_CONTRAST:
            gloss = part.gloss if finish == part.finish else 0.0
            return replace(part, finish=finish, tint=tint, gloss=gloss)
    return part


def _world_outline(outline: Polygon, x: float, y: float, theta_deg: float) -> Polygon:
    return affinity.translate(affinity.rotate(outline, theta_deg, origin=(0.0, 0.0)), x, y)


def _silhouette(rig: Rig, outline: Polygon, thickness: float, x, y, theta) -> np.ndarray:
    """(N, 2) pixels of the top and bottom exterior, every 4 mm."""
    world = _world_outline(shapely.segmentize(outline, 4.0), x, y, theta)
    xy = np.asarray(world.exterior.coords)
    n = len(xy)
    pts = np.concatenate(
        [np.column_stack([xy, np.full(n, thickness)]), np.column_stack([xy, np.zeros(n)])]
    )
    return rig.project(pts)


def _inside_px(rig: Rig, uv: np.ndarray) -> float:
    """How far (px) the silhouette ``uv`` stays inside the image (< 0: it leaves it)."""
    margins = np.concatenate(
        [uv[:, 0] + 0.5, uv[:, 1] + 0.5, rig.width - 0.5 - uv[:, 0], rig.height - 0.5 - uv[:, 1]]
    )
    return float(margins.min())


def _share_in_view(rig: Rig, outline: Polygon, thickness: float, x, y, theta) -> float:
    """Share of the top face's area (in the image) that lies inside the image."""
    world = _world_outline(shapely.segmentize(outline, 4.0), x, y, theta)
    xy = np.asarray(world.exterior.coords)
    face = Polygon(rig.project(np.column_stack([xy, np.full(len(xy), thickness)])))
    if not face.is_valid:
        face = face.buffer(0)
    if face.area <= 0:
        return 0.0
    view = box(-0.5, -0.5, rig.width - 0.5, rig.height - 0.5)
    return float(face.intersection(view).area / face.area)


def _extent_along_x(outline: Polygon, heading_deg: float) -> tuple[float, float]:
    """(min, max) x of the outline turned by ``heading_deg`` about its reference point."""
    turned = affinity.rotate(outline, heading_deg, origin=(0.0, 0.0))
    xmin, _, xmax, _ = turned.bounds
    return xmin, xmax


def _elevation(rig: Rig, light: Lighting) -> float:
    d = np.asarray(light.key_mm) - np.append(rig.view_xy_mm, 0.0)
    return math.degrees(math.atan2(d[2], math.hypot(d[0], d[1])))
