"""Cameras of the independent image set: rigs, OpenGL matrices, lens distortion maps.

A rig is an OpenCV camera (``K``, ``dist``, ``T_world_camera`` in millimetres, world z up
with the belt at z = 0) looking at a belt. The independent renderer draws an undistorted
(pinhole) picture with PyBullet's TinyRenderer, at ``supersample`` times the resolution
and large enough to hold every ray of the real, distorted image; the sensor then reads it
through the distortion, ``sub x sub`` points per pixel (:func:`pixel_maps`).

OpenGL conventions handled here: the eye looks along -z with y up (OpenCV: +z, y down),
clip coordinates from a projection matrix built from ``K`` (principal point anywhere,
skew), and TinyRenderer's sampling: its pixel ``(i, j)`` (row ``j`` from the top) is the
colour at window coordinates ``(i, j + 1)`` measured from the top-left corner, so a pixel
centre at OpenCV's ``(u, v)`` needs ``x_ndc = 2 u / W - 1`` and ``y_ndc = 1 - 2 (v + 1) / H``
(checked by ``tests/edge_gateway/vision/test_independent_images.py``).

Calibration files are written in either of the two formats the edge reads: plain YAML or
OpenCV FileStorage (``cv2.FileStorage``).
"""

from __future__ import annotations

import math
from dataclasses import dataclass, field
from pathlib import Path

import cv2
import numpy as np
import yaml

#: where the project's cell camera file lives (read as data: K, dist, T_world_camera)
DEMO_CAMERA = Path(__file__).resolve().parents[1] / "sim" / "worlds" / "demo_camera.yaml"
_UNDISTORT = (cv2.TERM_CRITERIA_COUNT | cv2.TERM_CRITERIA_EPS, 60, 1e-12)
#: spacing of the exactly undistorted grid (px)
_GRID_PX = 4
#: OpenCV axes seen from OpenGL's eye frame (x right, y up, looking along -z)
_CV_TO_GL = np.diag([1.0, -1.0, -1.0])


@dataclass(frozen=True, eq=False)
class Rig:
    """One camera over the belt.

    Attributes
    ----------
    name : str
    width, height : int, image size (px).
    K : (3, 3) camera matrix; dist : (D,) OpenCV distortion coefficients.
    T_world_camera : (4, 4) camera (OpenCV axes) in the world, mm.
    file_format : "yaml" or "opencv" (how its calibration file is written).
    """

    name: str
    width: int
    height: int
    K: np.ndarray
    dist: np.ndarray
    T_world_camera: np.ndarray
    file_format: str = "yaml"
    _view: np.ndarray = field(init=False, repr=False, compare=False)

    def __post_init__(self) -> None:
        object.__setattr__(self, "_view", self._centre_ray_on_belt())

    @property
    def centre_mm(self) -> np.ndarray:
        return self.T_world_camera[:3, 3].copy()

    @property
    def view_xy_mm(self) -> np.ndarray:
        """(2,) where the principal ray meets the belt (z = 0)."""
        return self._view.copy()

    def _centre_ray_on_belt(self) -> np.ndarray:
        d = self.T_world_camera[:3, 2]
        c = self.T_world_camera[:3, 3]
        return c[:2] - d[:2] * c[2] / d[2]

    def project(self, points_world_mm: np.ndarray) -> np.ndarray:
        """(N, 2) distorted pixel coordinates of world points (N, 3) (OpenCV)."""
        R_cw = self.T_world_camera[:3, :3].T
        t = -R_cw @ self.T_world_camera[:3, 3]
        pts = np.ascontiguousarray(points_world_mm, dtype=np.float64).reshape(-1, 1, 3)
        uv, _ = cv2.projectPoints(pts, cv2.Rodrigues(R_cw)[0], t, self.K, self.dist)
        return uv.reshape(-1, 2)

    def mm_per_px(self) -> float:
        """Pixel size on the belt at the principal point (pinhole)."""
        depth = float(np.linalg.norm(self.centre_mm - np.append(self._view, 0.0)))
        return depth / math.sqrt(self.K[0, 0] * self.K[1, 1])

    def calibration(self) -> dict:
        return dict(
            width=self.width,
            height=self.height,
            K=self.K.tolist(),
            dist=self.dist.tolist(),
            T_world_camera=self.T_world_camera.tolist(),
        )

    def write_calibration(self, path: Path) -> Path:
        """The calibration file the edge reads, in this rig's format."""
        if self.file_format == "yaml":
            path.write_text(yaml.safe_dump(self.calibration(), sort_keys=False), encoding="utf-8")
            return path
        fs = cv2.FileStorage(str(path), cv2.FILE_STORAGE_WRITE | cv2.FILE_STORAGE_FORMAT_YAML)
        fs.write("width", self.width)
        fs.write("height", self.height)
        fs.write("K", self.K)
        fs.write("dist", self.dist.reshape(1, -1))
        fs.write("T_world_camera", self.T_world_camera)
        fs.release()
        return path


def look_at(eye_mm, target_mm, image_right) -> np.ndarray:
    """T_world_camera (OpenCV axes) at ``eye_mm`` looking at ``target_mm``, image x as
    close to ``image_right`` as the view allows."""
    eye = np.asarray(eye_mm, dtype=float)
    z = np.asarray(target_mm, dtype=float) - eye
    z /= np.linalg.norm(z)
    x = np.asarray(image_right, dtype=float)
    x = x - np.dot(x, z) * z
    x /= np.linalg.norm(x)
    T = np.eye(4)
    T[:3, :3] = np.column_stack([x, np.cross(z, x), z])
    T[:3, 3] = eye
    return T


def _demo_rig() -> Rig:
    data = yaml.safe_load(DEMO_CAMERA.read_text(encoding="utf-8"))
    return Rig(
        "demo",
        int(data["width"]),
        int(data["height"]),
        np.asarray(data["K"], dtype=float),
        np.asarray(data["dist"], dtype=float),
        np.asarray(data["T_world_camera"], dtype=float),
    )


def standard_rigs() -> list[Rig]:
    """The project's cell camera and three cameras of other makes and mountings (all
    1280x960, about 0.5 mm/px on the belt)."""

    def k(fx: float, fy: float, cx: float, cy: float) -> np.ndarray:
        return np.array([[fx, 0.0, cx], [0.0, fy, cy], [0.0, 0.0, 1.0]])

    turn = math.radians(3.0)
    return [
        _demo_rig(),
        # turned a quarter: image x runs across the belt; 1 m above it, 2 deg tilt along
        Rig(
            "quarter_turn",
            1280,
            960,
            k(2000.0, 2004.0, 652.3, 468.9),
            np.array([-0.12, 0.06, -0.0006, 0.0008, -0.01]),
            look_at([800.0, 300.0, 1000.0], [835.0, 300.0, 0.0], [0.0, -1.0, 0.0]),
            "opencv",
        ),
        # a short lens 0.7 m above the belt, strong barrel distortion, image upside down
        Rig(
            "wide_angle",
            1280,
            960,
            k(1400.0, 1400.0, 631.0, 489.0),
            np.array([-0.27, 0.085, 0.0003, 0.0005, -0.012]),
            look_at([-600.0, 900.0, 700.0], [-600.0, 900.0, 0.0], [-1.0, 0.0, 0.0]),
        ),
        # beside the belt, 14 deg off the vertical, rational lens model (8 coefficients)
        Rig(
            "oblique",
            1280,
            960,
            k(2150.0, 2150.0, 640.5, 470.0),
            np.array([-0.05, 0.02, 0.0002, -0.0004, 0.0, 0.2, 0.05, 0.0]),
            look_at(
                [1500.0, -1500.0 - 1050.0 * math.tan(math.radians(14.0)), 1050.0],
                [1500.0, -1500.0, 0.0],
                [math.cos(turn), math.sin(turn), 0.0],
            ),
            "opencv",
        ),
    ]


# --- OpenGL ---------------------------------------------------------------------------------
def gl_view(T_world_camera: np.ndarray) -> np.ndarray:
    """(4, 4) world -> OpenGL eye (x right, y up, looking along -z)."""
    R_cw = T_world_camera[:3, :3].T
    V = np.eye(4)
    V[:3, :3] = _CV_TO_GL @ R_cw
    V[:3, 3] = _CV_TO_GL @ (-R_cw @ T_world_camera[:3, 3])
    return V


def gl_projection(K: np.ndarray, width: int, height: int, near: float, far: float) -> np.ndarray:
    """(4, 4) OpenGL projection of the pinhole ``K`` for a ``width x height`` TinyRenderer
    image whose pixel centres land at OpenCV's integer coordinates (see the module doc)."""
    fx, sk, cx = K[0]
    fy, cy = K[1, 1], K[1, 2]
    P = np.zeros((4, 4))
    P[0] = [2.0 * fx / width, -2.0 * sk / width, 1.0 - 2.0 * cx / width, 0.0]
    P[1] = [0.0, 2.0 * fy / height, 2.0 * (cy + 1.0) / height - 1.0, 0.0]
    P[2] = [0.0, 0.0, -(far + near) / (far - near), -2.0 * far * near / (far - near)]
    P[3] = [0.0, 0.0, -1.0, 0.0]
    return P


def gl_list(M: np.ndarray) -> list[float]:
    """A 4x4 matrix as PyBullet takes it (16 floats, column-major)."""
    return [float(v) for v in np.asarray(M).T.ravel()]


def linear_depth(buffer: np.ndarray, near: float, far: float) -> np.ndarray:
    """Eye-space distance along the view axis from an OpenGL depth buffer in [0, 1]."""
    return far * near / (far - (far - near) * buffer)


# --- the picture the renderer draws, and how the sensor reads it ------------------------------
@dataclass(frozen=True)
class PixelMaps:
    """Where the sensor's sub-pixel sample points fall in the pinhole render.

    Attributes
    ----------
    K_render : (3, 3) pinhole camera of the render (same pose as the rig).
    width, height : render size (px).
    maps : list of ((H, W) float32 x, (H, W) float32 y), one per sub-pixel sample point.
    supersample : render pixels per image pixel.
    """

    K_render: np.ndarray
    width: int
    height: int
    maps: list[tuple[np.ndarray, np.ndarray]]
    supersample: int


def pixel_maps(rig: Rig, supersample: int = 2, sub: int = 2) -> PixelMaps:
    """Sample points ``sub x sub`` per image pixel (a box over the pixel's area), undone
    through the lens (OpenCV's model, iterated to 1e-12) into a pinhole render at
    ``supersample`` times the resolution that holds them all."""
    W, H = rig.width, rig.height
    offsets = (np.arange(sub) + 0.5) / sub - 0.5
    s = float(supersample)
    K0 = rig.K
    Kr = np.array(
        [
            [s * K0[0, 0], s * K0[0, 1], s * (K0[0, 2] + 0.5) - 0.5],
            [0.0, s * K0[1, 1], s * (K0[1, 2] + 0.5) - 0.5],
            [0.0, 0.0, 1.0],
        ]
    )
    # the lens is undone exactly every _GRID_PX pixels and interpolated in between (the
    # mapping is smooth: a thousandth of a pixel off at the corners of the widest lens)
    gu = np.arange(0, W + _GRID_PX, _GRID_PX, dtype=np.float64)
    gv = np.arange(0, H + _GRID_PX, _GRID_PX, dtype=np.float64)
    fine_u = np.ascontiguousarray(
        np.broadcast_to(np.arange(W, dtype=np.float32) / _GRID_PX, (H, W))
    )
    fine_v = np.ascontiguousarray(
        np.broadcast_to((np.arange(H, dtype=np.float32) / _GRID_PX)[:, None], (H, W))
    )
    uv = []
    for dy in offsets:
        for dx in offsets:
            u, v = np.meshgrid(gu + dx, gv + dy)
            pts = np.stack([u.ravel(), v.ravel()], axis=1).reshape(-1, 1, 2)
            # straight to the render's pixels (P = K_render)
            rp = cv2.undistortPoints(pts, rig.K, rig.dist, P=Kr, criteria=_UNDISTORT)
            rp = rp.reshape(len(gv), len(gu), 2).astype(np.float32)
            uv.append(
                tuple(cv2.remap(rp[..., k], fine_u, fine_v, cv2.INTER_LINEAR) for k in range(2))
            )
    lo = np.array([min(float(m[k].min()) for m in uv) for k in range(2)])
    hi = np.array([max(float(m[k].max()) for m in uv) for k in range(2)])
    shift = 2.0 - np.floor(lo)
    Kr[0, 2] += shift[0]
    Kr[1, 2] += shift[1]
    width = int(math.ceil(hi[0] + shift[0])) + 3
    height = int(math.ceil(hi[1] + shift[1])) + 3
    maps = [(mx + np.float32(shift[0]), my + np.float32(shift[1])) for mx, my in uv]
    return PixelMaps(Kr, width, height, maps, supersample)
