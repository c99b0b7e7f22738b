"""Camera calibration as the edge reads it: OpenCV conventions, millimetres, belt at z = 0.

The file is the one the simulator and the factory's calibration tool write (YAML)::

    width: 1280
    height: 960
    K: [[fx, 0, cx], [0, fy, cy], [0, 0, 1]]          # pixels
    dist: [k1, k2, p1, p2, k3]                        # OpenCV (4, 5, 8, 12 or 14 values)
    T_world_camera: [[...], [...], [...], [0, 0, 0, 1]]   # 4x4, camera in the world, mm

World z is up with the belt surface at z = 0; the camera frame is OpenCV's (x right, y
down, z along the optical axis); pixel centres are at integer coordinates. Matrices may be
nested lists, ``{rows, cols, data}`` mappings, or an OpenCV FileStorage file
(``%YAML:1.0`` with ``!!opencv-matrix``).

**Decision:** this reader is not shared with ``sim.camera``, which reads the same format:
the edge may not import the simulator (``docs/vision.md``), and the domain core has no
OpenCV. Both are checked against the same files in the tests.
"""

from __future__ import annotations

import math
from pathlib import Path
from typing import Any

import cv2
import numpy as np
import yaml

from recipes.errors import InvalidInputError

_FIELDS = ("width", "height", "K", "dist", "T_world_camera")
#: distortion vector lengths OpenCV accepts
_DIST_LENGTHS = (4, 5, 8, 12, 14)
_ORTHO_TOL = 1e-6
_UNDISTORT_CRITERIA = (cv2.TERM_CRITERIA_COUNT | cv2.TERM_CRITERIA_EPS, 20, 1e-10)


class _Loader(yaml.SafeLoader):
    """Safe YAML that also reads OpenCV FileStorage's ``!!opencv-matrix`` mappings."""


def _opencv_matrix(loader: yaml.SafeLoader, node: yaml.Node) -> dict:
    return loader.construct_mapping(node, deep=True)  # type: ignore[arg-type]


_Loader.add_constructor("tag:yaml.org,2002:opencv-matrix", _opencv_matrix)


def _matrix(value: Any, field: str, source: str | None) -> np.ndarray:
    """A float array from nested lists or an OpenCV ``{rows, cols, data}`` mapping."""
    if isinstance(value, dict) and "data" in value:
        data, rows, cols = value.get("data"), value.get("rows"), value.get("cols")
        try:
            value = np.asarray(data, dtype=float).reshape(int(rows), int(cols))
        except (TypeError, ValueError):
            raise InvalidInputError(
                field, f"rows x cols ({rows} x {cols}) does not fit the data", source=source
            ) from None
    try:
        arr = np.asarray(value, dtype=float)
    except (TypeError, ValueError):
        raise InvalidInputError(field, "expected an array of numbers", source=source) from None
    if not np.all(np.isfinite(arr)):
        raise InvalidInputError(field, "contains a non-finite value", source=source)
    return arr


class CameraModel:
    """Intrinsics, lens distortion and pose of one calibrated camera.

    Attributes
    ----------
    width, height : int
        Image size in pixels.
    K : (3, 3) ndarray
        Camera matrix.
    dist : (D,) ndarray
        OpenCV distortion coefficients (k1, k2, p1, p2[, k3[, ...]]).
    T_world_camera : (4, 4) ndarray
        Camera frame in the world frame, millimetres.
    """

    __slots__ = (
        "K",
        "T_world_camera",
        "_R_wc",
        "_centre",
        "_rvec",
        "_tvec",
        "dist",
        "height",
        "width",
    )

    def __init__(
        self, width: int, height: int, K: np.ndarray, dist: np.ndarray, T_world_camera: np.ndarray
    ) -> None:
        self.width, self.height = int(width), int(height)
        self.K = np.asarray(K, dtype=float)
        self.dist = np.asarray(dist, dtype=float)
        self.T_world_camera = np.asarray(T_world_camera, dtype=float)
        self._R_wc = self.T_world_camera[:3, :3].copy()
        self._centre = self.T_world_camera[:3, 3].copy()
        R_cw = self._R_wc.T
        self._rvec = cv2.Rodrigues(R_cw)[0]
        self._tvec = (-R_cw @ self._centre).reshape(3, 1)

    # --- reading ----------------------------------------------------------------------------
    @classmethod
    def from_dict(cls, data: Any, *, source: str | None = None) -> CameraModel:
        """Validate a calibration mapping; errors name the field (and ``source``)."""
        if not isinstance(data, dict):
            raise InvalidInputError("(root)", "expected a mapping", source=source)
        for key in _FIELDS:
            if key not in data:
                raise InvalidInputError(key, "is required", source=source)
        size = {}
        for key in ("width", "height"):
            value = data[key]
            if isinstance(value, bool) or not isinstance(value, int) or value <= 0:
                raise InvalidInputError(
                    key, f"must be a positive integer, got {value!r}", source=source
                )
            size[key] = value
        K = _matrix(data["K"], "K", source)
        if K.shape != (3, 3):
            raise InvalidInputError("K", f"expected shape (3, 3), got {K.shape}", source=source)
        if np.abs(K[2] - [0.0, 0.0, 1.0]).max() > 1e-9 or K[1, 0] != 0.0:
            raise InvalidInputError(
                "K", "must be [[fx, s, cx], [0, fy, cy], [0, 0, 1]]", source=source
            )
        det = float(np.linalg.det(K))
        if not (K[0, 0] > 0 and K[1, 1] > 0 and abs(det) > 1e-9):
            raise InvalidInputError(
                "K",
                f"singular (fx = {K[0, 0]:g}, fy = {K[1, 1]:g}, det = {det:g}): "
                "focal lengths must be > 0",
                source=source,
            )
        dist = _matrix(data["dist"], "dist", source).ravel()
        if dist.size not in _DIST_LENGTHS:
            raise InvalidInputError(
                "dist",
                f"expected {', '.join(map(str, _DIST_LENGTHS))} coefficients "
                f"(k1, k2, p1, p2, k3, ...), got {dist.size}",
                source=source,
            )
        T = _matrix(data["T_world_camera"], "T_world_camera", source)
        if T.shape != (4, 4):
            raise InvalidInputError(
                "T_world_camera", f"expected shape (4, 4), got {T.shape}", source=source
            )
        _check_rigid(T, source)
        return cls(size["width"], size["height"], K, dist, T)

    @classmethod
    def load(cls, path: str | Path) -> CameraModel:
        """Read a calibration file; raises :class:`InvalidInputError` naming the field."""
        path = Path(path)
        try:
            text = path.read_text(encoding="utf-8")
        except (OSError, UnicodeDecodeError) as exc:
            reason = getattr(exc, "strerror", None) or str(exc)
            raise InvalidInputError("path", f"cannot read: {reason}", source=str(path)) from None
        if text.startswith("%YAML:"):  # OpenCV FileStorage header, not valid YAML 1.1
            text = text.split("\n", 1)[1] if "\n" in text else ""
        try:
            data = yaml.load(text, Loader=_Loader)  # noqa: S506 - a SafeLoader subclass
        except yaml.YAMLError as exc:
            raise InvalidInputError("(root)", f"not YAML: {exc}", source=str(path)) from None
        return cls.from_dict(data, source=str(path))

    # --- geometry ---------------------------------------------------------------------------
    @property
    def centre_mm(self) -> np.ndarray:
        """(3,) camera centre in the world."""
        return self._centre.copy()

    def project(self, points_world_mm: np.ndarray) -> np.ndarray:
        """(N, 2) pixel coordinates (with distortion) of world points (N, 3) in front of the
        camera (OpenCV's model; numpy for up to 8 coefficients, OpenCV beyond)."""
        pts = np.asarray(points_world_mm, dtype=np.float64).reshape(-1, 3)
        if len(pts) == 0:
            return np.zeros((0, 2))
        if self.dist.size > 8:
            uv, _ = cv2.projectPoints(
                np.ascontiguousarray(pts).reshape(-1, 1, 3),
                self._rvec,
                self._tvec,
                self.K,
                self.dist,
            )
            return uv.reshape(-1, 2)
        cam = (pts - self._centre) @ self._R_wc
        x = cam[:, 0] / cam[:, 2]
        y = cam[:, 1] / cam[:, 2]
        d = self.dist
        k1, k2, p1, p2 = d[0], d[1], d[2], d[3]
        k3 = d[4] if d.size > 4 else 0.0
        r2 = x * x + y * y
        radial = 1.0 + r2 * (k1 + r2 * (k2 + r2 * k3))
        if d.size == 8:
            radial /= 1.0 + r2 * (d[5] + r2 * (d[6] + r2 * d[7]))
        xy = x * y
        xd = x * radial + 2.0 * p1 * xy + p2 * (r2 + 2.0 * x * x)
        yd = y * radial + p1 * (r2 + 2.0 * y * y) + 2.0 * p2 * xy
        K = self.K
        out = np.empty((len(pts), 2))
        out[:, 0] = K[0, 0] * xd + K[0, 1] * yd + K[0, 2]
        out[:, 1] = K[1, 1] * yd + K[1, 2]
        return out

    def depth_mm(self, points_world_mm: np.ndarray) -> np.ndarray:
        """(N,) distance of world points along the optical axis (> 0: in front)."""
        d = np.asarray(points_world_mm, dtype=float) - self._centre
        return d @ self._R_wc[:, 2]

    def rays(self, uv: np.ndarray) -> np.ndarray:
        """(N, 3) ray directions in the world (not normalised) through pixels ``uv`` (N, 2)."""
        pts = np.ascontiguousarray(uv, dtype=np.float64).reshape(-1, 1, 2)
        if len(pts) == 0:
            return np.zeros((0, 3))
        xy = cv2.undistortPoints(pts, self.K, self.dist, criteria=_UNDISTORT_CRITERIA)
        xy = xy.reshape(-1, 2)
        R = self._R_wc
        return xy[:, :1] * R[:, 0] + xy[:, 1:] * R[:, 1] + R[:, 2]

    def pixel_to_plane(self, uv: np.ndarray, z_mm: float | np.ndarray = 0.0) -> np.ndarray:
        """(N, 2) world xy where the rays of pixels ``uv`` (N, 2) meet the plane z = ``z_mm``
        (a number, or one per pixel); NaN where they do not."""
        return self._meet(self.rays(uv), z_mm)

    def pixel_to_planes(self, uv: np.ndarray, zs_mm: tuple[float, ...]) -> list[np.ndarray]:
        """:meth:`pixel_to_plane` for several planes, undistorting once."""
        d = self.rays(uv)
        return [self._meet(d, z) for z in zs_mm]

    def _meet(self, d: np.ndarray, z_mm: float | np.ndarray) -> np.ndarray:
        c = self._centre
        with np.errstate(divide="ignore", invalid="ignore"):
            t = (np.asarray(z_mm, dtype=float) - c[2]) / d[:, 2]
        t = np.where(t > 0, t, np.nan)
        return c[:2] + d[:, :2] * t[:, None]

    def mm_per_px(self, z_mm: float = 0.0) -> float:
        """Size of one pixel at the image centre on the plane z = ``z_mm``."""
        cx, cy = (self.width - 1) / 2.0, (self.height - 1) / 2.0
        p = self.pixel_to_plane(np.array([[cx, cy], [cx + 1.0, cy], [cx, cy + 1.0]]), z_mm)
        if not np.all(np.isfinite(p)):
            raise InvalidInputError(
                "T_world_camera", f"the camera does not look at the plane z = {z_mm:g} mm"
            )
        return float(math.sqrt(np.linalg.norm(p[1] - p[0]) * np.linalg.norm(p[2] - p[0])))


def _check_rigid(T: np.ndarray, source: str | None) -> None:
    R = T[:3, :3]
    if np.abs(T[3] - [0.0, 0.0, 0.0, 1.0]).max() > 1e-9:
        raise InvalidInputError("T_world_camera", "last row must be [0, 0, 0, 1]", source=source)
    err = float(np.abs(R @ R.T - np.eye(3)).max())
    if err > _ORTHO_TOL:
        raise InvalidInputError(
            "T_world_camera",
            f"rotation is not orthonormal (|R R^T - I| = {err:.2g})",
            source=source,
        )
    if np.linalg.det(R) < 0:
        raise InvalidInputError(
            "T_world_camera", "rotation is a reflection (det < 0)", source=source
        )
