"""Builders for the cell controller tests: signed recipes, programs, configurations."""

from __future__ import annotations

import time
from functools import lru_cache
from pathlib import Path
from typing import Any

import numpy as np
import yaml

from recipes.approval import ApprovalKeyPair, approve_recipe, generate_key_pair
from recipes.document import PartRef, ProgramDoc, RecipeDoc
from recipes.document import save as save_recipe
from recipes.planner.params import PlannerParams
from recipes.program import MOVE, STROKE, TURN, Program
from recipes.recipe import load_finish, load_gun, plan_from_spec
from robot_nodes.bus import dds_types
from robot_nodes.controller import CellConfig, load_cell_config, program_message_from_recipe

KEY = generate_key_pair(bytes(range(32)))
"""The approval key of the tests (fixed seed)."""
OTHER_KEY = generate_key_pair(bytes(range(1, 33)))
_PROGRAM_FIELDS = ("position_mm", "axis", "fan_x", "speed_mm_s", "trigger", "kind")


def raster_program(
    *,
    strokes: int = 2,
    length_mm: float = 200.0,
    pitch_mm: float = 40.0,
    lead_mm: float = 60.0,
    speed_mm_s: float = 300.0,
    y0_mm: float = 20.0,
    z_mm: float = 218.0,
) -> Program:
    """A face raster in the part frame: strokes along x, gun down, straight gun-off run-up and
    overtravel of ``lead_mm`` and a gun-off step-over between strokes."""
    pts: list[tuple[float, float]] = []
    trig: list[bool] = []
    kind: list[int] = []
    for i in range(strokes):
        y = y0_mm + i * pitch_mm
        a, b = (0.0, length_mm) if i % 2 == 0 else (length_mm, 0.0)
        d = 1.0 if b > a else -1.0
        start = (a - d * lead_mm, y)
        if i == 0:
            pts.append(start)
            trig.append(False)
            kind.append(MOVE)
        else:
            pts.append(start)  # step-over from the previous overtravel
            trig.append(False)
            kind.append(TURN)
        pts += [(a, y), (b, y), (b + d * lead_mm, y)]
        trig += [False, True, False]
        kind += [TURN, STROKE, TURN]
    n = len(pts)
    position = np.array([[x, y, z_mm] for x, y in pts])
    return Program(
        position,
        np.tile([0.0, 0.0, -1.0], (n, 1)),
        np.tile([0.0, 1.0, 0.0], (n, 1)),
        np.full(n, speed_mm_s),
        np.array(trig),
        np.array(kind),
    )


def recipe_doc(program: Program | None = None, recipe_id: str = "rect_200x120-face") -> RecipeDoc:
    """A recipe document (hashed, not approved) carrying ``program`` (a raster by default)."""
    doc = RecipeDoc(
        id=recipe_id,
        version=1,
        part=PartRef(
            kind="template",
            name="rect_200x120",
            template="rect",
            params={"width_mm": 200.0, "height_mm": 120.0},
        ),
        finish=load_finish("benchmark"),
        gun=load_gun(None),
        planner=PlannerParams(),
        program=ProgramDoc.from_program(program or raster_program(), 1),
    )
    return doc.with_hash()


def signed_recipe(program: Program | None = None, key: ApprovalKeyPair = KEY) -> RecipeDoc:
    """:func:`recipe_doc`, approved and signed with ``key``."""
    return approve_recipe(recipe_doc(program), key.signing_key_hex, "operator")


def face_program(program: Program) -> Program:
    """The face raster of a planned program: up to the overtravel of the last stroke, before
    the move to the edge passes."""
    moves = np.flatnonzero(program.kind[1:] == MOVE)
    n = int(moves[0]) + 2 if len(moves) else len(program)
    return Program(*(getattr(program, f)[:n] for f in _PROGRAM_FIELDS))


@lru_cache(maxsize=8)
def planned_recipe(part_spec: str = "door", *, edge_passes: bool = True) -> RecipeDoc:
    """A recipe planned by the spray core for ``part_spec`` (hashed, not approved); with or
    without the edge passes (cached for the session: planning takes seconds)."""
    doc, _ = plan_from_spec(part_spec, "benchmark", params=PlannerParams(edge_passes=edge_passes))
    return doc.with_hash()


def program_msg(
    doc: RecipeDoc,
    *,
    program_id: str = "prog-1",
    key: ApprovalKeyPair = KEY,
    signature: bytes | None = None,
    frame_id: str = "part",
    T_frame_part: np.ndarray | None = None,
    stamp_ns: int | None = None,
    message_type: Any = dds_types.get_type,
) -> Any:
    """SprayProgram of a signed recipe (signature from its approval block by default)."""
    sig = bytes.fromhex(doc.approval.signature or "") if signature is None else signature
    return program_message_from_recipe(
        message_type,
        doc,
        program_id=program_id,
        signature=sig,
        signing_key_id=key.key_id,
        part_id=f"part-{program_id}",
        frame_id=frame_id,
        T_frame_part=T_frame_part,
        stamp_ns=time.time_ns() if stamp_ns is None else stamp_ns,
    )


def write_cell_setup(
    folder: Path,
    docs: list[RecipeDoc],
    *,
    cell_id: str = "t1",
    key: ApprovalKeyPair = KEY,
    overrides: dict[str, Any] | None = None,
) -> Path:
    """Write a cell config, its public key and recipe folder; returns the config path."""
    folder.mkdir(parents=True, exist_ok=True)
    recipes = folder / "recipes"
    recipes.mkdir(exist_ok=True)
    for doc in docs:
        save_recipe(doc, recipes / f"{doc.id}-v{doc.version}.yaml")
    (folder / "approval.pub").write_text(key.public_key_hex + "\n", encoding="utf-8")
    data: dict[str, Any] = {
        "schema": "coatshare.cell/v1",
        "cell_id": cell_id,
        "approval_key": "approval.pub",
        "recipe_dir": "recipes",
    }
    data.update(overrides or {})
    path = folder / "cell.yaml"
    path.write_text(yaml.safe_dump(data), encoding="utf-8")
    return path


def cell_config(**overrides: Any) -> CellConfig:
    return load_cell_config(None, cell_id="t1", **overrides)
