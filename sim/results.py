"""Per-part results of the simulator: the real film of a finished cycle and its QC.

:func:`cycle_result` turns a :class:`sim.cell.PartCycle` (the joints and gun output the
cell logged while the part stood at the station) into the part's thickness map and QC
metrics with :func:`sim.gun.spray_from_joints`: tool poses by forward kinematics of the
actual joints, the part's real geometry and pose, the gun model and finish of the recipe
the cell ran, gun clogs and the like from the fault schedule.

**QC.** The metrics have the keys of ``coatshare recipe simulate --json``. The verdict
compares them with what the approved recipe predicts (its ``metrics`` block): a part passes
when the program completed and its ``within_tol_pct`` and ``coverage_pct`` are no more than
``QC_MARGIN_PCT`` (2 points) below the prediction. So a recipe is judged on what it
promises; a recipe whose prediction is poor is caught at approval, not here.
"""

from __future__ import annotations

import json
import logging
import math
import threading
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import numpy as np

from recipes.document import RecipeDoc
from recipes.document import load as load_recipe
from recipes.errors import CoatshareError
from sim.cell import PartCycle
from sim.faults import FAULT_CODES, FaultInjector
from sim.gun import SprayResult, spray_from_joints

log = logging.getLogger(__name__)

QC_MARGIN_PCT = 2.0
#: surface sampling of the real part (mm), as the recipes predict with
SPACING_MM = 2.0


class RecipeBook:
    """Approved recipe documents by (id, version), read from a folder (rescanned on a miss).

    The simulator needs them for the gun model and the finish of what a cell runs, and for
    the prediction the QC compares with.
    """

    def __init__(self, folder: str | Path | None = None, docs: list[RecipeDoc] = ()) -> None:
        self.folder = Path(folder) if folder is not None else None
        self._docs: dict[tuple[str, int], RecipeDoc] = {(d.id, int(d.version)): d for d in docs}
        self._seen: dict[Path, float] = {}
        self._lock = threading.Lock()
        self.rescan()

    def rescan(self) -> None:
        if self.folder is None or not self.folder.is_dir():
            return
        for path in sorted([*self.folder.glob("*.yaml"), *self.folder.glob("*.yml")]):
            mtime = path.stat().st_mtime
            if self._seen.get(path) == mtime:
                continue
            self._seen[path] = mtime
            try:
                doc = load_recipe(path)
            except CoatshareError as exc:
                log.warning("recipe file skipped: %s", exc)
                continue
            with self._lock:
                self._docs[(doc.id, int(doc.version))] = doc

    def get(self, recipe_id: str, version: int) -> RecipeDoc | None:
        key = (recipe_id, int(version))
        with self._lock:
            doc = self._docs.get(key)
        if doc is None:
            self.rescan()
            with self._lock:
                doc = self._docs.get(key)
        return doc


@dataclass(frozen=True)
class PartOutcome:
    """A finished part: ``result`` (JSON-ready dict, see :func:`cycle_result`), the
    arrays behind it (``top_map_um`` (ny, nx) and the cycle log) and the film itself
    (``spray``; None when no film was computed)."""

    result: dict
    arrays: dict[str, np.ndarray]
    spray: SprayResult | None = None

    def write(self, folder: Path) -> dict:
        """``<part_id>.json`` and ``<part_id>.npz`` into ``folder``; returns their paths."""
        folder.mkdir(parents=True, exist_ok=True)
        stem = self.result["part_id"]
        files = {"json": str(folder / f"{stem}.json"), "npz": str(folder / f"{stem}.npz")}
        np.savez_compressed(files["npz"], **self.arrays)
        result = {**self.result, "files": files}
        Path(files["json"]).write_text(json.dumps(result, indent=1), encoding="utf-8")
        return files


def qc_verdict(
    metrics: dict | None, predicted: dict | None, program: dict, margin_pct: float = QC_MARGIN_PCT
) -> dict:
    """Pass or fail with the reasons (see the module docstring)."""
    reasons = []
    if not program.get("completed", False):
        code = program.get("fault_code") or "not completed"
        reasons.append(f"program not completed ({code})")
    if metrics is None:
        reasons.append("no film computed (recipe unknown to the simulator)")
    elif predicted:
        for key in ("within_tol_pct", "coverage_pct"):
            want = predicted.get(key)
            if want is None:
                continue
            got = float(metrics[key])
            if got < float(want) - margin_pct:
                reasons.append(f"{key} {got:.2f} < {float(want):.2f} predicted - {margin_pct:g}")
    return dict(passed=not reasons, reasons=reasons, margin_pct=margin_pct)


def _fault_windows(faults: FaultInjector, cell: str, t0: float, t1: float) -> list[dict]:
    out = []
    for f in faults.active(cell, t0) + tuple(
        f for _, what, f in faults.transitions(cell, t0, t1) if what == "start"
    ):
        if any(o["id"] == f.id for o in out):
            continue
        out.append(
            dict(
                id=f.id,
                kind=f.kind,
                code=FAULT_CODES.get(f.kind, f.kind.upper()),
                start_s=round(f.start_s, 6),
                end_s=None if math.isinf(f.end_s) else round(f.end_s, 6),
                source=f.source,
            )
        )
    return out


def _span(log_: dict[str, np.ndarray]) -> slice:
    """Steps from just before the robot first moved or the gun first opened to just after
    the last: the film and the cycle figures cover the robot's work, not the waiting."""
    q, gun = log_["q_rad"], log_["gun_on"]
    n = len(q)
    if n < 2:
        return slice(0, n)
    active = np.zeros(n, dtype=bool)
    active[1:] = np.any(q[1:] != q[:-1], axis=1)
    active |= gun
    idx = np.flatnonzero(active)
    if len(idx) == 0:
        return slice(0, 2)
    return slice(max(int(idx[0]) - 1, 0), min(int(idx[-1]) + 2, n))


def cycle_result(
    cycle: PartCycle,
    recipe: RecipeDoc | None,
    fk_robot,
    faults: FaultInjector,
    *,
    spacing_mm: float = SPACING_MM,
    qc_margin_pct: float = QC_MARGIN_PCT,
) -> PartOutcome:
    """The film, metrics and QC of a finished cycle (see the module docstring).

    Parameters
    ----------
    cycle : PartCycle
        Finished (``t_end_s`` and ``program`` set).
    recipe : RecipeDoc or None
        What the cell ran (gun, finish, prediction); None: no film is computed.
    fk_robot : sim.robot.RobotSim
        For forward kinematics; not the one the node steps when this runs in a worker.
    faults : FaultInjector
        A snapshot taken when the cycle ended.
    """
    fed = cycle.fed
    arrays = cycle.log_arrays()
    t_end = cycle.t_end_s if cycle.t_end_s is not None else cycle.t_start_s
    metrics = None
    spray: SprayResult | None = None
    if recipe is not None:
        span = _span(arrays)
        t, q, gun = arrays["t_s"][span], arrays["q_rad"][span], arrays["gun_on"][span]
        if len(t) < 2:  # nothing logged: a still robot over two steps
            q0 = arrays["q_rad"][-1] if len(arrays["q_rad"]) else fk_robot.joint_positions()
            t = np.array([cycle.t_start_s, cycle.t_start_s + 0.004])
            q = np.tile(q0, (2, 1))
            gun = np.zeros(2, dtype=bool)
        spray = spray_from_joints(
            fk_robot,
            t,
            q,
            gun,
            fed.part,
            cycle.T_world_part,
            recipe.gun,
            recipe.finish,
            faults=faults,
            cell_id=cycle.cell,
            spacing_mm=spacing_mm,
        )
        metrics = spray.metrics_dict()
        grid = spray.samples.grid
        arrays["top_map_um"] = spray.top_map_um().astype(np.float32)
        arrays["grid_x0_y0_spacing_mm"] = np.array([grid.x0_mm, grid.y0_mm, grid.spacing_mm])
        arrays["target_tol"] = np.array(
            [recipe.finish.target_dft_um, recipe.finish.tolerance_pct], dtype=float
        )
    predicted = dict(recipe.metrics) if recipe is not None else None
    qc = qc_verdict(metrics, predicted, cycle.program, qc_margin_pct)
    pose = cycle.pose
    result: dict[str, Any] = dict(
        cell=cycle.cell,
        index=cycle.index,
        part_id=cycle.part_id,
        expected_spec=fed.expected_spec,
        spec=fed.spec,
        label=fed.label,
        damage=fed.damage,
        placement_error=dict(
            dx_mm=round(fed.offset[0], 4), dy_mm=round(fed.offset[1], 4), dtheta_deg=fed.offset[2]
        ),
        t_start_s=round(cycle.t_start_s, 6),
        t_end_s=round(t_end, 6),
        program=cycle.program,
        recipe=None if recipe is None else dict(id=recipe.id, version=recipe.version),
        metrics=metrics,
        predicted=predicted,
        qc=qc,
        gun_on_s=round(float(np.sum(arrays["gun_on"][:-1] * np.diff(arrays["t_s"]))), 4)
        if len(arrays["t_s"]) > 1
        else 0.0,
        faults=_fault_windows(faults, cycle.cell, cycle.t_start_s, t_end),
        collisions=[
            dict(t_s=round(c.t_s, 6), link=c.link, obstacle=c.obstacle, text=c.text)
            for c in cycle.collisions
        ],
        truth=dict(
            station=dict(
                pose=pose.to_dict(), T_world_part=np.round(cycle.T_world_part, 6).tolist()
            ),
            camera=cycle.camera,
        ),
    )
    return PartOutcome(result, arrays, spray)


__all__ = ["QC_MARGIN_PCT", "PartOutcome", "RecipeBook", "cycle_result", "qc_verdict"]
