"""Block declarations and the catalog that holds them.

A declaration says what a block type *is* (typed ports, a parameter model, a paragraph of
documentation, whether it has side effects, its default time-out and retries), never how it
runs: implementations live with the capability they wrap and are bound by the process that
runs the pipeline. The cloud validates documents with declarations alone.

A pipeline version with declared inputs and outputs becomes a block type too,
``pipeline:<id>@<version>`` (:func:`pipeline_decl`); a catalog learns it with
:meth:`Catalog.with_pipelines`.
"""

from __future__ import annotations

from collections.abc import Iterable, Iterator
from dataclasses import dataclass, field
from typing import Any, Literal

from pydantic import BaseModel, ConfigDict

from pipelines.document import PipelineDoc
from pipelines.types import TYPE_DESCRIPTIONS, PortType
from recipes.errors import InvalidInputError

#: who executes a block: a bound implementation, or the runner itself
Runtime = Literal["bound", "branch", "merge", "ask", "pipeline"]
PIPELINE_PREFIX = "pipeline:"


class NoParams(BaseModel):
    """A block without parameters."""

    model_config = ConfigDict(extra="forbid")


@dataclass(frozen=True)
class Port:
    """A typed input or output port.

    ``type_from`` (outputs only) makes a pass-through port: its type is the type wired into
    the first of the named inputs that has a wire (``Any`` when none has).
    """

    name: str
    type: PortType
    required: bool = True
    description: str = ""
    type_from: tuple[str, ...] = ()

    def to_json(self) -> dict[str, Any]:
        out: dict[str, Any] = {
            "name": self.name,
            "type": self.type.value,
            "required": self.required,
            "description": self.description,
        }
        if self.type_from:
            out["type_from"] = list(self.type_from)
        return out


@dataclass(frozen=True)
class BlockDecl:
    """What a block type is: ports, parameter model, documentation, run-time rules.

    ``join`` says when a block on a branch runs: ``"all"`` (default) skips it when any wired
    input comes from a branch not taken; ``"any"`` runs it when at least one wired input
    arrived (blocks that close a branch, such as ``notify``).
    """

    type: str
    description: str
    inputs: tuple[Port, ...]
    outputs: tuple[Port, ...]
    params: type[BaseModel] = NoParams
    side_effect_free: bool = True
    timeout_s: float = 5.0
    retries: int = 0
    join: Literal["all", "any"] = "all"
    runtime: Runtime = "bound"
    pipeline: PipelineDoc | None = field(default=None, compare=False, repr=False)

    def __post_init__(self) -> None:
        where = f"block type '{self.type}'"
        if self.retries and not self.side_effect_free:
            raise InvalidInputError(where, "retries are only for side-effect-free blocks")
        if not self.description.strip() or "\n\n" in self.description.strip():
            raise InvalidInputError(where, "needs a one-paragraph description")
        if self.timeout_s <= 0:
            raise InvalidInputError(where, f"timeout_s must be > 0, got {self.timeout_s}")
        for kind, ports in (("input", self.inputs), ("output", self.outputs)):
            names = [p.name for p in ports]
            if len(set(names)) != len(names):
                raise InvalidInputError(where, f"duplicate {kind} port names {names}")
        inputs = {p.name for p in self.inputs}
        for port in self.outputs:
            if not set(port.type_from) <= inputs:
                raise InvalidInputError(where, f"output '{port.name}' follows unknown inputs")

    def input(self, name: str) -> Port | None:
        return next((p for p in self.inputs if p.name == name), None)

    def output(self, name: str) -> Port | None:
        return next((p for p in self.outputs if p.name == name), None)

    @property
    def is_source(self) -> bool:
        """A block with no inputs at all starts a pipeline (a camera, a timer)."""
        return not self.inputs

    def params_schema(self) -> dict[str, Any]:
        return self.params.model_json_schema()

    def to_json(self) -> dict[str, Any]:
        return {
            "type": self.type,
            "description": " ".join(self.description.split()),
            "side_effect_free": self.side_effect_free,
            "timeout_s": self.timeout_s,
            "retries": self.retries,
            "join": self.join,
            "runtime": self.runtime,
            "inputs": [p.to_json() for p in self.inputs],
            "outputs": [p.to_json() for p in self.outputs],
            "params_schema": self.params_schema(),
        }


class Catalog:
    """The block types a document may use, by type name. Immutable: adding makes a new one."""

    def __init__(self, decls: Iterable[BlockDecl] = ()) -> None:
        self._decls: dict[str, BlockDecl] = {}
        for decl in decls:
            if decl.type in self._decls:
                raise InvalidInputError("catalog", f"block type '{decl.type}' declared twice")
            self._decls[decl.type] = decl

    def get(self, block_type: str) -> BlockDecl | None:
        return self._decls.get(block_type)

    def __contains__(self, block_type: object) -> bool:
        return block_type in self._decls

    def __iter__(self) -> Iterator[BlockDecl]:
        return iter(self._decls.values())

    def __len__(self) -> int:
        return len(self._decls)

    def types(self) -> list[str]:
        return list(self._decls)

    def with_blocks(self, *decls: BlockDecl) -> Catalog:
        return Catalog([*self._decls.values(), *decls])

    def with_pipelines(self, *docs: PipelineDoc) -> Catalog:
        """This catalog plus each document as a ``pipeline:<id>@<version>`` block type.

        Any order: a document is added after the given ones it uses as blocks (documents
        that use each other are added anyway; validation reports the loop).
        """
        pending = list(docs)
        given = {pipeline_block_type(d) for d in docs}
        catalog = self
        while pending:
            ready = [
                d
                for d in pending
                if all(b.type in catalog or b.type not in given for b in d.blocks)
            ] or pending[:1]
            for doc in ready:
                catalog = catalog.with_blocks(pipeline_decl(doc, catalog))
            pending = [d for d in pending if all(d is not r for r in ready)]
        return catalog

    def to_json(self) -> dict[str, Any]:
        """The catalog as the editor and ``coatshare pipeline blocks --json`` show it."""
        return {
            "types": {t.value: TYPE_DESCRIPTIONS[t] for t in PortType},
            "compatibility": [
                "a type feeds itself",
                "Bool feeds Number",
                "anything feeds Any",
                "Any feeds anything (scalars are checked when the value arrives)",
            ],
            "blocks": [d.to_json() for d in self._decls.values()],
        }


def pipeline_block_type(doc: PipelineDoc) -> str:
    return f"{PIPELINE_PREFIX}{doc.id}@{doc.version}"


def pipeline_decl(doc: PipelineDoc, catalog: Catalog) -> BlockDecl:
    """The block type of a sub-pipeline: its declared inputs and outputs become ports.

    Side-effect free when every inner block is; its time-out is the sum of the inner
    blocks' (informative: each inner block keeps its own). It has no parameters and is never
    retried as a whole; an inner ``operator.ask`` is not allowed (a hold belongs to the
    pipeline that owns the part).
    """
    inner = [catalog.get(b.type) for b in doc.blocks]
    known = [d for d in inner if d is not None]
    first = doc.description.strip().split("\n\n")[0] if doc.description.strip() else ""
    description = first or f"Sub-pipeline {doc.key}."
    return BlockDecl(
        type=pipeline_block_type(doc),
        description=description,
        inputs=tuple(Port(p.name, p.type, p.required, p.description) for p in doc.inputs),
        outputs=tuple(Port(p.name, p.type, p.required, p.description) for p in doc.outputs),
        side_effect_free=len(known) == len(inner) and all(d.side_effect_free for d in known),
        timeout_s=max(sum(d.timeout_s for d in known), 0.001),
        runtime="pipeline",
        pipeline=doc,
    )
