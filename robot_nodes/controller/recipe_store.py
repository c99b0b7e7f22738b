"""Approved recipe versions a cell may run, and the gun poses of a recipe's program.

The cell keeps the recipe documents it may execute in a folder (``recipe_dir``): YAML files
as written by :func:`recipes.document.save`, any names. A ``SprayProgram`` only names its
recipe version and hash; the cell compares the program against the stored document, so a
program whose waypoints were changed after approval is refused even though its signature
(which covers the recipe version, not the message) still verifies.

Tool frame of a recipe waypoint: z = ``axis`` (spray direction), x = ``fan_x`` made
orthogonal to z, y = z x x; position in metres.
"""

from __future__ import annotations

import logging
import threading
from collections.abc import Callable
from pathlib import Path
from typing import Any

import numpy as np

from recipes.document import RecipeDoc
from recipes.document import load as load_recipe
from recipes.errors import InvalidInputError
from recipes.program import Program
from robot_nodes.convert import header_msg, matrix_to_pose

log = logging.getLogger(__name__)


def recipe_tool_poses(program: Program) -> np.ndarray:
    """Gun TCP poses of a recipe program in the part frame.

    Parameters
    ----------
    program : Program
        Waypoints in mm with spray axis and fan axis.

    Returns
    -------
    (W, 4, 4) ndarray
        Metres.

    Raises
    ------
    InvalidInputError
        For a zero spray axis or a fan axis parallel to it.
    """
    z = np.asarray(program.axis, dtype=float)
    zn = np.linalg.norm(z, axis=1)
    if not (zn > 1e-9).all():
        i = int(np.argmin(zn))
        raise InvalidInputError(f"program.waypoints[{i}].axis", "is zero")
    z = z / zn[:, None]
    x = np.asarray(program.fan_x, dtype=float)
    x = x - np.sum(x * z, axis=1, keepdims=True) * z
    xn = np.linalg.norm(x, axis=1)
    if not (xn > 1e-9).all():
        i = int(np.argmin(xn))
        raise InvalidInputError(f"program.waypoints[{i}].fan_x", "is parallel to the spray axis")
    x = x / xn[:, None]
    T = np.zeros((len(z), 4, 4))
    T[:, :3, 0] = x
    T[:, :3, 1] = np.cross(z, x)
    T[:, :3, 2] = z
    T[:, :3, 3] = np.asarray(program.position_mm, dtype=float) / 1000.0
    T[:, 3, 3] = 1.0
    return T


def program_message_from_recipe(
    message_type: Callable[[str], type],
    doc: RecipeDoc,
    *,
    program_id: str,
    signature: bytes,
    signing_key_id: str,
    part_id: str = "",
    frame_id: str = "part",
    T_frame_part: np.ndarray | None = None,
    stamp_ns: int = 0,
) -> Any:
    """The ``SprayProgram`` that dispatches a signed recipe version to a cell.

    Parameters
    ----------
    message_type : callable
        ``bus.message_type`` or :func:`robot_nodes.bus.dds_types.get_type`.
    doc : RecipeDoc
        With its content hash set.
    program_id, part_id, signing_key_id : str
    signature : bytes
        Raw 64-byte approval signature.
    frame_id : str
        ``"part"`` (waypoints in the part frame; the cell places them at its station) or the
        robot base frame, with ``T_frame_part`` the located part's pose in it.
    T_frame_part : (4, 4) array, optional
        Identity when None.
    stamp_ns : int
        Header stamp (wall clock); 0 = unknown.
    """
    program = doc.program.to_program()
    T = recipe_tool_poses(program)
    if T_frame_part is not None:
        T = np.asarray(T_frame_part, dtype=float) @ T
    speed = [float(v) for v in program.speed_mm_s]
    trigger = [bool(v) for v in program.trigger]
    trigger[0] = False
    digest = doc.content_hash or doc.compute_hash()
    return message_type("coatshare_interfaces/msg/SprayProgram")(
        header=header_msg(message_type, stamp_ns, frame_id),
        program_id=program_id,
        part_id=part_id,
        recipe_id=doc.id,
        recipe_version=int(doc.version),
        recipe_hash=digest.removeprefix("sha256:"),
        signing_key_id=signing_key_id,
        signature=list(bytes(signature)),
        frame_id=frame_id,
        waypoints=[matrix_to_pose(message_type, Ti) for Ti in T],
        tool_speed_mm_s=speed,
        trigger=trigger,
    )


class RecipeStore:
    """Recipe documents by (id, version), from a folder and/or added in memory.

    Parameters
    ----------
    folder : path, optional
        Scanned for ``*.yaml`` / ``*.yml`` at start and again when a recipe is not found
        (so recipes synced into the folder are picked up without a restart). Files that
        fail to load (bad YAML, hash that does not match the content) are skipped and
        logged.
    """

    def __init__(self, folder: str | Path | None = None) -> None:
        self.folder = Path(folder) if folder is not None else None
        self._docs: dict[tuple[str, int], RecipeDoc] = {}
        self._mtimes: dict[Path, float] = {}
        self._lock = threading.Lock()
        if self.folder is not None:
            self.rescan()

    def add(self, doc: RecipeDoc) -> None:
        """Make ``doc`` known (it must carry a content hash matching its content)."""
        if not doc.content_hash:
            raise InvalidInputError("content_hash", f"recipe '{doc.id}' v{doc.version} has none")
        if doc.content_hash != doc.compute_hash():
            raise InvalidInputError(
                "content_hash",
                f"recipe '{doc.id}' v{doc.version}: stored hash does not match the content",
            )
        with self._lock:
            self._docs[(doc.id, int(doc.version))] = doc

    def rescan(self) -> int:
        """Load new or changed files from the folder; returns how many were loaded."""
        if self.folder is None or not self.folder.is_dir():
            return 0
        loaded = 0
        for path in sorted([*self.folder.glob("*.yaml"), *self.folder.glob("*.yml")]):
            try:
                mtime = path.stat().st_mtime
            except OSError:
                continue
            if self._mtimes.get(path) == mtime:
                continue
            self._mtimes[path] = mtime
            try:
                doc = load_recipe(path)
                self.add(doc)
                loaded += 1
            except InvalidInputError as exc:
                log.warning("recipe file skipped: %s", exc)
        return loaded

    def get(self, recipe_id: str, version: int) -> RecipeDoc | None:
        """The document of a recipe version, or None when the cell does not have it."""
        key = (recipe_id, int(version))
        with self._lock:
            doc = self._docs.get(key)
        if doc is None and self.rescan():
            with self._lock:
                doc = self._docs.get(key)
        return doc

    def versions(self, recipe_id: str) -> list[int]:
        with self._lock:
            return sorted(v for (rid, v) in self._docs if rid == recipe_id)

    def __len__(self) -> int:
        return len(self._docs)


__all__ = ["RecipeStore", "program_message_from_recipe", "recipe_tool_poses"]
