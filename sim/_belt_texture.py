"""Procedural belt texture: fabric weave, fine noise, mottling, wear streaks and stains.

The texture is laid out in belt coordinates (columns along the travel direction, rows
across, left edge first) at ``texel_mm``; it repeats along the belt (its length is one
period, so every filter wraps along the columns) and has rows of conveyor frame on both
sides of the belt.
"""

from __future__ import annotations

import math

import cv2
import numpy as np

BELT_GREY = 78.0
FRAME_GREY = 122.0
#: width of conveyor frame shown beside the belt (mm)
FRAME_MM = 120.0


def _wrap_blur(img: np.ndarray, sigma: float) -> np.ndarray:
    """Gaussian blur that wraps along columns (the belt's travel) and replicates across."""
    pad = int(math.ceil(3 * sigma)) + 1
    ext = np.concatenate([img[:, -pad:], img, img[:, :pad]], axis=1)
    out = cv2.GaussianBlur(ext, (0, 0), sigma, borderType=cv2.BORDER_REPLICATE)
    return out[:, pad:-pad]


def _wrap_upsample(img: np.ndarray, factor: int, shape: tuple[int, int]) -> np.ndarray:
    """Enlarge ``img`` by ``factor`` (bicubic), wrapping along columns; cropped to ``shape``."""
    ext = np.concatenate([img[:, -2:], img, img[:, :2]], axis=1)
    big = cv2.resize(
        ext, (ext.shape[1] * factor, ext.shape[0] * factor), interpolation=cv2.INTER_CUBIC
    )
    return big[: shape[0], 2 * factor : 2 * factor + shape[1]]


def belt_texture(
    rng: np.random.Generator, length_mm: float, width_mm: float, texel_mm: float = 0.5
) -> tuple[np.ndarray, int]:
    """Texture (rows across, columns along) as uint8, and the number of frame rows on each
    side of the belt."""
    n_u = int(round(length_mm / texel_mm))
    n_belt = int(round(width_mm / texel_mm))
    margin = int(round(FRAME_MM / texel_mm))
    n_v = n_belt + 2 * margin
    f32 = np.float32
    tex = np.full((n_v, n_u), BELT_GREY, dtype=f32)
    # fine fibre noise and a twill weave (~1.6 mm pitch)
    tex += _wrap_blur(rng.standard_normal((n_v, n_u), dtype=f32) * 9.0, 0.6)
    u = np.arange(n_u, dtype=f32) * texel_mm
    v = np.arange(n_v, dtype=f32)[:, None] * texel_mm
    pitch = 1.6
    k_u = round(length_mm / pitch) / length_mm  # whole periods along the belt
    tex += 4.0 * np.sin(2 * np.pi * (k_u * u[None, :] + v / pitch)).astype(f32)
    tex += 2.5 * np.sin(2 * np.pi * (k_u * u[None, :] - v / pitch)).astype(f32)
    # mottling (a coarse noise, blurred and enlarged) and wear streaks along the travel
    tex += (
        _wrap_upsample(
            _wrap_blur(rng.standard_normal((n_v // 32 + 1, n_u // 32), dtype=f32), 1.0),
            32,
            (n_v, n_u),
        )
        * 14.0
    )
    streaks = _wrap_blur(rng.standard_normal((n_v, 64), dtype=f32), 1.5 / texel_mm)
    tex += cv2.resize(streaks, (n_u, n_v), interpolation=cv2.INTER_LINEAR) * 9.0
    # stains: soft ellipses, mostly darker (oil, paint), some lighter (dust, dried lacquer)
    stains = np.zeros((n_v, n_u), dtype=f32)
    for _ in range(int(rng.integers(8, 16))):
        cu = rng.uniform(0, n_u)
        cv = rng.uniform(margin, margin + n_belt)
        axes = (rng.uniform(4, 45) / texel_mm, rng.uniform(3, 25) / texel_mm)
        level = float(rng.choice([-1.0, 1.0], p=[0.7, 0.3]) * rng.uniform(8, 30))
        angle = float(rng.uniform(0, 180))
        for shift in (-n_u, 0, n_u):
            cv2.ellipse(
                stains,
                (int(cu + shift), int(cv)),
                (max(1, int(axes[0])), max(1, int(axes[1]))),
                angle,
                0,
                360,
                level,
                -1,
                cv2.LINE_AA,
            )
    tex += _wrap_blur(stains, 2.0 / texel_mm)
    # conveyor frame on both sides, with a dark gap at the belt edges
    frame = FRAME_GREY + _wrap_blur(rng.standard_normal((margin, n_u), dtype=f32) * 5.0, 1.0)
    tex[:margin] = frame
    tex[-margin:] = frame[::-1]
    gap = max(1, int(round(4.0 / texel_mm)))
    tex[margin - gap : margin] = 35.0
    tex[margin + n_belt : margin + n_belt + gap] = 35.0
    return np.clip(tex, 0, 255).astype(np.uint8), margin
