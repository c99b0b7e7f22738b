"""What the runner writes down per block: short value summaries and thumbnails.

Summaries are cheap one-line texts (``uint8 (480, 640, 3)``, ``0.93``, ``Recipe door-v2``);
a value may provide its own with a ``trace_summary()`` method. Values on ``Image`` and
``ThicknessMap`` ports get a thumbnail: a strided copy of at most ``THUMBNAIL_PX`` pixels a
side as ``uint8``, encoded to PNG only when asked. The array is found as the value itself
(an ndarray), its ``thumbnail_array()`` method, its ``__array__``, or one of the attributes
``pixels``, ``image``, ``grid_um``, ``dft_um``, ``values``; a value without a 2-D array gets
no thumbnail (its summary still says what it is).
"""

from __future__ import annotations

import struct
import zlib
from dataclasses import dataclass, fields, is_dataclass

import numpy as np

THUMBNAIL_PX = 64
_ARRAY_ATTRS = ("pixels", "image", "grid_um", "dft_um", "values")


def summarize(value: object) -> str:
    """A short, deterministic description of a value (no addresses, no timings)."""
    if value is None:
        return "none"
    if isinstance(value, bool | np.bool_):
        return "true" if value else "false"
    if isinstance(value, int | float | np.number):
        return f"{value:.6g}" if isinstance(value, float | np.floating) else str(value)
    if isinstance(value, str):
        return repr(value) if len(value) <= 60 else repr(value[:57] + "...")
    if isinstance(value, np.ndarray):
        return f"{value.dtype} {tuple(value.shape)}"
    own = getattr(value, "trace_summary", None)
    if callable(own):
        return str(own())
    if isinstance(value, dict):
        keys = list(value)
        more = ", ..." if len(keys) > 5 else ""
        return "{" + ", ".join(str(k) for k in keys[:5]) + more + "}"
    if isinstance(value, list | tuple):
        return f"{type(value).__name__}[{len(value)}]"
    name = type(value).__name__
    named = [
        f"{a}={getattr(value, a)}"
        for a in ("id", "version", "name")
        if _plain(getattr(value, a, None))
    ]
    if not named and is_dataclass(value):
        named = [f"{f.name}=…" for f in fields(value)[:3]]
    return f"{name}({', '.join(named)})" if named else name


def _plain(v: object) -> bool:
    return isinstance(v, str | int) and not isinstance(v, bool) and len(str(v)) <= 40


@dataclass(frozen=True)
class Thumbnail:
    """A small picture of an image or a thickness map.

    Attributes
    ----------
    pixels : (h, w) or (h, w, 3) uint8, h and w at most ``THUMBNAIL_PX``.
    vmin, vmax : the value range mapped to 0..255 (thickness maps, non-8-bit images).
    source_shape : the shape of the full array.
    """

    pixels: np.ndarray
    vmin: float
    vmax: float
    source_shape: tuple[int, ...]

    def png(self) -> bytes:
        return encode_png(self.pixels)


def thumbnail(value: object, size: int = THUMBNAIL_PX) -> Thumbnail | None:
    arr = _as_array(value)
    if arr is None or arr.ndim not in (2, 3) or arr.shape[0] == 0 or arr.shape[1] == 0:
        return None
    if arr.ndim == 3 and arr.shape[2] not in (1, 3, 4):
        return None
    step = max(1, -(-max(arr.shape[0], arr.shape[1]) // size))
    small = np.asarray(arr[::step, ::step])
    if small.ndim == 3:
        small = small[:, :, 0] if small.shape[2] == 1 else small[:, :, :3]
    if small.dtype == np.uint8:
        return Thumbnail(np.ascontiguousarray(small), 0.0, 255.0, tuple(arr.shape))
    data = small.astype(np.float64)
    finite = np.isfinite(data)
    if not finite.any():
        return Thumbnail(np.zeros(small.shape, np.uint8), 0.0, 0.0, tuple(arr.shape))
    lo, hi = float(data[finite].min()), float(data[finite].max())
    scale = 255.0 / (hi - lo) if hi > lo else 0.0
    out = np.where(finite, (data - lo) * scale, 0.0)
    return Thumbnail(np.clip(out + 0.5, 0, 255).astype(np.uint8), lo, hi, tuple(arr.shape))


def _as_array(value: object) -> np.ndarray | None:
    if isinstance(value, np.ndarray):
        return value
    own = getattr(value, "thumbnail_array", None)
    if callable(own):
        got = own()
        return got if isinstance(got, np.ndarray) else None
    if hasattr(value, "__array__"):
        try:
            return np.asarray(value)
        except (TypeError, ValueError):
            return None
    for name in _ARRAY_ATTRS:
        got = getattr(value, name, None)
        if isinstance(got, np.ndarray):
            return got
    return None


def encode_png(pixels: np.ndarray) -> bytes:
    """PNG bytes of a (h, w) grey or (h, w, 3) RGB uint8 array (no dependency but zlib)."""
    if pixels.dtype != np.uint8 or pixels.ndim not in (2, 3):
        raise ValueError("encode_png needs a (h, w) or (h, w, 3) uint8 array")
    h, w = pixels.shape[:2]
    color = 0 if pixels.ndim == 2 else 2
    rows = np.ascontiguousarray(pixels).reshape(h, -1)
    raw = np.hstack([np.zeros((h, 1), np.uint8), rows]).tobytes()  # filter type 0 per row

    def chunk(tag: bytes, data: bytes) -> bytes:
        return (
            struct.pack(">I", len(data))
            + tag
            + data
            + struct.pack(">I", zlib.crc32(tag + data) & 0xFFFFFFFF)
        )

    header = struct.pack(">IIBBBBB", w, h, 8, color, 0, 0, 0)
    return (
        b"\x89PNG\r\n\x1a\n"
        + chunk(b"IHDR", header)
        + chunk(b"IDAT", zlib.compress(raw, 6))
        + chunk(b"IEND", b"")
    )
