"""The recipe document: YAML, ``schema: coatshare.recipe/v1``.

It holds everything needed to re-create and check a spray program: the part reference,
the finish, the gun, the planner parameters and the values the solver chose, the program
itself (waypoints in the part frame), the predicted metrics, a content hash and the fields
an approval fills in. ``dump(load(text)) == text`` byte for byte: the file is written by
one deterministic dumper (block style, waypoint rows in flow style, floats in Python's
shortest round-trip form).

The content hash is SHA-256 over a canonical JSON form of everything but the hash itself,
the metrics (a prediction, recomputable) and the approval block (which signs the hash).
"""

from __future__ import annotations

import hashlib
import json
from pathlib import Path
from typing import Any, Literal

import numpy as np
import yaml
from pydantic import BaseModel, ConfigDict, Field, ValidationError

from recipes.errors import InvalidInputError
from recipes.finish import Finish
from recipes.gun import GunModel
from recipes.planner.params import PlannerParams
from recipes.program import KIND_NAMES, Program

SCHEMA = "coatshare.recipe/v1"
WAYPOINT_COLUMNS = [
    "x_mm",
    "y_mm",
    "z_mm",
    "ax",
    "ay",
    "az",
    "fx",
    "fy",
    "fz",
    "speed_mm_s",
    "trigger",
    "kind",
]
_POS_DECIMALS = 4
_DIR_DECIMALS = 7


class PartRef(BaseModel):
    """Where the part comes from: a template with parameters, or a file with its hash."""

    model_config = ConfigDict(extra="forbid")

    kind: Literal["template", "dxf", "mesh"]
    name: str
    template: str | None = None
    params: dict[str, float | str] = Field(default_factory=dict)
    path: str | None = None
    sha256: str | None = None
    thickness_mm: float | None = None


class ProgramDoc(BaseModel):
    model_config = ConfigDict(extra="forbid")

    frame: Literal["part"] = "part"
    coats: int = Field(1, ge=1)
    columns: list[str] = Field(default_factory=lambda: list(WAYPOINT_COLUMNS))
    waypoints: list[list[float]]

    def to_program(self) -> Program:
        if self.columns != WAYPOINT_COLUMNS:
            raise InvalidInputError("program.columns", f"expected {WAYPOINT_COLUMNS}")
        width = len(WAYPOINT_COLUMNS)
        for i, row in enumerate(self.waypoints):
            if len(row) != width:
                raise InvalidInputError(
                    f"program.waypoints[{i}]",
                    f"has {len(row)} numbers, expected {width} ({', '.join(WAYPOINT_COLUMNS)})",
                )
        rows = np.asarray(self.waypoints, dtype=float).reshape(-1, width)
        bad = np.argwhere(~np.isfinite(rows))
        if bad.size:
            i, j = (int(k) for k in bad[0])
            raise InvalidInputError(
                f"program.waypoints[{i}].{WAYPOINT_COLUMNS[j]}", f"not finite: {rows[i, j]}"
            )
        for col, allowed in ((10, {0.0, 1.0}), (11, {float(k) for k in KIND_NAMES})):
            off = np.flatnonzero(~np.isin(rows[:, col], list(allowed)))
            if off.size:
                i = int(off[0])
                raise InvalidInputError(
                    f"program.waypoints[{i}].{WAYPOINT_COLUMNS[col]}",
                    f"expected one of {sorted(int(a) for a in allowed)}, got {rows[i, col]:g}",
                )
        return Program(
            rows[:, 0:3],
            rows[:, 3:6],
            rows[:, 6:9],
            rows[:, 9],
            rows[:, 10].astype(bool),
            rows[:, 11].astype(np.int64),
        )

    @staticmethod
    def from_program(program: Program, coats: int) -> ProgramDoc:
        rows = []
        for i in range(len(program)):
            rows.append(
                [_r(v, _POS_DECIMALS) for v in program.position_mm[i]]
                + [_r(v, _DIR_DECIMALS) for v in program.axis[i]]
                + [_r(v, _DIR_DECIMALS) for v in program.fan_x[i]]
                + [
                    _r(program.speed_mm_s[i], _POS_DECIMALS),
                    1 if program.trigger[i] else 0,
                    int(program.kind[i]),
                ]
            )
        return ProgramDoc(coats=coats, waypoints=rows)


class Approval(BaseModel):
    model_config = ConfigDict(extra="forbid")

    status: Literal["draft", "pending", "approved", "rejected"] = "draft"
    approver: str | None = None
    approved_at: str | None = None
    key_id: str | None = None
    signature: str | None = None


class RecipeDoc(BaseModel):
    """A recipe version."""

    model_config = ConfigDict(extra="forbid", populate_by_name=True)

    schema_: Literal["coatshare.recipe/v1"] = Field(SCHEMA, alias="schema")
    id: str = Field(min_length=1)
    version: int = Field(1, ge=1)
    part: PartRef
    finish: Finish
    gun: GunModel
    planner: PlannerParams
    chosen: dict[str, Any] = Field(default_factory=dict)
    program: ProgramDoc
    metrics: dict[str, Any] = Field(default_factory=dict)
    content_hash: str = ""
    approval: Approval = Field(default_factory=Approval)

    def canonical_content(self) -> bytes:
        data = self.model_dump(
            mode="json", by_alias=True, exclude={"content_hash", "metrics", "approval"}
        )
        return json.dumps(data, sort_keys=True, separators=(",", ":"), ensure_ascii=True).encode()

    def compute_hash(self) -> str:
        return "sha256:" + hashlib.sha256(self.canonical_content()).hexdigest()

    def with_hash(self) -> RecipeDoc:
        return self.model_copy(update={"content_hash": self.compute_hash()})


def _r(value: float, decimals: int) -> float:
    out = round(float(value), decimals)
    return 0.0 if out == 0 else out  # no negative zero in files


# --- YAML ------------------------------------------------------------------------------
class _Dumper(yaml.SafeDumper):
    pass


def _represent_list(dumper: yaml.SafeDumper, data: list) -> yaml.Node:
    flow = all(isinstance(v, int | float | bool) for v in data) and len(data) > 0
    return dumper.represent_sequence("tag:yaml.org,2002:seq", data, flow_style=flow)


def _represent_float(dumper: yaml.SafeDumper, data: float) -> yaml.Node:
    if data != data or data in (float("inf"), float("-inf")):
        return yaml.SafeDumper.represent_float(dumper, data)
    text = repr(float(data))
    if "e" in text and "." not in text.split("e")[0]:
        mant, exp = text.split("e")
        text = f"{mant}.0e{exp}"
    return dumper.represent_scalar("tag:yaml.org,2002:float", text)


_Dumper.add_representer(list, _represent_list)
_Dumper.add_representer(float, _represent_float)


def dumps(doc: RecipeDoc) -> str:
    data = doc.model_dump(mode="json", by_alias=True)
    return yaml.dump(data, Dumper=_Dumper, sort_keys=False, allow_unicode=True, width=120)


def loads(text: str, source: str = "<recipe>", *, check_hash: bool = True) -> RecipeDoc:
    try:
        data = yaml.safe_load(text)
    except yaml.YAMLError as exc:
        raise InvalidInputError("(yaml)", f"not valid YAML: {exc}", source=source) from None
    if not isinstance(data, dict):
        raise InvalidInputError("(root)", "expected a mapping", source=source)
    if data.get("schema") != SCHEMA:
        raise InvalidInputError(
            "schema", f"expected '{SCHEMA}', got {data.get('schema')!r}", source=source
        )
    try:
        doc = RecipeDoc.model_validate(data)
    except ValidationError as exc:
        raise _validation_error(exc, source) from None
    try:
        doc.program.to_program()
    except InvalidInputError as exc:
        raise InvalidInputError(exc.field, exc.reason, source=source) from None
    if check_hash and not doc.content_hash:
        raise InvalidInputError(
            "content_hash",
            "missing or empty: a recipe file must carry the SHA-256 of its content",
            source=source,
        )
    if check_hash and doc.content_hash != doc.compute_hash():
        raise InvalidInputError(
            "content_hash",
            f"{doc.content_hash} does not match the content ({doc.compute_hash()}): "
            "the recipe was changed after it was hashed",
            source=source,
        )
    return doc


def _validation_error(exc: ValidationError, source: str) -> InvalidInputError:
    problems = []
    for err in exc.errors():
        loc = "".join(f"[{p}]" if isinstance(p, int) else f".{p}" for p in err["loc"]).lstrip(".")
        problems.append((loc or "(root)", err["msg"]))
    field, reason = problems[0]
    if len(problems) > 1:
        reason += "; also " + "; ".join(f"{f}: {r}" for f, r in problems[1:4])
    return InvalidInputError(field, reason, source=source)


def load(path: str | Path, *, check_hash: bool = True) -> RecipeDoc:
    path = Path(path)
    try:
        text = path.read_text(encoding="utf-8")
    except OSError as exc:
        raise InvalidInputError("path", f"cannot read: {exc.strerror}", source=str(path)) from None
    return loads(text, str(path), check_hash=check_hash)


def save(doc: RecipeDoc, path: str | Path) -> None:
    Path(path).write_text(dumps(doc), encoding="utf-8")
