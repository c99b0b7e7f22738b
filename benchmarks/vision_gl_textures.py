"""Procedural textures of the independent image set: belts and part surfaces.

Belt families (none of them a weave, fibre noise, mottling or wear streaks):

- ``granular``: a rubber or cork belt of packed grains, a Voronoi tessellation (seeds, then
  OpenCV's labelled distance transform) with a grey level per grain and dark grain borders;
- ``tread``: a rubber top with raised diamonds, shaded by a light from one side (emboss);
- ``modular``: a plastic modular belt, slats across the travel with dark gaps, hinge
  slots and a level per slat;
- ``overspray``: a belt of a spray line, fractal (1/f) noise from an inverse FFT with paint
  droplets and splats of several colours on it.

``flat`` (no texture) is there for checks of the geometry.

Part surfaces: ``lacquer`` (almost uniform), ``primer`` (mottled), ``mdf`` (fine speckle),
``veneer`` (wood grain along the part, warped rings and fibres). A part texture is an atlas
(see :mod:`benchmarks.vision_gl_parts`): the top face in the upper rows, the side faces in
a band at the bottom (raw MDF or painted like the top).

All textures are RGB uint8 near a mid level; the renderer tints them with the belt's or the
part's colour.
"""

from __future__ import annotations

import math

import cv2
import numpy as np

from benchmarks.vision_gl_parts import SIDE_V1, TOP_V0

BELT_FAMILIES = ("granular", "tread", "modular", "overspray")
PART_FINISHES = ("lacquer", "primer", "mdf", "veneer")
_PAINTS = np.array(
    [[230, 230, 225], [40, 40, 45], [200, 60, 40], [50, 90, 170], [220, 190, 60], [90, 140, 80]],
    dtype=np.float32,
)


def fractal_noise(rng: np.random.Generator, shape: tuple[int, int], beta: float) -> np.ndarray:
    """(H, W) float32 noise with a 1 / f**beta amplitude spectrum, zero mean, unit std."""
    H, W = shape
    fy = np.fft.fftfreq(H)[:, None]
    fx = np.fft.rfftfreq(W)[None, :]
    f = np.sqrt(fx * fx + fy * fy)
    f[0, 0] = 1.0
    spectrum = (rng.standard_normal(f.shape) + 1j * rng.standard_normal(f.shape)) / f**beta
    spectrum[0, 0] = 0.0
    out = np.fft.irfft2(spectrum, s=shape).astype(np.float32)
    return (out - out.mean()) / (out.std() + 1e-9)


def _grey(value: np.ndarray) -> np.ndarray:
    return np.clip(np.repeat(value[..., None], 3, axis=2), 0, 255).astype(np.uint8)


def belt_texture(
    family: str, rng: np.random.Generator, shape: tuple[int, int], texel_mm: float
) -> np.ndarray:
    """(H, W, 3) uint8 belt texture, ``texel_mm`` per texel; rows across the belt."""
    H, W = shape
    if family == "flat":  # no texture (for checks of the geometry)
        return np.full((H, W, 3), 128, dtype=np.uint8)
    if family == "granular":
        cell_mm = rng.uniform(1.5, 4.0)
        n = int(H * W * texel_mm**2 / cell_mm**2)
        seeds = np.ones(shape, np.uint8)
        seeds[rng.integers(0, H, n), rng.integers(0, W, n)] = 0
        dist, labels = cv2.distanceTransformWithLabels(
            seeds, cv2.DIST_L2, 3, labelType=cv2.DIST_LABEL_CCOMP
        )
        levels = rng.normal(128.0, rng.uniform(6.0, 16.0), labels.max() + 1).astype(np.float32)
        value = levels[labels]
        border = cv2.morphologyEx(labels.astype(np.float32), cv2.MORPH_GRADIENT, np.ones((3, 3)))
        value -= np.float32(rng.uniform(10.0, 30.0)) * cv2.GaussianBlur(
            (border > 0).astype(np.float32), (0, 0), 0.7
        )
        value += 3.0 * fractal_noise(rng, shape, 1.2)
        return _grey(value)
    if family == "tread":
        pitch = rng.uniform(6.0, 14.0) / texel_mm
        y, x = np.mgrid[0:H, 0:W].astype(np.float32)
        a = np.float32(2 * math.pi / pitch)
        ridge = np.abs(np.sin(a * (x + y) / 2)) + np.abs(np.sin(a * (x - y) / 2))
        height = np.clip((ridge - 0.9) * 3.0, 0.0, 1.0)
        height = cv2.GaussianBlur(height, (0, 0), 1.0)
        gy, gx = np.gradient(height)
        light = np.float32(rng.uniform(0, 2 * math.pi))
        shade = 35.0 * (math.cos(light) * gx + math.sin(light) * gy) * pitch / 4
        value = 125.0 + 10.0 * height + shade + 4.0 * fractal_noise(rng, shape, 1.5)
        return _grey(value)
    if family == "modular":
        pitch = rng.uniform(25.0, 50.0) / texel_mm
        gap = rng.uniform(1.0, 2.2) / texel_mm
        x = np.arange(W, dtype=np.float32)
        phase = x % pitch
        slat = (x // pitch).astype(int)
        levels = rng.normal(130.0, 5.0, slat.max() + 1).astype(np.float32)
        value = np.broadcast_to(levels[slat][None, :], shape).copy()
        in_gap = np.broadcast_to((phase < gap)[None, :], shape)
        slot_pitch = rng.uniform(10.0, 20.0) / texel_mm
        y = np.arange(H, dtype=np.float32)[:, None]
        slot = ((y % slot_pitch) < 0.6 * slot_pitch) & (
            np.abs(phase[None, :] - gap / 2 - 1.5 / texel_mm) < 1.2 / texel_mm
        )
        value[in_gap] = np.float32(rng.uniform(40.0, 80.0))
        value[slot] = np.float32(rng.uniform(50.0, 90.0))
        value = cv2.GaussianBlur(value, (0, 0), 0.6)
        value += 5.0 * fractal_noise(rng, shape, 1.8) + 2.5 * rng.standard_normal(shape)
        return _grey(value)
    if family == "overspray":
        base = 128.0 + 12.0 * fractal_noise(rng, shape, rng.uniform(1.0, 1.6))
        out = _grey(base).astype(np.float32)
        per_mm2 = 1.0 / rng.uniform(15.0, 40.0)
        n = int(H * W * texel_mm**2 * per_mm2)
        for _ in range(12):  # droplets in batches of one paint each
            mask = np.zeros(shape, np.uint8)
            k = n // 12
            centres = np.column_stack([rng.uniform(0, W, k), rng.uniform(0, H, k)]) * 16
            radii = rng.uniform(0.3, 2.0, k) / texel_mm * 16
            radii[rng.random(k) < 0.002] *= 4.0  # splats
            for (cx, cy), r in zip(centres.astype(int), radii.astype(int), strict=True):
                cv2.circle(mask, (int(cx), int(cy)), int(r), 255, -1, cv2.LINE_AA, 4)
            alpha = rng.uniform(0.15, 0.6) * mask[..., None].astype(np.float32) / 255.0
            colour = _PAINTS[rng.integers(len(_PAINTS))] * rng.uniform(0.6, 1.0)
            out = out * (1.0 - alpha) + alpha * colour
        return np.clip(out, 0, 255).astype(np.uint8)
    raise ValueError(f"unknown belt family {family!r}")


def part_texture(
    finish: str, rng: np.random.Generator, width: int, top_mm: float, raw_edges: bool
) -> np.ndarray:
    """(H, W, 3) uint8 atlas for one part finish: ``width`` texels across ``top_mm``.

    The top face (rows of v in [TOP_V0, 1]) carries the finish, the side band (v in
    [0, SIDE_V1]) either the same paint or raw MDF (``raw_edges``)."""
    texel = top_mm / width
    top_rows = width
    H = int(math.ceil(top_rows / (1.0 - TOP_V0)))
    tex = np.full((H, width, 3), 200.0, dtype=np.float32)
    shape = (top_rows, width)
    if finish == "lacquer":
        top = 200.0 + 1.5 * fractal_noise(rng, shape, 2.0)
    elif finish == "primer":
        top = 200.0 + 5.0 * fractal_noise(rng, shape, 1.6)
    elif finish == "mdf":
        top = 200.0 + 4.0 * fractal_noise(rng, shape, 1.0) + 4.0 * rng.standard_normal(shape)
        top = cv2.GaussianBlur(top.astype(np.float32), (0, 0), 0.6)
    elif finish == "veneer":
        y, x = np.mgrid[0:top_rows, 0:width].astype(np.float32) * np.float32(texel)
        warp = 25.0 * fractal_noise(rng, shape, 2.2)
        pitch = rng.uniform(2.0, 7.0)
        rings = np.sin(2 * math.pi * (y + warp + 0.02 * x) / pitch)
        fibre = cv2.GaussianBlur(
            rng.standard_normal(shape).astype(np.float32), (0, 0), sigmaX=6.0, sigmaY=0.5
        )
        top = 190.0 + rng.uniform(6.0, 18.0) * rings + 6.0 * fibre
    else:
        raise ValueError(f"unknown finish {finish!r}")
    # v = 1 is the first row of the image file
    tex[:top_rows] = np.asarray(top, dtype=np.float32)[..., None]
    side_rows = int(SIDE_V1 * H)
    edge = np.array([150.0, 120.0, 90.0]) if raw_edges else np.array([190.0, 190.0, 190.0])
    tex[H - side_rows :] = edge + 6.0 * rng.standard_normal((side_rows, width, 1))
    return np.clip(tex, 0, 255).astype(np.uint8)
