"""Locate and check the parts in one camera image.

1. Coarse (1/4 resolution, :mod:`edge_gateway.vision.segment`): part and belt pixels under
   a fitted lighting field; regions big enough to be a part. Where the part class covers
   much of the image border and the outline does not fit, the other class is tried as
   the part as well, and the reading the edges bear out is kept. In colour frames, part
   pixels darker than the belt with the belt's chromaticity (shadows) go back to the belt
   (:mod:`edge_gateway.vision.chroma`).
2. Initial pose per region: its boundary back-projected onto the top-face plane (and onto
   the belt, for boundary points where a side face shows), candidate angles from the
   principal axes or the minimum-area rectangle, start positions from the centroid (and,
   for regions cut by the border, from the ends of the region), then point-to-outline ICP;
   the smallest truncated mean distance wins.
3. Refinement at full resolution, only along the expected outline
   (:mod:`edge_gateway.vision.profiles`): edges found to sub-pixel, back-projected onto
   z = thickness (top edges) or z = 0 (bottom edges below visible side faces), and a
   robust Gauss-Newton fit of position, angle and the two scales; twice with narrowing
   windows, then once with long profiles that also measure the material extent; in
   colour frames chromaticity stands in where brightness finds no edge or a shadow's, and
   shows where material ends in the part's shadow or under a highlight
   (:mod:`edge_gateway.vision.chroma_profiles`).
4. Checks (:mod:`edge_gateway.vision.checks`): cut by the image border, wrong part (size
   beyond tolerance, poor edge agreement, holes where none are expected or filled where
   they are, material beyond the outline, top face running on beyond it, an outline that
   does not fit the region), damaged (missing material along the outline over an area,
   where cut edges show it).
"""

from __future__ import annotations

import math
import time

import cv2
import numpy as np

from edge_gateway.vision.calibration import CameraModel
from edge_gateway.vision.checks import (
    BORDER_COVERED,
    BORDER_REACHED,
    EdgeFit,
    agreeing,
    area_outside_image_mm2,
    border_coverage,
    coarse_checks,
    missing_area_mm2,
    silhouette_outside_px,
    surplus_area_mm2,
)
from edge_gateway.vision.chroma import ChromaCue, without_belt_colour
from edge_gateway.vision.chroma_profiles import with_chroma_edges, with_chroma_extent
from edge_gateway.vision.image import as_grey
from edge_gateway.vision.model import ExpectedPart, points_moments
from edge_gateway.vision.pose import (
    RIGID,
    SCALE_RANGE,
    SCALED,
    gauss_newton,
    icp,
    nearest_on_outline,
    place,
    residuals,
    rotation,
    to_model,
)
from edge_gateway.vision.profiles import (
    STEP_PX,
    Profiles,
    find_edges,
    material_extent,
    read_profiles,
    surplus_extent,
)
from edge_gateway.vision.result import LocateOptions, LocateResult, PartLocation
from edge_gateway.vision.segment import FACTOR, Blob, Detection, detect
from recipes.errors import InvalidInputError

#: refinement passes: (inner px, outer px, Gauss-Newton iterations, sample stride)
_PASSES = ((10, 10, 3, 2),)
#: reach of the last pass (px); where it finds no material, it reads ``damage_reach_mm`` in
_LAST_INNER_PX = 8
_LAST_OUTER_PX = 5
#: the short profiles' innermost samples below this level (part = 1): read further in
_INNER_LEVEL = 0.8
#: a well-fitted silhouette this far inside the image (px) overrides border coverage
_CLEAR_PX = 2.0
#: share of the part area that may fall outside the image when its region does not
#: touch the border (a broken corner there); more is an outline that does not fit
_OUTSIDE_SHARE = 0.02
#: boundary points further than this from the outline count as unexplained (mm)
_FAR_MM = 10.0
#: edge samples needed on each side along an axis to measure the scale along it
_MIN_SIDE_SAMPLES = 5
#: coarse pixels between the outline and the interior checked at coarse resolution, and one
_COARSE_REACH = 4
#: how far beyond the outline the top face is followed where it runs on (mm)
_SURPLUS_REACH_MM = 12.0
#: share of the image border in the part class above which the other reading (the other
#: class is the part) is tried as well
_AMBIGUOUS_BORDER = 0.3


class Locator:
    """Locates one expected part type with one calibrated camera.

    Parameters
    ----------
    camera : CameraModel
    part : ExpectedPart, or a panel (anything with ``outline`` and ``thickness_mm``).
    options : LocateOptions
    """

    def __init__(
        self, camera: CameraModel, part: ExpectedPart | object, options: LocateOptions | None = None
    ) -> None:
        self.camera = camera
        self.part = part if isinstance(part, ExpectedPart) else ExpectedPart.from_part(part)
        self.options = options or LocateOptions()
        self._mm_per_px = camera.mm_per_px(self.part.thickness_mm)
        self._model_moments = self.part.moments()
        ring = np.asarray(self.part.outline.exterior.coords, dtype=np.float32)
        self._model_rect_deg = float(cv2.minAreaRect(ring)[2])
        self._model_lo = self.part.seg_a.min(axis=0)
        self._model_hi = self.part.seg_a.max(axis=0)
        self._coarse_mm2 = (FACTOR * self._mm_per_px) ** 2
        self._damage_px = int(math.ceil(self.options.damage_reach_mm / self._mm_per_px))
        self._surplus_px = int(math.ceil(_SURPLUS_REACH_MM / self._mm_per_px))
        self._free = SCALED.copy()
        self._free[2] = self.part.symmetry != 0  # a circle's angle is not observable

    # --- entry ------------------------------------------------------------------------------
    def locate(self, image: np.ndarray) -> LocateResult:
        """Locate and check the parts in ``image`` (grey or colour, the calibrated size)."""
        t0 = time.perf_counter()
        img = as_grey(image)
        colour = _colour_of(image)
        cam = self.camera
        if img.shape != (cam.height, cam.width):
            raise InvalidInputError(
                "image",
                f"size {img.shape[1]}x{img.shape[0]} does not match the calibration's "
                f"{cam.width}x{cam.height}",
            )
        min_px = int(self.options.min_part_fraction * self.part.area_mm2 / self._coarse_mm2)
        det = detect(img, self.options.polarity, min_px)
        cue = None
        if colour is not None:
            det, cue = without_belt_colour(det, colour, min_px)
        parts = self._locate_blobs(img, det, colour, cue)
        doubtful = not parts or any(p.score < self.options.min_score for p in parts)
        if self.options.polarity == "auto" and det.border_share > _AMBIGUOUS_BORDER and doubtful:
            # parts cover much of the border (large parts, several, cut) and the outline
            # does not fit: the class that touches the border less need not be the belt;
            # keep the reading that fits
            flipped = "bright" if det.step < 0 else "dark"
            other_det, other_cue = detect(img, flipped, min_px), None
            if colour is not None:
                other_det, other_cue = without_belt_colour(other_det, colour, min_px)
            other = self._locate_blobs(img, other_det, colour, other_cue)
            if _evidence(other, self.options.min_score) > _evidence(parts, self.options.min_score):
                parts = other
        if not parts:
            verdict = "no_part"
        elif len(parts) > 1:
            verdict = "several"
        else:
            verdict = parts[0].verdict
        return LocateResult(verdict, tuple(parts), 1e3 * (time.perf_counter() - t0))

    def _locate_blobs(
        self,
        img: np.ndarray,
        det: Detection,
        colour: np.ndarray | None = None,
        cue: ChromaCue | None = None,
    ) -> list[PartLocation]:
        """Each region of ``det`` located and checked; ``colour`` (the frame, where it has
        colour) and its chromaticity ``cue`` help the damage check and the edges."""
        weak = det.has_weak_contrast
        blobs = det.blobs if det.has_contrast or weak else []
        parts = []
        for blob in blobs[: self.options.max_parts]:
            loc = self._locate_blob(img, det, blob, colour, cue)
            if loc is not None and (not weak or loc.score >= self.options.min_score):
                parts.append(loc)
        return parts

    # --- one region -------------------------------------------------------------------------
    def _locate_blob(
        self,
        img: np.ndarray,
        det: Detection,
        blob: Blob,
        colour: np.ndarray | None = None,
        cue: ChromaCue | None = None,
    ) -> PartLocation | None:
        part, cam, opt = self.part, self.camera, self.options
        q, q0 = cam.pixel_to_planes(blob.contour_px, (part.thickness_mm, 0.0))
        finite = np.all(np.isfinite(q), axis=1) & np.all(np.isfinite(q0), axis=1)
        q, q0 = q[finite], q0[finite]
        if len(q) < 12:
            return None
        p = self._initial_pose(q, q0, blob.touches_border)
        if p is None:
            return None
        coverage = border_coverage(img, det, blob) if blob.touches_border else 0.0
        if coverage >= BORDER_COVERED:
            # trusted unless a good fit shows the part clear of the border (a shadow or a
            # stain as dark as the part can reach the border beside it)
            p_rigid, fit = self._refine(img, det, p, self._free & RIGID, damage=False)
            clear = silhouette_outside_px(cam, part, p_rigid) < -_CLEAR_PX
            if not clear or fit.score < opt.min_score:
                return self._result(
                    p_rigid, fit, "cut_by_border", ["the part covers the image border"]
                )
        p, fit = self._refine(img, det, p, self._free, colour=colour, cue=cue)
        outside = silhouette_outside_px(cam, part, p)
        wrong, damage, missing = self._checks(det, blob, p, fit)
        # the fitted silhouette decides where the part reaches the border pixels (side
        # faces in view can keep them below the top face's level), or with a margin
        reaches = coverage >= BORDER_REACHED or opt.border_margin_px > 0
        if reaches and outside > -opt.border_margin_px and fit.score >= opt.min_score:
            where = "beyond the image" if outside > 0 else "from the image border"
            return self._result(
                p, fit, "cut_by_border", [f"the part reaches {abs(outside):.1f} px {where}"]
            )
        if not blob.touches_border and outside > -1.0:
            # a region wholly in view, yet much of the fitted outline outside the image
            beyond = area_outside_image_mm2(cam, part, p, self._mm_per_px)
            if beyond > _OUTSIDE_SHARE * part.area_mm2:
                wrong.append("the expected outline does not fit inside the seen region")
        if wrong:
            return self._result(p, fit, "wrong_part", wrong, missing)
        if damage:
            return self._result(p, fit, "damaged", damage, missing)
        return self._result(p, fit, "ok", [], missing)

    def _initial_pose(self, q: np.ndarray, q0: np.ndarray, partial: bool) -> np.ndarray | None:
        """Pose from a region's boundary ``q`` (world points on the top-face plane; ``q0``
        the same on the belt)."""
        part = self.part
        try:
            c_d, a_d, _ = points_moments(q)
        except (ValueError, ZeroDivisionError):
            return None
        if not np.all(np.isfinite(c_d)):
            return None
        c_m, a_m, ratio_m = self._model_moments
        if part.symmetry == 0:
            thetas = [0.0]
        elif ratio_m > 1.15 and not partial:
            thetas = [a_d - a_m, a_d - a_m + 180.0]
        else:  # no long axis, or a cut region's axes: the sides of its enclosing rectangle
            a_r = cv2.minAreaRect(q.astype(np.float32))[2]
            thetas = [a_r - self._model_rect_deg + k for k in (0.0, 90.0, 180.0, 270.0)]
        thetas = sorted({round(part.reduce_angle(t), 6) for t in thetas})
        starts = []
        for theta in thetas:
            th = math.radians(theta)
            for c in self._start_positions(q, th, c_d, c_m, partial):
                starts.append(np.array([c[0], c[1], th, 1.0, 1.0]))
        if len(starts) > 2:
            # keep the starts whose outline passes nearest the region's boundary
            costs = [_match_cost(part, q, p0) for p0 in starts]
            starts = [starts[i] for i in np.argsort(costs)[:2]]
        silhouette = dict(q_bottom=q0, camera_xy=self.camera.centre_mm[:2])
        best, best_cost = None, math.inf
        for p0 in starts:
            p, r = icp(part, q, p0, self._free & RIGID, iterations=8, min_sigma=2.0, **silhouette)
            cost = _truncated_mean(r)
            if cost < best_cost:
                best, best_cost = p, cost
        if best is not None and not partial:
            best, _ = icp(part, q, best, self._free, iterations=4, min_sigma=1.0, **silhouette)
        return best

    def _start_positions(
        self, q: np.ndarray, th: float, c_d: np.ndarray, c_m: np.ndarray, partial: bool
    ) -> list[np.ndarray]:
        """Where to start the reference point for the angle ``th``: the region's centroid
        matched with the outline's; for a region cut by the border, also each end of the
        region's extent along the part axes matched with the outline's (the uncut end)."""
        R = rotation(th)
        centred = c_d - R @ c_m
        if not partial:
            return [centred]
        local = q @ R  # the region in axes turned with the part
        lo_d, hi_d = local.min(axis=0), local.max(axis=0)
        mid = centred @ R
        out = [centred]
        for x in (lo_d[0] - self._model_lo[0], hi_d[0] - self._model_hi[0], mid[0]):
            for y in (lo_d[1] - self._model_lo[1], hi_d[1] - self._model_hi[1], mid[1]):
                out.append(R @ np.array([x, y]))
        return out

    def _refine(
        self,
        img: np.ndarray,
        det: Detection,
        p: np.ndarray,
        free: np.ndarray,
        damage: bool = True,
        colour: np.ndarray | None = None,
        cue: ChromaCue | None = None,
    ) -> tuple[np.ndarray, EdgeFit]:
        """Full-resolution fit from pose ``p``: a pass with wide windows on every other edge
        sample, then a last one on all of them with narrow windows; with ``damage``, the
        material extent along the outline too (read further in where it ends early)."""
        part, cam = self.part, self.camera
        for inner, outer, iterations, stride in _PASSES:
            prof = read_profiles(img, det, cam, part, p, inner, outer, stride)
            idx, q = self._edge_points(prof, None, colour, cue)
            if len(idx) >= 8:
                p = self._fit(p, idx, q, free, iterations)
            if not _scale_ok(p):
                break
        prof = read_profiles(img, det, cam, part, p, _LAST_INNER_PX, _LAST_OUTER_PX)
        idx, q = self._edge_points(prof, _LAST_OUTER_PX, colour, cue)
        r = np.zeros(0)
        if len(idx) >= 8:
            p = self._fit(p, idx, q, free, 3)
            r = residuals(p, part.samples[idx], part.sample_normal[idx], q)
        if not damage:
            none = np.zeros(len(prof.index))
            return p, EdgeFit(prof.index, idx, r, none, none.astype(bool), none)
        extent_px, cut = material_extent(prof)
        extent = extent_px / prof.px_per_mm
        # where the material ends before the short profiles start, or they do not start on
        # the part's level (belt texture as dark as the part in a bite), read further in
        inner = prof.level[:, :STEP_PX].mean(axis=1)
        deep = np.flatnonzero((extent_px <= prof.offsets[0] + 0.5) | (inner < _INNER_LEVEL))
        if len(deep):
            far = read_profiles(
                img, det, cam, part, p, self._damage_px, _LAST_OUTER_PX, index=prof.index[deep]
            )
            at = deep[np.isin(prof.index[deep], far.index)]
            far_px, far_cut = material_extent(far)
            extent[at] = far_px / far.px_per_mm
            cut[at] = far_cut
        if cue is not None and colour is not None:
            # every other pixel: depths matter to a millimetre here, not to a tenth
            offsets = np.arange(-self._damage_px, _LAST_OUTER_PX + 1, 2, dtype=np.float32)
            extent, cut = with_chroma_extent(prof, colour, cue, offsets, extent, cut)
        fit = EdgeFit(prof.index, idx, r, extent, cut, np.zeros(len(prof.index)))
        # where material runs on past the outline and no edge agrees with it, read further
        # out: does the top face itself go on, to an edge?
        on = np.flatnonzero((extent > self.options.defect_depth_mm) & ~agreeing(fit))
        if len(on):
            out = read_profiles(img, det, cam, part, p, 2, self._surplus_px, index=prof.index[on])
            at = on[np.isin(prof.index[on], out.index)]
            fit.surplus_mm[at] = surplus_extent(out) / out.px_per_mm
        return p, fit

    def _fit(self, p, idx: np.ndarray, q: np.ndarray, free: np.ndarray, iterations: int):
        part = self.part
        m, nu = part.samples[idx], part.sample_normal[idx]
        p, _, _ = gauss_newton(p, m, nu, q, self._observable(free, m, nu), iterations=iterations)
        return p

    def _edge_points(
        self,
        prof: Profiles,
        reach_px: float | None = None,
        colour: np.ndarray | None = None,
        cue: ChromaCue | None = None,
    ) -> tuple[np.ndarray, np.ndarray]:
        """Edge samples with an edge found, and the edges in the world (top edges on the
        plane z = thickness, bottom edges on z = 0); with a chromaticity ``cue``, where no
        side face shows and the brightness finds no edge or one the chromaticity does not
        bear out, the chromaticity's edge (:meth:`_chroma_edges`)."""
        t_edge, bottom = find_edges(prof, reach_px)
        if cue is not None and colour is not None:
            t_edge, bottom = with_chroma_edges(prof, t_edge, bottom, colour, cue, reach_px)
        ok = np.isfinite(t_edge)
        z = np.where(bottom[ok], 0.0, self.part.thickness_mm)
        uv = prof.origin_px[ok] + prof.normal_px[ok] * t_edge[ok, None]
        q = self.camera.pixel_to_plane(uv, z)
        good = np.all(np.isfinite(q), axis=1)
        return prof.index[ok][good], q[good]

    @staticmethod
    def _observable(free: np.ndarray, m: np.ndarray, nu: np.ndarray) -> np.ndarray:
        """``free`` without the scales that edge samples ``m`` (normals ``nu``) cannot
        measure: a scale needs edges facing both ways along its axis."""
        free = free.copy()
        for axis in (0, 1):
            across = np.abs(nu[:, axis]) > 0.7
            plus = np.count_nonzero(across & (m[:, axis] > 0))
            minus = np.count_nonzero(across & (m[:, axis] < 0))
            if min(plus, minus) < _MIN_SIDE_SAMPLES:
                free[3 + axis] = False
        return free

    # --- verdict ----------------------------------------------------------------------------
    def _checks(
        self, det: Detection, blob: Blob, p: np.ndarray, fit: EdgeFit
    ) -> tuple[list[str], list[str], float]:
        """Reasons for a wrong part, for damage, and the missing area (mm2)."""
        part, opt = self.part, self.options
        if not _scale_ok(p):
            scale = f"scale {p[3]:.2f} x {p[4]:.2f}"
            return [f"does not match the expected outline ({scale})"], [], 0.0
        wrong: list[str] = []
        dw, dh = part.width_mm * (p[3] - 1.0), part.height_mm * (p[4] - 1.0)
        if max(abs(dw), abs(dh)) > opt.size_tolerance_mm:
            wrong.append(
                f"size {part.width_mm * p[3]:.1f} x {part.height_mm * p[4]:.1f} mm, expected "
                f"{part.width_mm:.1f} x {part.height_mm:.1f} mm (+-{opt.size_tolerance_mm:g})"
            )
        if fit.score < opt.min_score:
            wrong.append(f"edge agreement {fit.score:.2f} below {opt.min_score:.2f}")
        coarse, defects = coarse_checks(self.camera, part, det, blob, p, self._coarse_mm2)
        wrong += coarse
        surplus = surplus_area_mm2(part, fit, opt.defect_depth_mm)
        if surplus >= opt.min_surplus_area_mm2:
            wrong.append(f"material beyond the expected outline along it: {surplus:.0f} mm2")
        damage = []
        witness = fit.cut | self._in_coarse(defects, p, fit.visible)
        area = missing_area_mm2(part, fit, opt.defect_depth_mm, witness)
        if area > opt.max_defect_area_mm2:
            wrong.append(
                f"missing material along the outline: {area:.0f} mm2, more than damage "
                f"({opt.max_defect_area_mm2:g}): another outline"
            )
        elif area >= opt.min_defect_area_mm2:
            damage.append(f"missing material along the outline: {area:.0f} mm2")
        return wrong, damage, area

    def _in_coarse(self, mask: np.ndarray, p: np.ndarray, index: np.ndarray) -> np.ndarray:
        """(V,) bool: edge samples ``index`` at pose ``p`` lie at (or next to) ``mask``'s
        coarse pixels (the interior checked at coarse resolution stays a few coarse pixels
        inside the outline)."""
        if len(index) == 0 or not mask.any():
            return np.zeros(len(index), dtype=bool)
        near = cv2.dilate(mask, np.ones((3, 3), np.uint8), iterations=_COARSE_REACH)
        xy = place(p, self.part.samples[index])
        uv = self.camera.project(np.column_stack([xy, np.full(len(xy), self.part.thickness_mm)]))
        c = np.rint((uv - (FACTOR - 1) / 2.0) / FACTOR).astype(int)
        h, w = mask.shape
        inside = (c[:, 0] >= 0) & (c[:, 1] >= 0) & (c[:, 0] < w) & (c[:, 1] < h)
        out = np.zeros(len(index), dtype=bool)
        out[inside] = near[c[inside, 1], c[inside, 0]] > 0
        return out

    def _result(
        self,
        p: np.ndarray,
        fit: EdgeFit,
        verdict: str,
        reasons: list[str],
        missing_mm2: float | None = None,
    ) -> PartLocation:
        part = self.part
        theta = math.degrees(p[2])
        reduced = part.reduce_angle(theta)
        sx, sy = float(p[3]), float(p[4])
        if part.symmetry == 4 and round((theta - reduced) / 90.0) % 2:
            sx, sy = sy, sx  # a quarter turn swaps the part's axes
        outline = part.posed(p[0], p[1], reduced, sx, sy)
        T = np.eye(4)
        T[:2, :2] = rotation(math.radians(reduced))
        T[:2, 3] = p[:2] - T[:2, :2] @ part.reference_xy_mm
        return PartLocation(
            verdict=verdict,
            x_mm=float(p[0]),
            y_mm=float(p[1]),
            theta_deg=reduced,
            width_mm=part.width_mm * sx,
            height_mm=part.height_mm * sy,
            size_deviation_mm=(part.width_mm * (sx - 1.0), part.height_mm * (sy - 1.0)),
            score=fit.score,
            edge_rms_mm=fit.rms,
            missing_area_mm2=(
                missing_area_mm2(part, fit, self.options.defect_depth_mm)
                if missing_mm2 is None
                else missing_mm2
            ),
            outline_mm=np.asarray(outline.exterior.coords)[:-1],
            holes_mm=tuple(np.asarray(r.coords)[:-1] for r in outline.interiors),
            T_world_part=T,
            scale=(sx, sy),
            reasons=tuple(reasons),
        )


def _colour_of(image: np.ndarray) -> np.ndarray | None:
    """(H, W, 3+) uint8 BGR frame, or None for grey and other frames."""
    img = np.asarray(image)
    if img.ndim == 3 and img.shape[2] in (3, 4) and img.dtype == np.uint8:
        return img
    return None


def _evidence(parts: list[PartLocation], min_score: float) -> tuple[int, float]:
    """How well a reading of the image is borne out: parts whose outline the edges agree
    with, then their edge agreement summed."""
    return (sum(p.score >= min_score for p in parts), sum(p.score for p in parts))


def _match_cost(part: ExpectedPart, q: np.ndarray, p: np.ndarray) -> float:
    """How badly world points ``q`` meet the outline at pose ``p`` (see _truncated_mean)."""
    foot, nu = nearest_on_outline(part, to_model(p, q), True)
    return _truncated_mean(residuals(p, foot, nu, q))


def _truncated_mean(r: np.ndarray) -> float:
    """Mean distance (mm) with each point counting at most ``_FAR_MM``: a pose that leaves
    part of the boundary unexplained pays for it, however well the rest fits."""
    return float(np.mean(np.minimum(np.abs(r), _FAR_MM))) if len(r) else math.inf


def _scale_ok(p: np.ndarray) -> bool:
    lo, hi = SCALE_RANGE
    return bool(lo < p[3] < hi and lo < p[4] < hi and np.all(np.isfinite(p)))


def locate(
    image: np.ndarray,
    camera: CameraModel,
    part: ExpectedPart | object,
    options: LocateOptions | None = None,
) -> LocateResult:
    """Locate and check ``part`` in ``image`` (see :class:`Locator`)."""
    return Locator(camera, part, options).locate(image)
