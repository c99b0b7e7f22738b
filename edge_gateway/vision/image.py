"""Camera images as the locator takes them: one 8-bit grey channel of the calibrated size."""

from __future__ import annotations

from pathlib import Path

import cv2
import numpy as np

from recipes.errors import InvalidInputError


def read_image(path: str | Path) -> np.ndarray:
    """(H, W) uint8 image from a file (PNG, JPEG, TIFF, ... as OpenCV reads them).

    Colour is turned to grey, 16-bit to 8-bit; an unreadable or empty file raises
    :class:`InvalidInputError` on the field ``image``.
    """
    path = Path(path)
    try:
        data = path.read_bytes()
    except OSError as exc:
        raise InvalidInputError("image", f"cannot read: {exc.strerror}", source=str(path)) from None
    if not data:
        raise InvalidInputError("image", "the file is empty", source=str(path))
    img = cv2.imdecode(np.frombuffer(data, dtype=np.uint8), cv2.IMREAD_UNCHANGED)
    if img is None:
        raise InvalidInputError(
            "image", "not an image OpenCV can decode (corrupt or unknown format)", source=str(path)
        )
    return as_grey(img, source=str(path))


def as_grey(image: np.ndarray, *, source: str | None = None) -> np.ndarray:
    """(H, W) uint8 view or copy of an image array (grey, BGR, BGRA; 8 or 16 bit, float in
    0..1 or 0..255)."""
    img = np.asarray(image)
    if img.ndim not in (2, 3) or img.size == 0 or min(img.shape[:2]) == 0:
        raise InvalidInputError(
            "image", f"empty or not an image (shape {img.shape})", source=source
        )
    if img.ndim == 3:
        channels = img.shape[2]
        if channels == 1:
            img = img[:, :, 0]
        elif channels in (3, 4):
            code = cv2.COLOR_BGR2GRAY if channels == 3 else cv2.COLOR_BGRA2GRAY
            img = cv2.cvtColor(np.ascontiguousarray(img), code)
        else:
            raise InvalidInputError(
                "image", f"expected 1, 3 or 4 channels, got {channels}", source=source
            )
    if img.dtype == np.uint8:
        return np.ascontiguousarray(img)
    if img.dtype == np.uint16:
        return (img >> 8).astype(np.uint8)
    if np.issubdtype(img.dtype, np.floating):
        if not np.all(np.isfinite(img)):
            raise InvalidInputError("image", "contains a non-finite value", source=source)
        scale = 255.0 if float(img.max(initial=0.0)) <= 1.0 else 1.0
        return np.clip(img * scale + 0.5, 0, 255).astype(np.uint8)
    raise InvalidInputError("image", f"unsupported pixel type {img.dtype}", source=source)
