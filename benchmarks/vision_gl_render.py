"""The independent renderer: PyBullet's TinyRenderer draws the belt and the solid parts.

One PyBullet client (DIRECT, no GUI) holds a textured belt (a quad, moved along its travel
between frames) and the parts of the frame (extruded meshes with their cut-outs and
damage, textured, tinted). A frame is, in the pinhole geometry of
:func:`benchmarks.vision_gl_camera.pixel_maps`:

1. TinyRenderer's picture: texture x tint x (ambient + diffuse x n.l), with its light
   pointing at the key lamp, so that side faces facing away from it are darker; with its
   depth buffer and its segmentation (which body each pixel shows);
2. shadows of the key lamp by shadow mapping, also with TinyRenderer: the parts drawn
   from the lamp's place (depth only), every belt pixel's world point (from the camera's
   depth buffer) looked up in that map over a disc as wide as the lamp's penumbra
   (percentage-closer filtering), which dims the lamp's share of the light;
3. the light falling off across the belt from lamps at finite places (cosine over the
   squared distance, summed), as a smooth field;
4. highlights of a lamp beside the camera mirrored in glossy top faces (a Phong lobe
   around the mirror direction of each pixel's view ray).

The result is linear radiance (float, about 0..1); the camera's optics and sensor come
after (:mod:`benchmarks.vision_gl_sensor`).
"""

from __future__ import annotations

import math
import tempfile
from dataclasses import dataclass
from pathlib import Path

import cv2
import numpy as np
import pybullet as pb
from shapely.geometry import Polygon

from benchmarks.vision_gl_camera import (
    PixelMaps,
    Rig,
    gl_list,
    gl_projection,
    gl_view,
    linear_depth,
    look_at,
)
from benchmarks.vision_gl_parts import extrude
from benchmarks.vision_gl_textures import belt_texture, part_texture

#: belt quad half sizes along and across the travel (mm) and its texel size
BELT_HALF_MM = (900.0, 650.0)
BELT_TEXEL_MM = 0.5
#: part texture: texels across the top region, and the span it covers (mm)
PART_TEXELS = 1400
PART_SPAN_MM = 760.0
#: light map of the shadow pass (px) and the depth offset against self-shadowing (mm)
_LIGHT_PX = 1024
_SHADOW_BIAS_MM = 1.5
_PCF_SAMPLES = 16


@dataclass(frozen=True)
class Belt:
    """family : texture family; variant : which texture of it; colour : RGB tint (0..1);
    shift_mm : travel of the belt since the texture was laid; flipped : turned end for end."""

    family: str
    variant: int
    colour: tuple[float, float, float]
    shift_mm: float
    flipped: bool


@dataclass(frozen=True)
class PlacedPart:
    """A part on the belt: ``outline`` (part frame, centred on its reference point, mm) at
    ``(x_mm, y_mm, theta_deg)``, its finish, tint (RGB 0..1), gloss (0: matt) and which
    texture of its finish it wears."""

    outline: Polygon
    thickness_mm: float
    x_mm: float
    y_mm: float
    theta_deg: float
    finish: str
    raw_edges: bool
    colour: tuple[float, float, float]
    gloss: float
    shininess: float
    texture_variant: int


@dataclass(frozen=True)
class Lighting:
    """key_mm : (3,) key lamp (shading and shadows); key_size_mm : its diameter;
    ambient : share of the light not from the key lamp (TinyRenderer's ambient);
    lamps : ((position (3,), weight), ...) the lamps whose fall-off shapes the field;
    field_strength : 0 (flat) .. 1 (the lamps alone); spec_lamp_mm : (3,) lamp mirrored
    in glossy tops."""

    key_mm: tuple[float, float, float]
    key_size_mm: float
    ambient: float
    lamps: tuple[tuple[tuple[float, float, float], float], ...]
    field_strength: float
    spec_lamp_mm: tuple[float, float, float]


@dataclass(frozen=True)
class Radiance:
    """image : (Hr, Wr, 3) float32 linear radiance in the pinhole render; segment : (Hr,
    Wr) int, 0 belt, k > 0 the k-th part."""

    image: np.ndarray
    segment: np.ndarray


class TinyScene:
    """A PyBullet client drawing frames for the independent image set (close it after)."""

    def __init__(self, seed: int, workdir: Path | None = None) -> None:
        self._tmp = tempfile.TemporaryDirectory(prefix="vision_gl_") if workdir is None else None
        self.workdir = Path(self._tmp.name) if self._tmp else workdir
        self.seed = seed
        self.client = pb.connect(pb.DIRECT)
        self._belts: dict[tuple[str, int], int] = {}
        self._belt_body: int | None = None
        self._part_tex: dict[tuple[str, bool, int], int] = {}

    def close(self) -> None:
        if self.client >= 0:
            pb.disconnect(self.client)
            self.client = -1
        if self._tmp is not None:
            self._tmp.cleanup()

    def __enter__(self) -> TinyScene:
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()

    # --- assets ---------------------------------------------------------------------------
    def _texture(self, image: np.ndarray, name: str) -> int:
        path = self.workdir / f"{name}.png"
        cv2.imwrite(str(path), image[:, :, ::-1], [cv2.IMWRITE_PNG_COMPRESSION, 0])
        return pb.loadTexture(str(path), physicsClientId=self.client)

    def _belt_texture(self, family: str, variant: int) -> int:
        key = (family, variant)
        if key not in self._belts:
            rng = np.random.default_rng([self.seed, 77, len(family), variant, ord(family[0])])
            shape = (
                int(2 * BELT_HALF_MM[1] / BELT_TEXEL_MM),
                int(2 * BELT_HALF_MM[0] / BELT_TEXEL_MM),
            )
            image = belt_texture(family, rng, shape, BELT_TEXEL_MM)
            self._belts[key] = self._texture(image, f"belt_{family}_{variant}")
        return self._belts[key]

    def _part_texture(self, finish: str, raw_edges: bool, variant: int) -> int:
        key = (finish, raw_edges, variant)
        if key not in self._part_tex:
            rng = np.random.default_rng([self.seed, 91, len(finish), int(raw_edges), variant])
            image = part_texture(finish, rng, PART_TEXELS, PART_SPAN_MM, raw_edges)
            self._part_tex[key] = self._texture(image, f"part_{finish}_{int(raw_edges)}_{variant}")
        return self._part_tex[key]

    def _place_belt(self, rig: Rig, belt: Belt) -> int:
        if self._belt_body is None:
            hx, hy = BELT_HALF_MM
            vs = pb.createVisualShape(
                pb.GEOM_MESH,
                vertices=[[-hx, -hy, 0.0], [hx, -hy, 0.0], [hx, hy, 0.0], [-hx, hy, 0.0]],
                indices=[0, 1, 2, 0, 2, 3],
                uvs=[[0.0, 0.0], [1.0, 0.0], [1.0, 1.0], [0.0, 1.0]],
                normals=[[0.0, 0.0, 1.0]] * 4,
                physicsClientId=self.client,
            )
            self._belt_body = pb.createMultiBody(
                baseVisualShapeIndex=vs, physicsClientId=self.client
            )
        view = rig.view_xy_mm
        yaw = math.pi if belt.flipped else 0.0
        pb.resetBasePositionAndOrientation(
            self._belt_body,
            [float(view[0] + belt.shift_mm), float(view[1]), 0.0],
            pb.getQuaternionFromEuler([0.0, 0.0, yaw]),
            physicsClientId=self.client,
        )
        pb.changeVisualShape(
            self._belt_body,
            -1,
            textureUniqueId=self._belt_texture(belt.family, belt.variant),
            rgbaColor=[*_hue(belt.colour), 1.0],
            physicsClientId=self.client,
        )
        return self._belt_body

    def _add_part(self, part: PlacedPart) -> int:
        mesh = extrude(part.outline, part.thickness_mm, PART_SPAN_MM)
        vs = pb.createVisualShape(
            pb.GEOM_MESH,
            vertices=mesh.vertices.tolist(),
            indices=mesh.indices.tolist(),
            uvs=mesh.uvs.tolist(),
            normals=mesh.normals.tolist(),
            physicsClientId=self.client,
        )
        body = pb.createMultiBody(
            baseVisualShapeIndex=vs,
            basePosition=[part.x_mm, part.y_mm, 0.0],
            baseOrientation=pb.getQuaternionFromEuler([0.0, 0.0, math.radians(part.theta_deg)]),
            physicsClientId=self.client,
        )
        pb.changeVisualShape(
            body,
            -1,
            textureUniqueId=self._part_texture(part.finish, part.raw_edges, part.texture_variant),
            rgbaColor=[*_hue(part.colour), 1.0],
            physicsClientId=self.client,
        )
        return body

    # --- one frame --------------------------------------------------------------------------
    def render(
        self,
        rig: Rig,
        maps: PixelMaps,
        belt: Belt,
        parts: list[PlacedPart],
        light: Lighting,
    ) -> Radiance:
        belt_body = self._place_belt(rig, belt)
        bodies = [self._add_part(p) for p in parts]
        try:
            return self._draw(rig, maps, belt_body, belt.colour, bodies, parts, light)
        finally:
            for b in bodies:
                pb.removeBody(b, physicsClientId=self.client)

    def _draw(
        self, rig, maps: PixelMaps, belt_body: int, belt_colour, bodies, parts, light: Lighting
    ):
        C = rig.centre_mm
        height = float(C[2])
        near, far = 0.25 * height, 4.0 * height
        centre = _scene_centre(rig, parts)
        key = np.asarray(light.key_mm, dtype=float)
        to_key = key - np.append(centre, 0.0)
        to_key /= np.linalg.norm(to_key)
        kd = 1.0 - light.ambient
        out = pb.getCameraImage(
            maps.width,
            maps.height,
            viewMatrix=gl_list(gl_view(rig.T_world_camera)),
            projectionMatrix=gl_list(
                gl_projection(maps.K_render, maps.width, maps.height, near, far)
            ),
            renderer=pb.ER_TINY_RENDERER,
            lightDirection=to_key.tolist(),
            lightColor=[1.0, 1.0, 1.0],
            lightAmbientCoeff=light.ambient,
            lightDiffuseCoeff=kd,
            lightSpecularCoeff=0.0,
            shadow=0,
            physicsClientId=self.client,
        )
        Hr, Wr = maps.height, maps.width
        rgb = np.asarray(out[2], dtype=np.uint8).reshape(Hr, Wr, 4)[:, :, :3]
        seg_raw = np.asarray(out[4]).reshape(Hr, Wr)
        segment = np.full((Hr, Wr), -1, dtype=np.int32)
        segment[seg_raw == belt_body] = 0
        for k, b in enumerate(bodies, start=1):
            segment[seg_raw == b] = k
        # TinyRenderer writes 8 bits: it draws every tint at full strength (see _hue) and
        # the strength is applied here, in floating point
        gain = np.zeros(len(parts) + 1, dtype=np.float32)
        gain[0] = max(belt_colour)
        gain[1:] = [max(p.colour) for p in parts]
        radiance = (
            rgb.astype(np.float32) * (gain[np.maximum(segment, 0)] / np.float32(255.0))[..., None]
        )
        rays = _Rays(rig, maps)
        if parts:
            vis = self._key_visibility(rig, rays, belt_body, parts, light, segment == 0)
            lz = max(float(to_key[2]), 0.0)
            dim = (light.ambient + kd * lz * vis) / (light.ambient + kd * lz)
            radiance *= dim[..., None]
        radiance *= _lamp_field(light, rays, C)[..., None]
        glossy = [k for k, part in enumerate(parts, start=1) if part.gloss > 0]
        if glossy:
            depth = linear_depth(np.asarray(out[3], dtype=np.float32).reshape(Hr, Wr), near, far)
            z = np.float32(C[2]) + depth * rays.along_z()
            for k in glossy:
                part = parts[k - 1]
                top = (segment == k) & (z > part.thickness_mm - 1.0)
                lobe = _phong_field(rays, C, light.spec_lamp_mm, part.thickness_mm, part.shininess)
                radiance[top] += (np.float32(part.gloss) * lobe[top])[:, None]
        return Radiance(radiance, segment)

    def _key_visibility(self, rig, rays: _Rays, belt_body, parts, light, on_belt) -> np.ndarray:
        """(Hr, Wr) share of the key lamp seen from each belt pixel (1 elsewhere): the
        parts drawn from the lamp (depth only), belt points looked up in that map over the
        lamp's penumbra (percentage-closer filtering)."""
        centre = np.append(_scene_centre(rig, parts), 0.0)
        key = np.asarray(light.key_mm, dtype=float)
        dist = float(np.linalg.norm(key - centre))
        spread = max(abs(p.x_mm - centre[0]) + abs(p.y_mm - centre[1]) for p in parts)
        thick = max(p.thickness_mm for p in parts)
        reach = max(_radius(p) for p in parts) + spread + 3.0 * thick + 20.0
        f = 0.5 * _LIGHT_PX * dist / reach
        c = _LIGHT_PX / 2 - 0.5
        K = np.array([[f, 0.0, c], [0.0, f, c], [0.0, 0.0, 1.0]])
        side = np.cross(centre - key, [0.0, 0.0, 1.0])
        if np.linalg.norm(side) < 1e-6 * dist:
            side = np.array([1.0, 0.0, 0.0])
        T = look_at(key, centre, side)
        near, far = 0.3 * dist, 2.0 * dist
        tint = pb.getVisualShapeData(belt_body, physicsClientId=self.client)[0][7]
        pb.changeVisualShape(belt_body, -1, rgbaColor=[*tint[:3], 0.0], physicsClientId=self.client)
        try:
            out = pb.getCameraImage(
                _LIGHT_PX,
                _LIGHT_PX,
                viewMatrix=gl_list(gl_view(T)),
                projectionMatrix=gl_list(gl_projection(K, _LIGHT_PX, _LIGHT_PX, near, far)),
                renderer=pb.ER_TINY_RENDERER,
                flags=pb.ER_NO_SEGMENTATION_MASK,
                physicsClientId=self.client,
            )
        finally:
            pb.changeVisualShape(belt_body, -1, rgbaColor=list(tint), physicsClientId=self.client)
        occluder = linear_depth(
            np.asarray(out[3], dtype=np.float32).reshape(_LIGHT_PX, _LIGHT_PX), near, far
        )
        # belt points of the rows and columns that can see a shadow
        r0, r1, c0, c1 = rays.box_around(centre[:2], reach)
        vis = np.ones(on_belt.shape, dtype=np.float32)
        if r1 <= r0 or c1 <= c0:
            return vis
        X, Y = rays.on_belt(r0, r1, c0, c1)
        R_cw = T[:3, :3].T.astype(np.float32)
        dx, dy, dz = X - np.float32(key[0]), Y - np.float32(key[1]), np.float32(-key[2])
        cam = [R_cw[i, 0] * dx + R_cw[i, 1] * dy + R_cw[i, 2] * dz for i in range(3)]
        u = np.float32(K[0, 0]) * cam[0] / cam[2] + np.float32(K[0, 2])
        v = np.float32(K[1, 1]) * cam[1] / cam[2] + np.float32(K[1, 2])
        receiver = cam[2] - np.float32(_SHADOW_BIAS_MM)
        # penumbra of an occluder at the parts' height, in light-map pixels
        penumbra_mm = light.key_size_mm * thick / max(dist - thick, 1.0)
        radius_px = max(0.5 * penumbra_mm * f / dist, 1.0)
        golden = math.pi * (3.0 - math.sqrt(5.0))
        k = np.arange(_PCF_SAMPLES) + 0.5
        ring = np.sqrt(k / _PCF_SAMPLES) * radius_px
        lit = np.zeros(u.shape, dtype=np.float32)
        for ox, oy in zip(ring * np.cos(golden * k), ring * np.sin(golden * k), strict=True):
            d = cv2.remap(
                occluder,
                u + np.float32(ox),
                v + np.float32(oy),
                cv2.INTER_NEAREST,
                borderMode=cv2.BORDER_CONSTANT,
                borderValue=float(far),
            )
            lit += d >= receiver
        block = vis[r0:r1, c0:c1]
        belt = on_belt[r0:r1, c0:c1]
        block[belt] = lit[belt] / _PCF_SAMPLES
        return vis


class _Rays:
    """The render's pixel rays in the world (pinhole ``K_render``, the rig's pose)."""

    def __init__(self, rig: Rig, maps: PixelMaps) -> None:
        self.C = rig.centre_mm.astype(np.float64)
        Kinv = np.linalg.inv(maps.K_render)
        #: d(u, v) = M @ (u, v, 1): world direction of pixel (u, v)
        self.M = rig.T_world_camera[:3, :3] @ Kinv
        self.shape = (maps.height, maps.width)

    def _grid(self, r0: int, r1: int, c0: int, c1: int, step: int = 1):
        u = np.arange(c0, c1, step, dtype=np.float32)[None, :]
        v = np.arange(r0, r1, step, dtype=np.float32)[:, None]
        M = self.M.astype(np.float32)
        return [(M[i, 1] * v + M[i, 2]) + M[i, 0] * u for i in range(3)]

    def along_z(self) -> np.ndarray:
        """(Hr, Wr) world z of each ray per unit of view depth."""
        return self._grid(0, self.shape[0], 0, self.shape[1])[2]

    def on_belt(self, r0: int, r1: int, c0: int, c1: int, step: int = 1):
        """World x, y where the rays of a block of pixels meet the belt (z = 0)."""
        d = self._grid(r0, r1, c0, c1, step)
        t = np.float32(-self.C[2]) / d[2]
        return np.float32(self.C[0]) + t * d[0], np.float32(self.C[1]) + t * d[1]

    def pixel_of(self, xyz: np.ndarray) -> np.ndarray:
        """(N, 2) render pixel coordinates of world points (N, 3)."""
        h = np.linalg.solve(self.M, (np.asarray(xyz, dtype=float) - self.C).T).T
        return h[:, :2] / h[:, 2:3]

    def box_around(self, centre_xy: np.ndarray, reach_mm: float) -> tuple[int, int, int, int]:
        """Rows and columns (r0, r1, c0, c1) of the belt square +-``reach_mm`` about
        ``centre_xy``, clipped to the render."""
        cx, cy = centre_xy
        corners = np.array(
            [[cx + sx * reach_mm, cy + sy * reach_mm, 0.0] for sx in (-1, 1) for sy in (-1, 1)]
        )
        uv = self.pixel_of(corners)
        H, W = self.shape
        c0 = int(np.clip(np.floor(uv[:, 0].min()), 0, W))
        c1 = int(np.clip(np.ceil(uv[:, 0].max()) + 1, 0, W))
        r0 = int(np.clip(np.floor(uv[:, 1].min()), 0, H))
        r1 = int(np.clip(np.ceil(uv[:, 1].max()) + 1, 0, H))
        return r0, r1, c0, c1


def _hue(colour: tuple[float, float, float]) -> list[float]:
    """The tint scaled to a brightest channel of 1: drawn through 8 bits, a dark tint
    would leave a few grey levels to the texture, in visible bands."""
    top = max(max(colour), 1e-6)
    return [c / top for c in colour]


def _scene_centre(rig: Rig, parts: list[PlacedPart]) -> np.ndarray:
    if not parts:
        return rig.view_xy_mm
    return np.mean([[p.x_mm, p.y_mm] for p in parts], axis=0)


def _radius(part: PlacedPart) -> float:
    xy = np.asarray(part.outline.exterior.coords)
    return float(np.hypot(xy[:, 0], xy[:, 1]).max())


def _lamp_field(light: Lighting, rays: _Rays, camera_mm: np.ndarray) -> np.ndarray:
    """(Hr, Wr) float32 light falling on the belt from the lamps (cosine over squared
    distance, summed), 1 below the camera, mixed with a flat share (on a coarse grid: the
    field is smooth)."""
    H, W = rays.shape
    if not light.lamps or light.field_strength <= 0:
        return np.ones((H, W), dtype=np.float32)
    X, Y = rays.on_belt(0, H, 0, W, step=8)
    P = np.stack([X, Y, np.zeros_like(X)], axis=-1).astype(np.float64)
    nadir = np.array([[camera_mm[0], camera_mm[1], 0.0]])

    def irradiance(points: np.ndarray) -> np.ndarray:
        total = np.zeros(points.shape[:-1])
        for pos, weight in light.lamps:
            d = np.asarray(pos) - points
            r2 = np.sum(d * d, axis=-1)
            total += weight * np.maximum(d[..., 2], 0.0) / r2**1.5
        return total

    field = irradiance(P) / irradiance(nadir)[0]
    field = (1.0 - light.field_strength) + light.field_strength * field
    return cv2.resize(field.astype(np.float32), (W, H), interpolation=cv2.INTER_LINEAR)


def _phong_field(rays: _Rays, camera_mm, lamp_mm, height_mm: float, shininess: float):
    """(Hr, Wr) float32 Phong lobe of a lamp mirrored in a horizontal face at
    ``height_mm`` (on a coarse grid: the lobe is smooth)."""
    H, W = rays.shape
    d = rays._grid(0, H, 0, W, step=4)
    t = (height_mm - rays.C[2]) / d[2]
    P = np.stack([rays.C[i] + t * d[i] for i in range(3)], axis=-1)
    view = np.asarray(camera_mm) - P
    view /= np.linalg.norm(view, axis=-1, keepdims=True)
    mirror = view * np.array([-1.0, -1.0, 1.0])
    to_lamp = np.asarray(lamp_mm) - P
    to_lamp /= np.linalg.norm(to_lamp, axis=-1, keepdims=True)
    c = np.clip(np.sum(mirror * to_lamp, axis=-1), 0.0, 1.0) ** shininess
    return cv2.resize(c.astype(np.float32), (W, H), interpolation=cv2.INTER_LINEAR)
