"""Camera renderer: panels on a textured belt, in true perspective with lens distortion.

numpy and OpenCV only (no GPU). A frame is built in this order:

1. the belt: a procedural texture in belt coordinates (:mod:`sim._belt_texture`), looked up
   for every pixel through the exact ray-plane intersection of its (distorted) ray with the
   belt surface z = 0, shifted by the belt's travel;
2. soft shadows: each part's outline moved away from the light by ``z_top / tan(elevation)``,
   filled, blurred and multiplied into the belt;
3. the parts: every face that looks at the camera (the top face with its holes, the side
   faces and hole walls in front), projected through K, the distortion and the pose with
   densified edges, then composited with exact anti-aliasing (:mod:`sim._raster`);
4. lighting: ambient x a linear gradient across the belt x vignetting;
5. lens blur (Gaussian), sensor noise (Gaussian, growing as the square root of the signal),
   quantisation to 8 bits.

Ground truth (part pose, world outline, projected outline, visibility) comes with every
frame and on request from :meth:`CameraRenderer.truth`.
"""

from __future__ import annotations

import math
from collections.abc import Sequence
from dataclasses import dataclass

import cv2
import numpy as np
import shapely
from shapely.geometry import Polygon, box

from sim._belt_texture import belt_texture
from sim._raster import coverage
from sim.camera import CameraCalibration
from sim.frames import BeltFrame, PlanarPose, apply
from sim.scene import Frame, Lighting, PartTruth, PartView

#: longest polygon edge before projection, so distorted edges stay curved (mm)
EDGE_STEP_MM = 8.0
#: spacing of the exact ray-plane grid that the per-pixel belt maps are interpolated from
_MAP_STEP_PX = 8
#: texture period along the belt (mm) and texel size
_TEXTURE_PERIOD_MM = 1024.0
_TEXEL_MM = 0.5
#: uniform belt grey when the texture is switched off
FLAT_BELT_GREY = 80.0
#: shadows are drawn and blurred at this fraction of the image resolution
_SHADOW_SCALE = 4


@dataclass(frozen=True)
class _Projected:
    rings_px_top: list[np.ndarray]
    rings_px_bottom: list[np.ndarray]
    rings_world_top: list[np.ndarray]
    normals_world: list[np.ndarray]


class CameraRenderer:
    """Renders frames of one calibrated camera over one belt.

    Parameters
    ----------
    calibration : CameraCalibration
    belt : BeltFrame, optional
        Where the belt runs; default: along world x through the origin, 1 m wide.
    texture_seed : int
        Seed of the belt texture (fixed for a renderer).
    texture : bool
        False gives a uniform belt (for measurements).
    """

    def __init__(
        self,
        calibration: CameraCalibration,
        belt: BeltFrame | None = None,
        *,
        texture_seed: int = 0,
        texture: bool = True,
    ) -> None:
        self.calibration = calibration
        self.belt = belt or BeltFrame()
        self._camera_centre = calibration.centre_mm
        W, H = calibration.width, calibration.height
        X, Y = self._plane_maps(calibration)
        valid = np.isfinite(X) & np.isfinite(Y)
        # lighting basis: world offsets from the view centre, normalised to the view radius
        view = calibration.view_point_mm()
        dx = np.where(valid, X - view[0], 0.0)
        dy = np.where(valid, Y - view[1], 0.0)
        radius = max(float(np.sqrt(dx * dx + dy * dy).max()), 1.0)
        self._xn = (dx / radius).astype(np.float32)
        self._yn = (dy / radius).astype(np.float32)
        u = (np.arange(W, dtype=np.float32) - (W - 1) / 2.0) / (W / 2.0)
        v = (np.arange(H, dtype=np.float32) - (H - 1) / 2.0) / (H / 2.0)
        self._r2 = ((u[None, :] ** 2 + v[:, None] ** 2) / 2.0).astype(np.float32)
        self._gain_key: tuple | None = None
        self._gain: np.ndarray | None = None
        self._mm_per_px = calibration.mm_per_px()
        self._texture: np.ndarray | None = None
        if texture:
            rng = np.random.default_rng(texture_seed)
            tex, margin = belt_texture(rng, _TEXTURE_PERIOD_MM, self.belt.width_mm, _TEXEL_MM)
            sl = self.belt.to_belt(np.column_stack([X.ravel(), Y.ravel()]))
            s = sl[:, 0].reshape(H, W)
            lat = sl[:, 1].reshape(H, W)
            period = tex.shape[1]
            tu = np.where(valid, s / _TEXEL_MM, 0.0)
            tu -= math.floor(tu.min() / period) * period
            tv = margin + (0.5 * self.belt.width_mm - lat) / _TEXEL_MM
            tv = np.where(valid, np.clip(tv, 0, tex.shape[0] - 1), 0.0)
            # the texture repeated far enough that no shift of the belt needs wrapping
            reach = int(math.ceil(tu.max())) + period + 2
            self._texture = np.ascontiguousarray(tex[:, np.arange(reach) % period])
            self._period = period
            self._tu = tu.astype(np.float32)
            self._tv = tv.astype(np.float32)

    # --- precomputation -------------------------------------------------------------------
    @staticmethod
    def _plane_maps(cal: CameraCalibration) -> tuple[np.ndarray, np.ndarray]:
        """World x, y (H, W) where each pixel's ray meets the belt plane (NaN if never):
        exact on a coarse grid, bilinear in between."""
        step = _MAP_STEP_PX
        us = np.arange(0, cal.width - 1 + step, step, dtype=float)
        vs = np.arange(0, cal.height - 1 + step, step, dtype=float)
        gu, gv = np.meshgrid(us, vs)
        P = cal.pixel_to_plane(np.column_stack([gu.ravel(), gv.ravel()]), 0.0)
        mx = np.broadcast_to(np.arange(cal.width, dtype=np.float32) / step, (cal.height, cal.width))
        my = np.broadcast_to(
            (np.arange(cal.height, dtype=np.float32) / step)[:, None], (cal.height, cal.width)
        )
        out = []
        for k in (0, 1):
            coarse = P[:, k].reshape(gu.shape).astype(np.float32)
            out.append(
                cv2.remap(
                    coarse,
                    np.ascontiguousarray(mx),
                    np.ascontiguousarray(my),
                    cv2.INTER_LINEAR,
                    borderMode=cv2.BORDER_REPLICATE,
                ).astype(float)
            )
        return out[0], out[1]

    def _lighting_gain(self, light: Lighting) -> np.ndarray:
        key = (
            light.ambient,
            light.gradient_strength,
            light.gradient_direction_deg,
            light.vignetting,
        )
        if key != self._gain_key:
            a = math.radians(light.gradient_direction_deg)
            g = light.gradient_strength
            gain = self._xn * np.float32(g * math.cos(a)) + self._yn * np.float32(g * math.sin(a))
            gain += 1.0
            if light.vignetting:
                gain *= 1.0 - np.float32(light.vignetting) * self._r2
            gain *= np.float32(light.ambient)
            self._gain_key, self._gain = key, gain
        return self._gain  # type: ignore[return-value]

    # --- geometry ---------------------------------------------------------------------------
    def _project(self, view: PartView) -> _Projected | None:
        part, T = view.part, view.T_world_part
        rings = _rings(shapely.segmentize(part.outline, EDGE_STEP_MM))
        t = part.thickness_mm
        tops, bottoms, normals = [], [], []
        for ring in rings:
            n = len(ring)
            tops.append(apply(T, np.column_stack([ring, np.full(n, t)])))
            bottoms.append(apply(T, np.column_stack([ring, np.zeros(n)])))
            edge = np.roll(ring, -1, axis=0) - ring
            nrm = np.column_stack([edge[:, 1], -edge[:, 0], np.zeros(n)])
            nrm /= np.maximum(np.linalg.norm(nrm, axis=1, keepdims=True), 1e-12)
            normals.append(nrm @ T[:3, :3].T)
        pts = np.concatenate(tops + bottoms)
        if (self.calibration.to_camera(pts)[:, 2] < 1.0).any():
            return None
        px = self.calibration.project(pts)
        sizes = [len(r) for r in rings]
        splits = np.cumsum(sizes * 2)[:-1]
        chunks = np.split(px, splits)
        k = len(rings)
        return _Projected(chunks[:k], chunks[k:], tops, normals)

    def truth(
        self, views: Sequence[PartView], _projected: Sequence[_Projected | None] | None = None
    ) -> tuple[PartTruth, ...]:
        """Ground truth of parts without rendering them."""
        out = []
        W, H = self.calibration.width, self.calibration.height
        image_box = box(-0.5, -0.5, W - 0.5, H - 0.5)
        for i, view in enumerate(views):
            proj = self._project(view) if _projected is None else _projected[i]
            T = view.T_world_part
            rings = _rings(view.part.outline)
            world = [apply(T, np.column_stack([r, np.zeros(len(r))]))[:, :2] for r in rings]
            if proj is None:
                visibility, fraction, outline_px = "none", 0.0, np.zeros((0, 2))
            else:
                sil = shapely.union(
                    Polygon(proj.rings_px_top[0]).buffer(0),
                    Polygon(proj.rings_px_bottom[0]).buffer(0),
                )
                area = sil.area
                fraction = sil.intersection(image_box).area / area if area > 0 else 0.0
                visibility = (
                    "full" if fraction > 1 - 1e-9 else ("none" if fraction <= 0 else "partial")
                )
                outline_px = proj.rings_px_top[0]
            out.append(
                PartTruth(
                    name=view.part.name,
                    pose=PlanarPose.of(T, view.reference),
                    outline_world_mm=world[0],
                    holes_world_mm=tuple(world[1:]),
                    thickness_mm=view.part.thickness_mm,
                    outline_px=outline_px,
                    visibility=visibility,
                    visible_fraction=float(fraction),
                )
            )
        return tuple(out)

    # --- rendering --------------------------------------------------------------------------
    def render(
        self,
        parts: Sequence[PartView] = (),
        *,
        lighting: Lighting | None = None,
        noise_std: float = 0.0,
        blur_sigma_px: float = 0.0,
        belt_offset_mm: float = 0.0,
        rng: np.random.Generator | int | None = None,
    ) -> Frame:
        """One mono8 frame with the ground truth of ``parts``.

        ``noise_std`` is the sensor noise at mid grey (grey levels); ``belt_offset_mm`` how
        far the belt has travelled (moves the texture); ``rng`` seeds the sensor noise.
        """
        lighting = lighting or Lighting()
        cal = self.calibration
        H, W = cal.height, cal.width
        if self._texture is not None:
            # texture point s lies at s + offset: look up (s - offset) mod period >= 0
            shift = np.float32(self._period - (belt_offset_mm / _TEXEL_MM) % self._period)
            img = cv2.remap(
                self._texture,
                self._tu + shift,
                self._tv,
                cv2.INTER_LINEAR,
                borderMode=cv2.BORDER_REPLICATE,
            ).astype(np.float32)
        else:
            img = np.full((H, W), FLAT_BELT_GREY, dtype=np.float32)
        projected = [self._project(v) for v in parts]
        light_dir = np.array(
            [
                math.cos(math.radians(lighting.gradient_direction_deg)),
                math.sin(math.radians(lighting.gradient_direction_deg)),
            ]
        )
        if lighting.shadow_strength > 0:
            for view in parts:
                self._shadow(img, view, lighting, light_dir)
        for view, proj in zip(parts, projected, strict=True):
            if proj is not None:
                self._composite(img, view, proj, light_dir)
        img *= self._lighting_gain(lighting)
        if blur_sigma_px > 0:
            img = cv2.GaussianBlur(img, (0, 0), blur_sigma_px)
        if noise_std > 0:
            gen = rng if isinstance(rng, np.random.Generator) else np.random.default_rng(rng)
            # OpenCV's generator is 4x faster than numpy's here; seeded from ``gen`` (it is
            # thread-local, so frames rendered in one thread are reproducible)
            cv2.setRNGSeed(int(gen.integers(1, 2**31 - 1)))
            noise = np.empty((H, W), dtype=np.float32)
            cv2.randn(noise, 0.0, 1.0)
            scale = np.sqrt(np.maximum(img, 0.0))
            scale *= np.float32(noise_std / math.sqrt(128.0))
            noise *= scale
            img += noise
        img += 0.5
        np.clip(img, 0.0, 255.0, out=img)
        return Frame(img.astype(np.uint8), self.truth(parts, projected))

    def _roi(self, pts: np.ndarray, pad: int) -> tuple[int, int, int, int] | None:
        W, H = self.calibration.width, self.calibration.height
        c0 = max(int(math.floor(pts[:, 0].min())) - pad, 0)
        r0 = max(int(math.floor(pts[:, 1].min())) - pad, 0)
        c1 = min(int(math.ceil(pts[:, 0].max())) + pad + 1, W)
        r1 = min(int(math.ceil(pts[:, 1].max())) + pad + 1, H)
        if c1 <= c0 or r1 <= r0:
            return None
        return c0, r0, c1, r1

    def _shadow(
        self, img: np.ndarray, view: PartView, light: Lighting, light_dir: np.ndarray
    ) -> None:
        part, T = view.part, view.T_world_part
        z_top = float(T[2, 3]) + part.thickness_mm
        if z_top <= 0:
            return
        reach = z_top / math.tan(math.radians(max(light.light_elevation_deg, 5.0)))
        offset = np.array([-light_dir[0] * reach, -light_dir[1] * reach])
        world = []
        for ring in _rings(shapely.segmentize(part.outline, EDGE_STEP_MM)):
            w = apply(T, np.column_stack([ring, np.full(len(ring), part.thickness_mm)]))
            w[:, :2] += offset
            w[:, 2] = 0.0
            world.append(w)
        pts = np.concatenate(world)
        if (self.calibration.to_camera(pts)[:, 2] < 1.0).any():
            return
        px = self.calibration.project(pts)
        sigma = max(light.shadow_softness_mm / self._mm_per_px, 0.5)
        roi = self._roi(px, int(math.ceil(3 * sigma)) + 1)
        if roi is None:
            return
        c0, r0, c1, r1 = roi
        # a soft shadow has no detail finer than its blur: drawn and blurred at 1/4 scale
        f = _SHADOW_SCALE
        h, w = (r1 - r0 + f - 1) // f + 1, (c1 - c0 + f - 1) // f + 1
        mask = np.zeros((h, w), dtype=np.float32)
        shift = 4
        polys = [
            np.round(((p - [c0, r0] + 0.5) / f - 0.5) * (1 << shift)).astype(np.int32)
            for p in np.split(px, np.cumsum([len(w) for w in world])[:-1])
        ]
        cv2.fillPoly(mask, polys, 1.0, cv2.LINE_AA, shift)
        mask = cv2.GaussianBlur(mask, (0, 0), max(sigma / f, 0.5))
        soft = cv2.resize(mask, (w * f, h * f), interpolation=cv2.INTER_LINEAR)
        soft = soft[: r1 - r0, : c1 - c0]
        soft *= np.float32(-light.shadow_strength)
        soft += 1.0
        img[r0:r1, c0:c1] *= soft

    def _composite(
        self, img: np.ndarray, view: PartView, proj: _Projected, light_dir: np.ndarray
    ) -> None:
        centre = self._camera_centre
        polys: list[list[np.ndarray]] = [proj.rings_px_top]
        shades = [view.albedo]
        for top_px, bot_px, top_w, nrm in zip(
            proj.rings_px_top,
            proj.rings_px_bottom,
            proj.rings_world_top,
            proj.normals_world,
            strict=True,
        ):
            nxt = np.roll(np.arange(len(top_px)), -1)
            facing = np.einsum("ij,ij->i", nrm, centre - top_w) > 0
            if view.side_factor is None:
                lit = 0.6 + 0.25 * (nrm[:, :2] @ light_dir)
            else:
                lit = np.full(len(nrm), view.side_factor)
            for i in np.flatnonzero(facing):
                j = nxt[i]
                polys.append([np.array([top_px[i], top_px[j], bot_px[j], bot_px[i]])])
                shades.append(view.albedo * float(lit[i]))
        pts = np.concatenate(proj.rings_px_top + proj.rings_px_bottom)
        roi = self._roi(pts, 2)
        if roi is None:
            return
        c0, r0, c1, r1 = roi
        alpha, shaded = coverage(polys, (r1 - r0, c1 - c0), (c0, r0), np.array(shades))
        over = alpha > 1.0
        if over.any():  # faces of a non-convex outline that overlap in the image
            shaded[over] /= alpha[over]
            alpha[over] = 1.0
        np.clip(alpha, 0.0, 1.0, out=alpha)
        sub = img[r0:r1, c0:c1]
        sub *= 1.0 - alpha
        sub += shaded


def _rings(polygon: Polygon) -> list[np.ndarray]:
    """(K, 2) rings of a polygon without the closing point: exterior first, then holes."""
    return [np.asarray(polygon.exterior.coords)[:-1]] + [
        np.asarray(r.coords)[:-1] for r in polygon.interiors
    ]
