"""Optics and sensor of the independent image set: from radiance to the 8-bit frame.

In the order light meets them:

1. the lens: each pixel integrates ``sub x sub`` points of its area, each looked up in the
   pinhole render through OpenCV's distortion model (:class:`PixelMaps`); then a defocus
   disc, a residual Gaussian and the belt's motion during the exposure (a line along the
   travel as the image shows it), in one kernel centred on the pixel (the ground truth is
   the pose at mid-exposure); natural (cos^4) and mechanical vignetting;
2. the sensor: a colour filter array (one of the four Bayer phases) or none (mono), photon
   shot noise (Poisson in electrons), pixel response non-uniformity, read noise, a few hot
   pixels, a black level and a 10 or 12-bit converter that clips;
3. the camera's processing: demosaicing (OpenCV bilinear, VNG or edge-aware), white
   balance, a tone curve (linear, sRGB, a plain gamma or a filmic shoulder), sharpening
   (unsharp mask, with its halos), 8 bits, and JPEG at some quality (chroma subsampled).
"""

from __future__ import annotations

import math
from dataclasses import dataclass

import cv2
import numpy as np

from benchmarks.vision_gl_camera import PixelMaps, Rig

#: the filter over each pixel of a 2x2 cell, per Bayer phase (row-major)
_PHASES = {"RGGB": "RGGB", "BGGR": "BGGR", "GRBG": "GRBG", "GBRG": "GBRG"}
_CHANNEL = {"R": 0, "G": 1, "B": 2}
#: relative channel sensitivities of the colour sensor (R, G, B)
_QE = np.array([0.75, 1.0, 0.65], dtype=np.float32)


@dataclass(frozen=True)
class Sensor:
    """What the camera does to the light (see the module doc). Lengths in pixels."""

    exposure: float
    defocus_px: float
    blur_px: float
    motion_px: float
    vignetting: float
    bayer: str | None
    demosaic: str
    full_well_e: float
    read_noise_e: float
    prnu: float
    hot_pixels: int
    adc_bits: int
    black_level: float
    tone: str
    gamma: float
    sharpen: float
    jpeg_quality: int | None

    def to_dict(self) -> dict:
        return {k: (round(v, 4) if isinstance(v, float) else v) for k, v in self.__dict__.items()}


def resample(radiance: np.ndarray, maps: PixelMaps) -> np.ndarray:
    """(H, W, 3) float32: each image pixel the mean of its sample points in the render."""
    acc = None
    for mx, my in maps.maps:
        s = cv2.remap(radiance, mx, my, cv2.INTER_LINEAR, borderMode=cv2.BORDER_REPLICATE)
        acc = s if acc is None else acc + s
    return acc / np.float32(len(maps.maps))


def blur_kernel(defocus_px: float, blur_px: float, motion_px: float, motion_dir) -> np.ndarray:
    """Point spread of the lens and the motion, (k, k) float32 summing to 1, centred."""
    reach = defocus_px + 3.0 * blur_px + 0.5 * motion_px + 2.0
    half = int(math.ceil(reach))
    k = 2 * half + 1
    fine = 8  # the disc and the line are drawn on a finer grid, then averaged
    g = (np.arange(k * fine) + 0.5) / fine - k / 2
    X, Y = np.meshgrid(g, g)
    if defocus_px >= 0.25:
        disc = (np.hypot(X, Y) <= defocus_px).astype(np.float64)
        disc = disc.reshape(k, fine, k, fine).sum(axis=(1, 3))
    else:
        disc = np.zeros((k, k))
        disc[half, half] = 1.0
    kernel = disc / disc.sum()
    if motion_px > 0.05:
        d = np.asarray(motion_dir, dtype=float) / np.linalg.norm(motion_dir)
        t = np.linspace(-0.5, 0.5, 64) * motion_px
        line = np.zeros((k * fine, k * fine))
        cols = np.clip(((t * d[0] + k / 2) * fine).astype(int), 0, k * fine - 1)
        rows = np.clip(((t * d[1] + k / 2) * fine).astype(int), 0, k * fine - 1)
        np.add.at(line, (rows, cols), 1.0)
        line = line.reshape(k, fine, k, fine).sum(axis=(1, 3))
        line = 0.5 * (line + line[::-1, ::-1])  # exactly centred
        kernel = cv2.filter2D(kernel, -1, line / line.sum(), borderType=cv2.BORDER_CONSTANT)
    if blur_px > 0.05:
        gk = cv2.getGaussianKernel(k, blur_px)
        kernel = cv2.filter2D(kernel, -1, gk @ gk.T, borderType=cv2.BORDER_CONSTANT)
    return (kernel / kernel.sum()).astype(np.float32)


def motion_direction(rig: Rig) -> np.ndarray:
    """(2,) the belt's travel (world +x) as the image shows it at the view point."""
    c = rig.view_xy_mm
    uv = rig.project(np.array([[c[0], c[1], 0.0], [c[0] + 10.0, c[1], 0.0]]))
    d = uv[1] - uv[0]
    return d / np.linalg.norm(d)


def vignetting(rig: Rig, strength: float) -> np.ndarray:
    """(H, W) float32 fall-off: cos^4 of the field angle times a mechanical rim."""
    H, W = rig.height, rig.width
    v, u = np.mgrid[0:H, 0:W].astype(np.float32)
    x = (u - rig.K[0, 2]) / rig.K[0, 0]
    y = (v - rig.K[1, 2]) / rig.K[1, 1]
    r2 = x * x + y * y
    natural = 1.0 / (1.0 + r2) ** 2
    rim = np.sqrt(r2 / r2.max())
    return (natural * (1.0 - strength * rim**3)).astype(np.float32)


def expose(
    radiance: np.ndarray, rig: Rig, maps: PixelMaps, sensor: Sensor, rng: np.random.Generator
) -> np.ndarray:
    """The frame the camera delivers: (H, W) uint8 (mono) or (H, W, 3) uint8 BGR."""
    light = resample(radiance, maps)
    kernel = blur_kernel(sensor.defocus_px, sensor.blur_px, sensor.motion_px, motion_direction(rig))
    light = cv2.filter2D(light, -1, kernel, borderType=cv2.BORDER_REFLECT)
    light *= vignetting(rig, sensor.vignetting)[..., None]
    H, W = light.shape[:2]
    if sensor.bayer is None:
        signal = light @ np.array([0.3, 0.59, 0.11], dtype=np.float32)
        gains = None
    else:
        pattern = _PHASES[sensor.bayer]
        signal = np.empty((H, W), dtype=np.float32)
        for k, ch in enumerate(pattern):
            r, c = divmod(k, 2)
            i = _CHANNEL[ch]
            signal[r::2, c::2] = light[r::2, c::2, i] * _QE[i]
        gains = 1.0 / _QE
    electrons = np.clip(signal * np.float32(sensor.exposure * sensor.full_well_e), 0, None)
    noisy = rng.poisson(electrons).astype(np.float32)
    prnu = 1.0 + sensor.prnu * rng.standard_normal((H, W)).astype(np.float32)
    noisy *= prnu
    noisy += np.float32(sensor.read_noise_e) * rng.standard_normal((H, W)).astype(np.float32)
    hot = rng.integers(0, H * W, sensor.hot_pixels)
    noisy.ravel()[hot] += np.float32(sensor.full_well_e) * rng.uniform(0.3, 1.0, len(hot)).astype(
        np.float32
    )
    top = 2**sensor.adc_bits - 1
    dn = np.clip(
        np.round(noisy / sensor.full_well_e * (top - sensor.black_level) + sensor.black_level),
        0,
        top,
    )
    # the camera's processing, in 0..1 above the black level
    if sensor.bayer is None:
        rgb = ((dn - sensor.black_level) / (top - sensor.black_level))[..., None]
    else:
        rgb = _demosaic(dn, sensor, top)
        rgb *= gains[::-1]  # BGR order from OpenCV
    rgb = np.clip(rgb, 0.0, 1.0)
    rgb = _tone(rgb, sensor.tone, sensor.gamma)
    if sensor.sharpen > 0:
        soft = cv2.GaussianBlur(rgb, (0, 0), 1.2)
        rgb = rgb + sensor.sharpen * (rgb - soft.reshape(rgb.shape))
    out = np.clip(rgb * 255.0 + 0.5, 0, 255).astype(np.uint8)
    if out.ndim == 3 and out.shape[2] == 1:
        out = out[:, :, 0]
    if sensor.jpeg_quality is not None:
        ok, buf = cv2.imencode(".jpg", out, [cv2.IMWRITE_JPEG_QUALITY, int(sensor.jpeg_quality)])
        if not ok:
            raise RuntimeError("JPEG encoding failed")
        out = cv2.imdecode(buf, cv2.IMREAD_UNCHANGED)
    return out


def _demosaic(dn: np.ndarray, sensor: Sensor, top: int) -> np.ndarray:
    """(H, W, 3) float32 BGR in 0..1 (above the black level) from the raw mosaic."""
    method = {"bilinear": "", "vng": "_VNG", "ea": "_EA"}[sensor.demosaic]
    code = getattr(cv2, f"COLOR_Bayer{sensor.bayer}2BGR{method}")
    if sensor.demosaic == "vng":  # OpenCV's VNG takes 8-bit mosaics only
        raw = np.clip((dn - sensor.black_level) / (top - sensor.black_level) * 255.0 + 0.5, 0, 255)
        return cv2.demosaicing(raw.astype(np.uint8), code).astype(np.float32) / 255.0
    raw = np.clip(dn - sensor.black_level, 0, None).astype(np.uint16)
    return cv2.demosaicing(raw, code).astype(np.float32) / np.float32(top - sensor.black_level)


def _tone(x: np.ndarray, tone: str, gamma: float) -> np.ndarray:
    if tone == "linear":
        return x
    if tone == "srgb":
        return np.where(x <= 0.0031308, 12.92 * x, 1.055 * np.power(x, 1 / 2.4) - 0.055)
    if tone == "gamma":
        return np.power(x, 1.0 / gamma)
    if tone == "filmic":  # a soft shoulder (Reinhard with white point 1.5), then gamma
        w2 = 1.5**2
        y = x * (1.0 + x / w2) / (1.0 + x)
        return np.power(y / (1.0 / (1.0 + 1.0) * (1.0 + 1.0 / w2)), 1.0 / gamma).clip(0, 1)
    raise ValueError(f"unknown tone curve {tone!r}")
