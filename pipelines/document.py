"""The pipeline document: YAML or JSON, ``schema: coatshare.pipeline/v1``.

A pipeline version holds its blocks (id, catalog type, parameters, editor position, and
optionally a time-out or retry count that overrides the catalog's), the wires between
ports (``"block.port"`` to ``"block.port"``; the reserved block ids ``input`` and
``output`` stand for the pipeline's declared inputs and outputs), the failure policy, a
content hash and the approval block that recipes also carry.

The content hash is SHA-256 over a canonical JSON form of everything but the hash itself,
the approval (which signs the hash) and the blocks' editor positions: moving a block in
the editor changes the layout, not what runs, and needs no new approval. ``dumps(loads(t))
== t`` byte for byte for every file this module wrote (one deterministic dumper: block
style, ports/wires/positions as one-line mappings, floats in Python's shortest form).

Parameters are stored as the engineer set them; the catalog's parameter model fills
defaults and checks ranges when the document is validated.
"""

from __future__ import annotations

import hashlib
import json
from pathlib import Path
from typing import Any, Literal

import yaml
from pydantic import BaseModel, ConfigDict, Field, ValidationError

from pipelines.types import PortType
from recipes.document import Approval
from recipes.errors import InvalidInputError, NotFoundError

SCHEMA = "coatshare.pipeline/v1"
#: block ids that name the pipeline's own inputs and outputs in wires
INPUT, OUTPUT = "input", "output"
FailurePolicy = Literal["hold", "reject", "stop_cell"]

_ID = r"^[A-Za-z][A-Za-z0-9_-]{0,63}$"
_NAME = r"^[A-Za-z][A-Za-z0-9_]{0,63}$"


class Position(BaseModel):
    """Where the editor draws the block (canvas units, not part of the content hash)."""

    model_config = ConfigDict(extra="forbid")

    x: float = 0.0
    y: float = 0.0


class BlockDoc(BaseModel):
    """One block of a pipeline: an instance of a catalog block type."""

    model_config = ConfigDict(extra="forbid")

    id: str = Field(pattern=_ID)
    type: str = Field(min_length=1, max_length=200)
    params: dict[str, Any] = Field(default_factory=dict)
    position: Position = Field(default_factory=Position)
    timeout_s: float | None = Field(None, gt=0, le=3600)
    retries: int | None = Field(None, ge=0, le=5)


class Wire(BaseModel):
    """A wire from an output port to an input port, each written ``block.port``."""

    model_config = ConfigDict(extra="forbid", populate_by_name=True)

    from_: str = Field(alias="from", min_length=1, max_length=200)
    to: str = Field(min_length=1, max_length=200)

    def __str__(self) -> str:
        return f"{self.from_} -> {self.to}"


class PortSpec(BaseModel):
    """A declared input or output of the pipeline (a sub-pipeline block's ports)."""

    model_config = ConfigDict(extra="forbid")

    name: str = Field(pattern=_NAME)
    type: PortType
    required: bool = True
    description: str = ""


class PipelineDoc(BaseModel):
    """A pipeline version."""

    model_config = ConfigDict(extra="forbid", populate_by_name=True)

    schema_: Literal["coatshare.pipeline/v1"] = Field(SCHEMA, alias="schema")
    id: str = Field(pattern=_ID)
    version: int = Field(1, ge=1)
    description: str = ""
    failure_policy: FailurePolicy = "hold"
    inputs: list[PortSpec] = Field(default_factory=list)
    outputs: list[PortSpec] = Field(default_factory=list)
    blocks: list[BlockDoc] = Field(default_factory=list)
    wires: list[Wire] = Field(default_factory=list)
    content_hash: str = ""
    approval: Approval = Field(default_factory=Approval)

    @property
    def key(self) -> str:
        """``id@version``: how sub-pipeline block types and messages name this version."""
        return f"{self.id}@{self.version}"

    def block(self, block_id: str) -> BlockDoc | None:
        return next((b for b in self.blocks if b.id == block_id), None)

    def canonical_content(self) -> bytes:
        data = self.model_dump(
            mode="json", by_alias=True, exclude={"content_hash": True, "approval": True}
        )
        for block in data["blocks"]:
            block.pop("position", None)
        return json.dumps(data, sort_keys=True, separators=(",", ":"), ensure_ascii=True).encode()

    def compute_hash(self) -> str:
        return "sha256:" + hashlib.sha256(self.canonical_content()).hexdigest()

    def with_hash(self) -> PipelineDoc:
        return self.model_copy(update={"content_hash": self.compute_hash()})


# --- writing ---------------------------------------------------------------------------
class _Flow(dict):
    """A mapping written on one line."""


class _Dumper(yaml.SafeDumper):
    pass


def _represent_list(dumper: yaml.SafeDumper, data: list) -> yaml.Node:
    flow = len(data) > 0 and all(isinstance(v, int | float | bool | str) for v in data)
    return dumper.represent_sequence("tag:yaml.org,2002:seq", data, flow_style=flow)


def _represent_flow(dumper: yaml.SafeDumper, data: _Flow) -> yaml.Node:
    return dumper.represent_mapping("tag:yaml.org,2002:map", dict(data), flow_style=True)


_Dumper.add_representer(list, _represent_list)
_Dumper.add_representer(_Flow, _represent_flow)


def to_data(doc: PipelineDoc) -> dict[str, Any]:
    """The document as plain data in file order (optional block settings left out if unset)."""
    data = doc.model_dump(mode="json", by_alias=True)
    data["inputs"] = [_port_data(p) for p in data["inputs"]]
    data["outputs"] = [_port_data(p) for p in data["outputs"]]
    blocks = []
    for block in data["blocks"]:
        out = {"id": block["id"], "type": block["type"], "params": block["params"]}
        out["position"] = _Flow(block["position"])
        for key in ("timeout_s", "retries"):
            if block[key] is not None:
                out[key] = block[key]
        blocks.append(out)
    data["blocks"] = blocks
    data["wires"] = [_Flow(w) for w in data["wires"]]
    return data


def _port_data(port: dict) -> _Flow:
    out = _Flow(name=port["name"], type=port["type"], required=port["required"])
    if port["description"]:
        out["description"] = port["description"]
    return out


def dumps(doc: PipelineDoc, fmt: Literal["yaml", "json"] = "yaml") -> str:
    data = to_data(doc)
    if fmt == "json":
        return json.dumps(data, indent=2, ensure_ascii=False) + "\n"
    return yaml.dump(data, Dumper=_Dumper, sort_keys=False, allow_unicode=True, width=100)


# --- reading ---------------------------------------------------------------------------
class DocumentError(InvalidInputError):
    """A file that is not a pipeline document; ``problems`` lists every (field, reason)."""

    def __init__(self, problems: list[tuple[str, str]], *, source: str | None = None) -> None:
        self.problems = problems
        field, reason = problems[0]
        if len(problems) > 1:
            reason = f"{reason} (and {len(problems) - 1} more)"
        super().__init__(field, reason, source=source)


def loads(text: str, source: str = "<pipeline>", *, check_hash: bool = True) -> PipelineDoc:
    """Parse a YAML or JSON pipeline document; every structural problem at once."""
    try:
        data = yaml.safe_load(text)
    except yaml.YAMLError as exc:
        raise DocumentError([("(yaml)", f"not valid YAML or JSON: {exc}")], source=source) from None
    return from_data(data, source, check_hash=check_hash)


def from_data(data: Any, source: str = "<pipeline>", *, check_hash: bool = True) -> PipelineDoc:
    if not isinstance(data, dict):
        raise DocumentError([("(root)", "expected a mapping")], source=source)
    if data.get("schema") != SCHEMA:
        got = data.get("schema")
        raise DocumentError([("schema", f"expected '{SCHEMA}', got {got!r}")], source=source)
    try:
        doc = PipelineDoc.model_validate(data)
    except ValidationError as exc:
        raise DocumentError(_pydantic_problems(exc), source=source) from None
    if check_hash and doc.content_hash and doc.content_hash != doc.compute_hash():
        reason = (
            f"{doc.content_hash} does not match the content ({doc.compute_hash()}): "
            "the pipeline was changed after it was hashed"
        )
        raise DocumentError([("content_hash", reason)], source=source)
    return doc


def _pydantic_problems(exc: ValidationError) -> list[tuple[str, str]]:
    out = []
    for err in exc.errors():
        loc = "".join(f"[{p}]" if isinstance(p, int) else f".{p}" for p in err["loc"]).lstrip(".")
        out.append((loc or "(root)", err["msg"]))
    return out


def load(path: str | Path, *, check_hash: bool = True) -> PipelineDoc:
    path = Path(path)
    try:
        text = path.read_text(encoding="utf-8")
    except OSError as exc:
        raise InvalidInputError("path", f"cannot read: {exc.strerror}", source=str(path)) from None
    return loads(text, str(path), check_hash=check_hash)


def save(doc: PipelineDoc, path: str | Path) -> None:
    """Write ``doc``: JSON if the file name ends in ``.json``, YAML otherwise."""
    path = Path(path)
    fmt: Literal["yaml", "json"] = "json" if path.suffix.lower() == ".json" else "yaml"
    path.write_text(dumps(doc, fmt), encoding="utf-8")


LIBRARY_DIR = Path(__file__).resolve().parent / "library"


def library_paths() -> list[Path]:
    """The pipeline documents shipped with the engine (``pipelines/library/*.yaml``)."""
    return sorted(LIBRARY_DIR.glob("*.yaml"))


def load_library(name: str) -> PipelineDoc:
    """A shipped pipeline by file stem, e.g. ``load_library("spray_default")``."""
    path = LIBRARY_DIR / f"{name}.yaml"
    if not path.is_file():
        raise NotFoundError("pipeline library document", name, [p.stem for p in library_paths()])
    return load(path)
