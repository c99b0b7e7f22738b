"""Camera calibration (OpenCV conventions) and the projections the renderer and vision share.

Calibration file, YAML::

    width: 1280
    height: 960
    K: [[fx, 0, cx], [0, fy, cy], [0, 0, 1]]      # pixels
    dist: [k1, k2, p1, p2, k3]                    # OpenCV plumb-bob
    T_world_camera: [[...], [...], [...], [0, 0, 0, 1]]   # 4x4, millimetres

The world frame has z up with the belt surface at z = 0; the camera frame is OpenCV's
(x right, y down, z along the optical axis). Pixel coordinates put the centre of the
top-left pixel at (0, 0). Matrices may also be given as OpenCV FileStorage mappings
(``{rows, cols, data}``); they are always written as nested lists.
"""

from __future__ import annotations

import math
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import cv2
import numpy as np
import yaml

from recipes.errors import InvalidInputError

#: largest deviation of T_world_camera's rotation from orthonormal
_ORTHO_TOL = 1e-6
_UNDISTORT_CRITERIA = (cv2.TERM_CRITERIA_COUNT | cv2.TERM_CRITERIA_EPS, 100, 1e-12)


def _matrix(value: Any, shape: tuple[int, ...], field: str, source: str | None) -> np.ndarray:
    """A float array of ``shape`` from nested lists or an OpenCV ``{rows, cols, data}``."""
    if isinstance(value, dict) and "data" in value:
        data = value["data"]
        rows, cols = value.get("rows"), value.get("cols")
        try:
            value = np.asarray(data, dtype=float).reshape(int(rows), int(cols))
        except (TypeError, ValueError):
            raise InvalidInputError(
                field,
                f"rows x cols ({rows} x {cols}) does not fit {len(data)} values",
                source=source,
            ) from None
        if len(shape) == 1:
            value = value.ravel()
    try:
        arr = np.asarray(value, dtype=float)
    except (TypeError, ValueError):
        raise InvalidInputError(
            field, f"expected numbers in shape {shape}", source=source
        ) from None
    if arr.shape != shape:
        raise InvalidInputError(field, f"expected shape {shape}, got {arr.shape}", source=source)
    if not np.all(np.isfinite(arr)):
        raise InvalidInputError(field, "contains a non-finite value", source=source)
    return arr


def check_rigid(T: np.ndarray, field: str, source: str | None = None) -> np.ndarray:
    """``T`` if it is a 4x4 rigid transform (orthonormal, right-handed, last row 0 0 0 1)."""
    R = T[:3, :3]
    if np.abs(T[3] - [0.0, 0.0, 0.0, 1.0]).max() > 1e-9:
        raise InvalidInputError(field, "last row must be [0, 0, 0, 1]", source=source)
    err = float(np.abs(R @ R.T - np.eye(3)).max())
    if err > _ORTHO_TOL:
        raise InvalidInputError(
            field, f"rotation is not orthonormal (|R R^T - I| = {err:.2g})", source=source
        )
    if np.linalg.det(R) < 0:
        raise InvalidInputError(field, "rotation is a reflection (det < 0)", source=source)
    return T


@dataclass(frozen=True)
class CameraCalibration:
    """Intrinsics, lens distortion and pose of one camera.

    Attributes
    ----------
    width, height : int
        Image size in pixels.
    K : (3, 3) ndarray
        Camera matrix.
    dist : (5,) ndarray
        k1, k2, p1, p2, k3.
    T_world_camera : (4, 4) ndarray
        Camera frame in the world frame, millimetres.
    """

    width: int
    height: int
    K: np.ndarray
    dist: np.ndarray
    T_world_camera: np.ndarray

    # --- I/O -------------------------------------------------------------------------------
    @classmethod
    def from_dict(cls, data: Any, *, source: str | None = None) -> CameraCalibration:
        """Validate a calibration mapping; errors name the field (and ``source``)."""
        if not isinstance(data, dict):
            raise InvalidInputError("(root)", "expected a mapping", source=source)
        missing = [k for k in ("width", "height", "K", "dist", "T_world_camera") if k not in data]
        if missing:
            raise InvalidInputError(missing[0], "is required", source=source)
        unknown = sorted(set(data) - {"width", "height", "K", "dist", "T_world_camera"})
        if unknown:
            raise InvalidInputError(unknown[0], "unknown field", source=source)
        size = {}
        for key in ("width", "height"):
            value = data[key]
            if isinstance(value, bool) or not isinstance(value, int) or value <= 0:
                raise InvalidInputError(
                    key, f"must be a positive integer, got {value!r}", source=source
                )
            size[key] = value
        K = _matrix(data["K"], (3, 3), "K", source)
        if np.abs(K[2] - [0.0, 0.0, 1.0]).max() > 1e-12 or K[1, 0] != 0.0:
            raise InvalidInputError(
                "K", "must be [[fx, s, cx], [0, fy, cy], [0, 0, 1]]", source=source
            )
        det = float(np.linalg.det(K))
        if not abs(det) > 1e-9 or K[0, 0] <= 0 or K[1, 1] <= 0:
            raise InvalidInputError(
                "K",
                f"singular or degenerate (fx = {K[0, 0]:g}, fy = {K[1, 1]:g}, det = {det:g}): "
                "focal lengths must be > 0",
                source=source,
            )
        dist = _matrix(data["dist"], (5,), "dist", source)
        T = check_rigid(
            _matrix(data["T_world_camera"], (4, 4), "T_world_camera", source),
            "T_world_camera",
            source,
        )
        return cls(size["width"], size["height"], K, dist, T)

    @classmethod
    def load(cls, path: str | Path) -> CameraCalibration:
        path = Path(path)
        try:
            data = yaml.safe_load(path.read_text(encoding="utf-8"))
        except OSError as exc:
            raise InvalidInputError(
                "path", f"cannot read: {exc.strerror}", source=str(path)
            ) from None
        except yaml.YAMLError as exc:
            raise InvalidInputError("(root)", f"not YAML: {exc}", source=str(path)) from None
        return cls.from_dict(data, source=str(path))

    def to_dict(self) -> dict:
        return dict(
            width=self.width,
            height=self.height,
            K=self.K.tolist(),
            dist=self.dist.tolist(),
            T_world_camera=self.T_world_camera.tolist(),
        )

    def dumps(self) -> str:
        return yaml.safe_dump(self.to_dict(), sort_keys=False, default_flow_style=None)

    def save(self, path: str | Path) -> None:
        Path(path).write_text(self.dumps(), encoding="utf-8")

    # --- geometry ---------------------------------------------------------------------------
    @property
    def T_camera_world(self) -> np.ndarray:
        T = np.eye(4)
        R = self.T_world_camera[:3, :3]
        T[:3, :3] = R.T
        T[:3, 3] = -R.T @ self.T_world_camera[:3, 3]
        return T

    @property
    def centre_mm(self) -> np.ndarray:
        """(3,) camera centre in the world."""
        return self.T_world_camera[:3, 3].copy()

    def to_camera(self, points_world_mm: np.ndarray) -> np.ndarray:
        """(N, 3) world points in the camera frame."""
        T = self.T_camera_world
        return np.asarray(points_world_mm, dtype=float) @ T[:3, :3].T + T[:3, 3]

    def project(self, points_world_mm: np.ndarray) -> np.ndarray:
        """Pixel coordinates of world points, with lens distortion.

        Parameters
        ----------
        points_world_mm : (N, 3) array
            Points in front of the camera.

        Returns
        -------
        (N, 2) ndarray
        """
        pts = np.ascontiguousarray(points_world_mm, dtype=np.float64).reshape(-1, 1, 3)
        if len(pts) == 0:
            return np.zeros((0, 2))
        T = self.T_camera_world
        rvec, _ = cv2.Rodrigues(T[:3, :3])
        uv, _ = cv2.projectPoints(pts, rvec, T[:3, 3].copy(), self.K, self.dist)
        return uv.reshape(-1, 2)

    def rays(self, uv: np.ndarray) -> np.ndarray:
        """(N, 3) unit ray directions in the world for pixel coordinates ``uv`` (N, 2)."""
        pts = np.ascontiguousarray(uv, dtype=np.float64).reshape(-1, 1, 2)
        xy = cv2.undistortPoints(pts, self.K, self.dist, criteria=_UNDISTORT_CRITERIA)
        d_cam = np.concatenate([xy.reshape(-1, 2), np.ones((len(pts), 1))], axis=1)
        d = d_cam @ self.T_world_camera[:3, :3].T
        return d / np.linalg.norm(d, axis=1, keepdims=True)

    def pixel_to_plane(self, uv: np.ndarray, z_mm: float = 0.0) -> np.ndarray:
        """(N, 3) points where the pixels' rays meet the plane z = ``z_mm`` (NaN if never)."""
        d = self.rays(uv)
        c = self.centre_mm
        with np.errstate(divide="ignore", invalid="ignore"):
            t = (z_mm - c[2]) / d[:, 2]
        t = np.where(t > 0, t, np.nan)
        return c + d * t[:, None]

    def view_point_mm(self, z_mm: float = 0.0) -> np.ndarray:
        """(3,) where the ray through the image centre meets the plane z = ``z_mm``."""
        centre = np.array([[(self.width - 1) / 2.0, (self.height - 1) / 2.0]])
        p = self.pixel_to_plane(centre, z_mm)[0]
        if not np.all(np.isfinite(p)):
            raise InvalidInputError(
                "T_world_camera", f"the camera does not look at the plane z = {z_mm:g} mm"
            )
        return p

    def mm_per_px(self, z_mm: float = 0.0) -> float:
        """Size of one pixel at the image centre on the plane z = ``z_mm``."""
        cx, cy = (self.width - 1) / 2.0, (self.height - 1) / 2.0
        p = self.pixel_to_plane(np.array([[cx, cy], [cx + 1.0, cy], [cx, cy + 1.0]]), z_mm)
        return float(math.sqrt(np.linalg.norm(p[1] - p[0]) * np.linalg.norm(p[2] - p[0])))

    def in_image(self, uv: np.ndarray, margin_px: float = 0.0) -> np.ndarray:
        """(N,) bool: pixel coordinates inside the image (shrunk by ``margin_px``)."""
        u, v = uv[:, 0], uv[:, 1]
        lo = -0.5 + margin_px
        return (
            (u >= lo)
            & (v >= lo)
            & (u <= self.width - 0.5 - margin_px)
            & (v <= self.height - 0.5 - margin_px)
        )


def look_at(
    eye_mm: np.ndarray, target_mm: np.ndarray, right: np.ndarray = (1.0, 0.0, 0.0)
) -> np.ndarray:
    """T_world_camera (OpenCV camera axes) at ``eye_mm`` looking at ``target_mm``.

    The image x axis follows ``right`` as closely as the viewing direction allows.
    """
    eye = np.asarray(eye_mm, dtype=float)
    z = np.asarray(target_mm, dtype=float) - eye
    z /= np.linalg.norm(z)
    x = np.asarray(right, dtype=float) - np.dot(right, z) * z
    if np.linalg.norm(x) < 1e-9:
        raise InvalidInputError("right", "is parallel to the viewing direction")
    x /= np.linalg.norm(x)
    y = np.cross(z, x)
    T = np.eye(4)
    T[:3, :3] = np.column_stack([x, y, z])
    T[:3, 3] = eye
    return T
