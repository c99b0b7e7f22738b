"""Fit a recipe's program to a part as measured on the belt.

The vision reports where the part lies (``T_world_part``: the nominal part frame placed on
the belt) and its real outline in the world. The fit expresses that outline in the part
frame, compares it with the nominal one and, by the largest distance between the two
(``deviation_mm``, a Hausdorff distance over all rings):

- up to ``move_below_mm``: the program is only moved onto the part (``transformed``);
- up to ``replan_above_mm``: trigger points and edge passes follow the real edges
  (``adjusted``): every waypoint of an edge pass moves with the outline point it aims at
  (a hole pass aims across the hole); raster waypoints (strokes, turnarounds,
  lead-in/out) slide along their stroke direction by as much as the edge their stroke
  line crosses moved, so the strokes' pitch and the overtravel past the real edges stay
  as planned;
- up to ``tolerance_mm``: the strokes are re-planned on the measured outline with the
  recipe's planner parameters and the direction and coats it chose (``replanned``);
- beyond: :class:`OutOfToleranceError`, a refusal that names the deviation.

In every case the film is predicted on the measured part (``recipes.simulate.predict``),
so the quality reported is the one the real part will get.

Correspondence between the outlines: rings with as many vertices as the nominal ones
(what the vision reports: the nominal outline scaled to the measured size) are matched
vertex by vertex, others by the nearest point.
"""

from __future__ import annotations

import math
from dataclasses import dataclass, field
from pathlib import Path

import numpy as np
import shapely
from shapely.geometry import LineString, Polygon
from shapely.geometry.polygon import orient

from recipes.document import RecipeDoc
from recipes.errors import InvalidInputError
from recipes.finish import Finish
from recipes.gun import GunModel
from recipes.parts.loader import part_from_ref
from recipes.parts.panel import PanelPart
from recipes.planner import PlannerParams, plan
from recipes.program import EDGE, Program
from recipes.simulate import Prediction, predict

#: deviations up to this only move the program (mm)
MOVE_BELOW_MM = 0.2
#: deviations beyond this re-plan the strokes (mm)
REPLAN_ABOVE_MM = 2.0
#: deviations beyond this are refused (mm)
TOLERANCE_MM = 5.0
_RIGID_TOL = 1e-6


class OutOfToleranceError(InvalidInputError):
    """The measured part differs from the recipe's part by more than the tolerance."""


@dataclass(frozen=True)
class FitResult:
    """A program fitted to one measured part.

    Attributes
    ----------
    program : Program
        Waypoints in the world frame, ready for the cell.
    program_part : Program
        The same in the (nominal) part frame.
    T_world_part : (4, 4) ndarray
    action : "transformed", "adjusted" or "replanned".
    deviation_mm : float
        Largest distance between the nominal and the measured outline (part frame).
    measured : PanelPart
        The measured part in the part frame.
    prediction : Prediction
        Film of ``program_part`` on ``measured``.
    notes : list of str
    """

    program: Program
    program_part: Program
    T_world_part: np.ndarray
    action: str
    deviation_mm: float
    measured: PanelPart
    prediction: Prediction
    notes: list[str] = field(default_factory=list)

    def summary(self) -> dict:
        return dict(
            action=self.action,
            deviation_mm=round(self.deviation_mm, 3),
            waypoints=len(self.program),
            metrics=self.prediction.metrics.to_dict(),
            notes=list(self.notes),
        )


@dataclass(frozen=True)
class FittedProgram:
    """The approved recipe's program fitted to the located part (``fit``), with the recipe
    it came from: the cell executes the recipe's signed geometry at ``fit.T_world_part``."""

    recipe: RecipeDoc
    fit: FitResult

    @property
    def T_world_part(self) -> np.ndarray:
        return self.fit.T_world_part

    def to_dict(self) -> dict:
        return dict(
            recipe_id=self.recipe.id,
            recipe_version=int(self.recipe.version),
            action=self.fit.action,
            deviation_mm=round(float(self.fit.deviation_mm), 3),
            T_world_part=np.round(self.fit.T_world_part, 4).tolist(),
            waypoints=len(self.fit.program.position_mm),
            cycle_s=round(float(self.fit.program.cycle_s), 3),
        )

    def trace_summary(self) -> str:
        f = self.fit
        return (
            f"program {self.recipe.id} v{self.recipe.version} {f.action}, "
            f"deviation {f.deviation_mm:.2f} mm, {len(f.program.position_mm)} waypoints"
        )


def T_world_part_from_pose(
    x_mm: float, y_mm: float, theta_deg: float, reference_xy_mm: tuple[float, float]
) -> np.ndarray:
    """(4, 4) part frame on the belt whose reference point (part frame) lies at
    (``x_mm``, ``y_mm``), turned by ``theta_deg`` about world z."""
    th = math.radians(theta_deg)
    c, s = math.cos(th), math.sin(th)
    T = np.eye(4)
    T[:2, :2] = [[c, -s], [s, c]]
    T[:2, 3] = np.array([x_mm, y_mm]) - T[:2, :2] @ np.asarray(reference_xy_mm, dtype=float)
    return T


def measured_in_part_frame(
    outline_world: Polygon | np.ndarray, T_world_part: np.ndarray
) -> Polygon:
    """The measured outline (world xy, a polygon or an (N, 2) exterior) in the part frame."""
    T = _check_pose(T_world_part)
    poly = outline_world if isinstance(outline_world, Polygon) else _polygon(outline_world)
    R, t = T[:2, :2], T[:2, 3]

    def back(ring) -> np.ndarray:
        return (np.asarray(ring.coords)[:, :2] - t) @ R

    return Polygon(back(poly.exterior), [back(r) for r in poly.interiors])


def outline_deviation_mm(nominal: Polygon, measured: Polygon) -> float:
    """Largest distance between the two outlines (Hausdorff over all rings), mm."""
    return float(shapely.hausdorff_distance(nominal.boundary, measured.boundary, densify=0.05))


def fit_program(
    part: PanelPart,
    program: Program,
    finish: Finish,
    gun: GunModel,
    T_world_part: np.ndarray,
    outline_world: Polygon | np.ndarray,
    *,
    params: PlannerParams | None = None,
    chosen: dict | None = None,
    tolerance_mm: float = TOLERANCE_MM,
    move_below_mm: float = MOVE_BELOW_MM,
    replan_above_mm: float = REPLAN_ABOVE_MM,
    spacing_mm: float | None = None,
) -> FitResult:
    """Fit ``program`` (part frame, planned for ``part``) to the part measured at
    ``T_world_part`` with the real outline ``outline_world`` (see the module docstring).

    ``params`` and ``chosen`` are the recipe's planner parameters and chosen values, used
    when the strokes are re-planned.
    """
    if not isinstance(part, PanelPart):
        raise InvalidInputError(
            "part.outline", f"'{getattr(part, 'name', part)}' has no outline: only panels fit"
        )
    if not 0 <= move_below_mm <= replan_above_mm <= tolerance_mm:
        raise InvalidInputError(
            "tolerance_mm",
            "expected 0 <= move_below_mm <= replan_above_mm <= tolerance_mm, got "
            f"{move_below_mm:g}, {replan_above_mm:g}, {tolerance_mm:g}",
        )
    T = _check_pose(T_world_part)
    measured_outline = orient(measured_in_part_frame(outline_world, T), 1.0)
    if not measured_outline.is_valid or measured_outline.area < 1.0:
        raise InvalidInputError("outline", "the measured outline is not a valid polygon")
    nominal = part.outline
    if len(measured_outline.interiors) != len(nominal.interiors):
        raise OutOfToleranceError(
            "outline",
            f"the measured part has {len(measured_outline.interiors)} hole(s), "
            f"'{part.name}' has {len(nominal.interiors)}: refused",
        )
    deviation = outline_deviation_mm(nominal, measured_outline)
    if deviation > tolerance_mm:
        raise OutOfToleranceError(
            "outline",
            f"the measured outline deviates up to {deviation:.2f} mm from '{part.name}' "
            f"(tolerance {tolerance_mm:g} mm): refused, the recipe does not fit this part",
        )
    measured = PanelPart.create(
        part.name, measured_outline, part.thickness_mm, "measured", dict(part.params)
    )
    params = params or PlannerParams()
    notes = [f"outline deviation {deviation:.2f} mm"]
    if deviation <= move_below_mm:
        action, program_part = "transformed", program
        notes.append(f"within {move_below_mm:g} mm: program moved only")
    elif deviation <= replan_above_mm:
        action = "adjusted"
        program_part, moved_mm = adjust_program(program, nominal, measured_outline, chosen)
        notes.append(
            f"trigger points and edge passes moved to the real edges (up to {moved_mm:.2f} mm)"
        )
    else:
        action = "replanned"
        fixed = _fixed_params(params, chosen)
        program_part = plan(measured, finish, gun, fixed).program
        notes.append(
            f"strokes re-planned on the measured outline (direction {fixed.direction} deg, "
            f"{fixed.coats} coat(s))"
        )
    prediction = predict(
        measured,
        program_part,
        gun,
        finish,
        spacing_mm=spacing_mm or params.spacing_mm,
        sample_hz=params.sample_hz,
    )
    return FitResult(
        program=program_part.transformed(T),
        program_part=program_part,
        T_world_part=T,
        action=action,
        deviation_mm=deviation,
        measured=measured,
        prediction=prediction,
        notes=notes,
    )


def fit_recipe(
    doc: RecipeDoc,
    T_world_part: np.ndarray,
    outline_world: Polygon | np.ndarray,
    *,
    base_dir: Path | None = None,
    **kw,
) -> FitResult:
    """:func:`fit_program` with everything taken from a recipe document."""
    part = part_from_ref(doc.part.model_dump(), base_dir)
    return fit_program(
        part,  # type: ignore[arg-type]
        doc.program.to_program(),
        doc.finish,
        doc.gun,
        T_world_part,
        outline_world,
        params=doc.planner,
        chosen=doc.chosen,
        **kw,
    )


# --- adjusting waypoints -------------------------------------------------------------------
def adjust_program(
    program: Program, nominal: Polygon, measured: Polygon, chosen: dict | None = None
) -> tuple[Program, float]:
    """Move edge-pass waypoints with the outline and slide raster waypoints along their
    strokes (see the module docstring). Returns the program and the largest move (mm)."""
    pos = program.position_mm.copy()
    xy = pos[:, :2]
    kinds = program.kind
    n = len(program)
    on_edge = np.zeros(n, dtype=bool)
    on_edge[1:] |= kinds[1:] == EDGE  # segment ending here
    on_edge[:-1] |= kinds[1:] == EDGE  # segment starting here
    moves = np.zeros((n, 2))
    field_ = _Displacement(nominal, measured)
    if on_edge.any():
        aims = _aim_points(xy[on_edge], program.axis[on_edge, :2], nominal.boundary)
        moves[on_edge] = field_.at(aims)
    raster = ~on_edge
    if raster.any():
        u = _stroke_direction(program, chosen)
        moves[raster] = field_.along(xy[raster], u)[:, None] * u
    pos[:, :2] += moves
    adjusted = Program(
        pos,
        program.axis.copy(),
        program.fan_x.copy(),
        program.speed_mm_s.copy(),
        program.trigger.copy(),
        program.kind.copy(),
    )
    return adjusted, float(np.hypot(moves[:, 0], moves[:, 1]).max(initial=0.0))


class _Displacement:
    """How each point of the nominal outline moved to the measured one."""

    def __init__(self, nominal: Polygon, measured: Polygon) -> None:
        self.nominal = nominal
        self.measured = measured
        self.rings_nom = _rings(nominal)
        self.rings_meas = _rings(measured)
        self.vertex_moves = [
            _vertex_moves(a, b) for a, b in zip(self.rings_nom, self.rings_meas, strict=True)
        ]

    def at(self, points: np.ndarray) -> np.ndarray:
        """(N, 2) displacement of the nominal outline point nearest to each point."""
        out = np.zeros((len(points), 2))
        best = np.full(len(points), np.inf)
        for ring, moves, meas in zip(
            self.rings_nom, self.vertex_moves, self.rings_meas, strict=True
        ):
            foot, seg, t, dist = _nearest_on_ring(ring, points)
            closer = dist < best
            if not closer.any():
                continue
            if moves is not None:
                d = moves[seg] * (1 - t)[:, None] + moves[(seg + 1) % len(moves)] * t[:, None]
            else:
                d = _nearest_on_ring(meas, foot)[0] - foot
            out[closer] = d[closer]
            best[closer] = dist[closer]
        return out

    def along(self, points: np.ndarray, u: np.ndarray) -> np.ndarray:
        """(N,) how far the outline crossing nearest each point moved along the line
        through it in direction ``u``; points whose line misses the outline use the
        nearest outline point's move."""
        out = self.at(points) @ u
        reach = 1e5
        for k, p in enumerate(points):
            line = LineString([p - reach * u, p + reach * u])
            a = _crossings(line, self.nominal.boundary)
            b = _crossings(line, self.measured.boundary)
            if len(a) == 0 or len(b) == 0:
                continue
            sa = (a - p) @ u
            i = int(np.argmin(np.abs(sa)))
            sb = (b - p) @ u
            j = int(np.argmin(np.abs(sb - sa[i])))
            out[k] = sb[j] - sa[i]
        return out


def _aim_points(xy: np.ndarray, axis_xy: np.ndarray, boundary) -> np.ndarray:
    """(N, 2) points whose outline displacement an edge-pass gun (N, 2) follows: the gun's
    own position (its nearest outline point is the one it aims at), except where the
    first crossing of its axis (projected, (N, 2)) with ``boundary`` lies farther than
    the nearest outline point by more than 1 mm: a gun inside a hole aims across it, at
    a wall that is not the one nearest to it."""
    out = xy.copy()
    norm = np.linalg.norm(axis_xy, axis=1)
    nearest = shapely.distance(boundary, shapely.points(xy))
    for k in np.flatnonzero(norm > 1e-6):
        u = axis_xy[k] / norm[k]
        hits = _crossings(LineString([xy[k], xy[k] + 1e5 * u]), boundary)
        if len(hits):
            d = np.linalg.norm(hits - xy[k], axis=1)
            if d.min() > nearest[k] + 1.0:
                out[k] = hits[np.argmin(d)]
    return out


def _crossings(line: LineString, boundary) -> np.ndarray:
    inter = line.intersection(boundary)
    if inter.is_empty:
        return np.zeros((0, 2))
    pts = shapely.get_coordinates(inter)
    return pts[:, :2]


def _rings(poly: Polygon) -> list[np.ndarray]:
    return [np.asarray(poly.exterior.coords)[:-1, :2]] + [
        np.asarray(r.coords)[:-1, :2] for r in poly.interiors
    ]


def _vertex_moves(nominal: np.ndarray, measured: np.ndarray) -> np.ndarray | None:
    """Per-vertex moves when the rings have as many vertices (best cyclic alignment),
    else None."""
    if len(nominal) != len(measured):
        return None
    costs = [np.sum((np.roll(measured, -s, axis=0) - nominal) ** 2) for s in range(len(measured))]
    s = int(np.argmin(costs))
    moves = np.roll(measured, -s, axis=0) - nominal
    # a matching that moves vertices across the part is no correspondence
    return moves if np.sqrt(costs[s] / len(nominal)) < 50.0 else None


def _nearest_on_ring(ring: np.ndarray, points: np.ndarray):
    """Nearest point on a closed ring (K, 2) for each of (N, 2): foot, segment, parameter
    along it, distance."""
    a = ring
    b = np.roll(ring, -1, axis=0)
    d = b - a
    dd = np.maximum(np.einsum("ij,ij->i", d, d), 1e-12)
    rel = points[:, None, :] - a[None, :, :]
    t = np.clip(np.einsum("nkj,kj->nk", rel, d) / dd, 0.0, 1.0)
    foot = a[None] + t[..., None] * d[None]
    dist = np.linalg.norm(points[:, None, :] - foot, axis=2)
    seg = np.argmin(dist, axis=1)
    rows = np.arange(len(points))
    return foot[rows, seg], seg, t[rows, seg], dist[rows, seg]


def _stroke_direction(program: Program, chosen: dict | None) -> np.ndarray:
    if chosen and "angle_deg" in chosen:
        a = math.radians(float(chosen["angle_deg"]))
        return np.array([math.cos(a), math.sin(a)])
    # the longest trigger-on segment that is not an edge pass
    seg = np.diff(program.position_mm[:, :2], axis=0)
    length = np.hypot(seg[:, 0], seg[:, 1])
    raster = (program.kind[1:] != EDGE) & program.trigger[1:]
    if not raster.any():
        return np.array([1.0, 0.0])
    k = int(np.argmax(np.where(raster, length, -1.0)))
    return seg[k] / max(length[k], 1e-12)


def _fixed_params(params: PlannerParams, chosen: dict | None) -> PlannerParams:
    """The recipe's parameters with the direction and coats it chose.

    **Decision:** the standoff is not fixed: a fixed standoff is also the edge passes' one
    (``docs/spray_core.md``), and the raster's short standoff would overload the corners;
    the solver's standoff search finds the recipe's choice again for a part this close."""
    update: dict = {}
    chosen = chosen or {}
    if "angle_deg" in chosen:
        update["direction"] = float(chosen["angle_deg"])
    if params.coats is None and "coats" in chosen:
        update["coats"] = int(chosen["coats"])
    return params.model_copy(update=update)


def _check_pose(T: np.ndarray) -> np.ndarray:
    T = np.asarray(T, dtype=float)
    if T.shape != (4, 4) or not np.all(np.isfinite(T)):
        raise InvalidInputError("T_world_part", f"expected a finite 4x4 matrix, got {T.shape}")
    R = T[:3, :3]
    if (
        np.abs(T[3] - [0, 0, 0, 1]).max() > _RIGID_TOL
        or np.abs(R @ R.T - np.eye(3)).max() > _RIGID_TOL
        or np.linalg.det(R) < 0
    ):
        raise InvalidInputError("T_world_part", "not a rigid transform")
    if abs(R[2, 2] - 1.0) > 1e-6:
        raise InvalidInputError(
            "T_world_part", "the part must lie flat (rotation about world z only)"
        )
    return T


def _polygon(points: np.ndarray) -> Polygon:
    pts = np.asarray(points, dtype=float)
    if pts.ndim != 2 or pts.shape[1] != 2 or len(pts) < 3 or not np.all(np.isfinite(pts)):
        raise InvalidInputError("outline", f"expected (N >= 3, 2) finite points, got {pts.shape}")
    return Polygon(pts)
