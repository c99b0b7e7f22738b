"""Validation before deploy: every problem of a document at once, each with where and why.

Rules: duplicate or reserved block ids; unknown block types; parameters outside the block's
schema; retries on blocks with side effects; malformed wires and wires to unknown blocks or
ports or against the port direction; two wires into one input; port type mismatches;
missing required inputs and pipeline outputs; cycles; blocks not connected to the
pipeline's inputs or to a source block; sub-pipelines that contain themselves or hold
parts. Only declarations are needed (the cloud validates without any implementation).
"""

from __future__ import annotations

import difflib
from collections import defaultdict
from dataclasses import dataclass, field
from typing import Any

from pydantic import ValidationError

from pipelines.declarations import PIPELINE_PREFIX, BlockDecl, Catalog, pipeline_block_type
from pipelines.document import INPUT, OUTPUT, PipelineDoc
from pipelines.errors import PipelineInvalidError
from pipelines.graph import PortRef, cycles, forward_closure, topological_order
from pipelines.types import PortType, compatible


@dataclass(frozen=True)
class Problem:
    """One broken rule: ``code`` for programs, ``reason`` for people.

    ``block`` is the block id (``input``/``output`` for the pipeline's own ports), ``port``
    the port name when one is concerned, ``field`` the parameter path for parameter errors.
    """

    code: str
    reason: str
    block: str | None = None
    port: str | None = None
    field: str | None = None
    pipeline: str = ""

    def __str__(self) -> str:
        where = f"pipeline '{self.pipeline}'"
        if self.block is not None:
            where += f", block '{self.block}'"
        return f"{where}: {self.reason}"

    def to_json(self) -> dict[str, Any]:
        return {
            "code": self.code,
            "block": self.block,
            "port": self.port,
            "field": self.field,
            "reason": self.reason,
            "message": str(self),
        }


@dataclass
class Analysis:
    """What validation learned: the problems, and for a valid document its wiring and order.

    ``into`` maps each wired input (``block.port``, or ``output.<name>``) to the output that
    feeds it (``block.port``, or ``input.<name>``); ``types`` holds the resolved type of
    every wired output (pass-through ports take the type of what feeds them).
    """

    doc: PipelineDoc
    problems: list[Problem] = field(default_factory=list)
    decls: dict[str, BlockDecl] = field(default_factory=dict)
    into: dict[PortRef, PortRef] = field(default_factory=dict)
    types: dict[PortRef, PortType] = field(default_factory=dict)
    order: list[str] = field(default_factory=list)

    @property
    def ok(self) -> bool:
        return not self.problems


def validate(doc: PipelineDoc, catalog: Catalog) -> list[Problem]:
    """Every problem of ``doc`` against ``catalog`` (empty list: valid)."""
    return analyse(doc, catalog).problems


def check(doc: PipelineDoc, catalog: Catalog, *, source: str | None = None) -> Analysis:
    """The analysis of a valid document; raises :class:`PipelineInvalidError` otherwise."""
    analysis = analyse(doc, catalog)
    if analysis.problems:
        raise PipelineInvalidError(doc.key, analysis.problems, source=source)
    return analysis


def analyse(doc: PipelineDoc, catalog: Catalog) -> Analysis:
    return _Validator(doc, catalog).run()


class _Validator:
    def __init__(self, doc: PipelineDoc, catalog: Catalog) -> None:
        self.doc = doc
        self.catalog = catalog
        self.out = Analysis(doc)
        self.ids: list[str] = []  # every block id present, first occurrence order
        self.unknown: set[str] = set()  # ids whose type is unknown
        self.links: set[tuple[str, str]] = set()  # block -> block, for order and reach
        self.inputs = {p.name: p for p in doc.inputs}
        self.outputs = {p.name: p for p in doc.outputs}

    def problem(self, code: str, reason: str, block=None, port=None, field=None) -> None:
        self.out.problems.append(Problem(code, reason, block, port, field, self.doc.key))

    def run(self) -> Analysis:
        if not self.doc.blocks:
            self.problem("empty", "the pipeline has no blocks")
        self._blocks()
        self._pipeline_ports()
        wires = self._wires()
        self._fan_in(wires)
        self._types()
        self._missing()
        self._cycles_and_reach()
        return self.out

    # --- blocks ----------------------------------------------------------------------
    def _blocks(self) -> None:
        count: dict[str, int] = defaultdict(int)
        for block in self.doc.blocks:
            count[block.id] += 1
        for block_id, n in count.items():
            if n > 1:
                self.problem(
                    "duplicate_block", f"block id '{block_id}' is used {n} times", block_id
                )
        for block in self.doc.blocks:
            if block.id in (INPUT, OUTPUT):
                self.problem(
                    "reserved_id",
                    f"'{block.id}' is reserved for the pipeline's own {block.id}s",
                    block.id,
                )
            first = block.id not in self.out.decls and block.id not in self.unknown
            if first:
                self.ids.append(block.id)
            decl = self._decl(block.id, block.type)
            if decl is None:
                if first:
                    self.unknown.add(block.id)
                continue
            if first:
                self.out.decls[block.id] = decl
            try:
                decl.params.model_validate(block.params)
            except ValidationError as exc:
                for err in exc.errors():
                    loc = ".".join(str(p) for p in err["loc"]) or "(params)"
                    got = err.get("input")
                    shown = "" if err["type"] == "missing" else f" = {_short(got)}"
                    self.problem(
                        "bad_params",
                        f"parameter '{loc}'{shown}: {err['msg']}",
                        block.id,
                        field=f"params.{loc}",
                    )
            if block.retries and not decl.side_effect_free:
                self.problem(
                    "retries_not_allowed",
                    f"retries: {block.retries}, but {decl.type} has side effects "
                    "(only side-effect-free blocks are retried)",
                    block.id,
                    field="retries",
                )

    def _decl(self, block_id: str, block_type: str) -> BlockDecl | None:
        own = pipeline_block_type(self.doc)
        if block_type == own:
            self.problem(
                "self_reference", f"type '{block_type}': a pipeline cannot contain itself", block_id
            )
            return None
        decl = self.catalog.get(block_type)
        if decl is None:
            if block_type.startswith(PIPELINE_PREFIX):
                hint = "the sub-pipeline is not in the catalog (add it with Catalog.with_pipelines)"
            else:
                close = difflib.get_close_matches(block_type, self.catalog.types(), n=3)
                hint = f"did you mean {', '.join(close)}?" if close else "not in the block catalog"
            self.problem(
                "unknown_block_type", f"unknown block type '{block_type}': {hint}", block_id
            )
            return None
        if decl.pipeline is not None:
            if self._reaches(decl.pipeline, own, set()):
                self.problem(
                    "self_reference",
                    f"type '{block_type}' contains this pipeline again "
                    "(a pipeline cannot contain itself)",
                    block_id,
                )
                return None
            if self._holds(decl.pipeline, set()):
                self.problem(
                    "nested_hold",
                    f"sub-pipeline '{block_type}' contains operator.ask; only the pipeline that "
                    "owns the part may hold it",
                    block_id,
                )
        return decl

    def _reaches(self, doc: PipelineDoc, target: str, seen: set[str]) -> bool:
        for block in doc.blocks:
            if block.type == target:
                return True
            inner = self.catalog.get(block.type)
            if inner is not None and inner.pipeline is not None and block.type not in seen:
                seen.add(block.type)
                if self._reaches(inner.pipeline, target, seen):
                    return True
        return False

    def _holds(self, doc: PipelineDoc, seen: set[str]) -> bool:
        for block in doc.blocks:
            inner = self.catalog.get(block.type)
            if inner is None or block.type in seen:
                continue
            seen.add(block.type)
            if inner.runtime == "ask" or (
                inner.pipeline is not None and self._holds(inner.pipeline, seen)
            ):
                return True
        return False

    def _pipeline_ports(self) -> None:
        for kind, ports in ((INPUT, self.doc.inputs), (OUTPUT, self.doc.outputs)):
            names = [p.name for p in ports]
            for name in sorted({n for n in names if names.count(n) > 1}):
                self.problem(
                    "duplicate_port_name", f"{kind} '{name}' is declared twice", kind, name
                )

    # --- wires -----------------------------------------------------------------------
    def _wires(self) -> list[tuple[PortRef, PortRef, str]]:
        valid = []
        for k, wire in enumerate(self.doc.wires):
            text = f"wire #{k} '{wire}'"
            src, dst = PortRef.parse(wire.from_), PortRef.parse(wire.to)
            for end, ref, raw in (("from", src, wire.from_), ("to", dst, wire.to)):
                if ref is None:
                    self.problem(
                        "bad_wire",
                        f"{text}: '{end}' must be 'block.port', got {raw!r}",
                        raw.split(".")[0] or None,
                    )
            if src is None or dst is None:
                continue
            ok_src = self._end(src, text, outgoing=True)
            ok_dst = self._end(dst, text, outgoing=False)
            if src.block in self.ids and dst.block in self.ids:
                self.links.add((src.block, dst.block))
            elif src.block == INPUT and dst.block in self.ids:
                self.links.add((INPUT, dst.block))
            if ok_src and ok_dst:
                valid.append((src, dst, text))
        return valid

    def _end(self, ref: PortRef, text: str, *, outgoing: bool) -> bool:
        """Whether one end of a wire names a port that exists and points the right way."""
        own_side, other_side = (INPUT, OUTPUT) if outgoing else (OUTPUT, INPUT)
        if ref.block == other_side:
            self.problem(
                "wrong_direction",
                f"{text}: the pipeline's {other_side}s can only be wired "
                f"{'into' if outgoing else 'from'}",
                ref.block,
                ref.port,
            )
            return False
        if ref.block == own_side:
            ports = self.inputs if outgoing else self.outputs
            if ref.port not in ports:
                known = ", ".join(ports) or "none"
                self.problem(
                    "unknown_port",
                    f"{text}: the pipeline has no {own_side} '{ref.port}' (declared: {known})",
                    ref.block,
                    ref.port,
                )
                return False
            return True
        if ref.block not in self.ids:
            self.problem(
                "unknown_block", f"{text}: there is no block '{ref.block}'", ref.block, ref.port
            )
            return False
        if ref.block in self.unknown:
            return True  # already reported; accept the wire as Any so nothing else is blamed
        decl = self.out.decls[ref.block]
        mine, theirs = (decl.outputs, decl.inputs) if outgoing else (decl.inputs, decl.outputs)
        kind, other = ("output", "input") if outgoing else ("input", "output")
        if any(p.name == ref.port for p in mine):
            return True
        if any(p.name == ref.port for p in theirs):
            reason = (
                f"{text}: '{ref.port}' is an {other} of {decl.type}; "
                "wires go from outputs to inputs"
            )
            self.problem("wrong_direction", reason, ref.block, ref.port)
        else:
            known = ", ".join(p.name for p in mine) or "none"
            reason = f"{text}: {decl.type} has no {kind} '{ref.port}' ({kind}s: {known})"
            self.problem("unknown_port", reason, ref.block, ref.port)
        return False

    def _fan_in(self, wires: list[tuple[PortRef, PortRef, str]]) -> None:
        by_dst: dict[PortRef, list[PortRef]] = defaultdict(list)
        for src, dst, _ in wires:
            by_dst[dst].append(src)
        for dst, srcs in by_dst.items():
            self.out.into[dst] = srcs[0]
            if len(srcs) > 1:
                what = f"output '{dst.port}'" if dst.block == OUTPUT else f"input '{dst.port}'"
                listed = ", ".join(str(s) for s in srcs)
                self.problem(
                    "multiple_wires",
                    f"{what} has {len(srcs)} wires (from {listed}); an input takes exactly one",
                    dst.block,
                    dst.port,
                )

    # --- types -----------------------------------------------------------------------
    def _out_type(self, ref: PortRef, guard: set[PortRef]) -> PortType:
        if ref in self.out.types:
            return self.out.types[ref]
        if ref.block == INPUT:
            result = self.inputs[ref.port].type
        elif ref.block in self.unknown or ref in guard:
            result = PortType.ANY
        else:
            port = self.out.decls[ref.block].output(ref.port)
            assert port is not None
            result = port.type
            for name in port.type_from:
                src = self.out.into.get(PortRef(ref.block, name))
                if src is not None:
                    result = self._out_type(src, guard | {ref})
                    break
        self.out.types[ref] = result
        return result

    def _in_type(self, ref: PortRef) -> PortType:
        if ref.block == OUTPUT:
            return self.outputs[ref.port].type
        if ref.block in self.unknown:
            return PortType.ANY
        port = self.out.decls[ref.block].input(ref.port)
        assert port is not None
        return port.type

    def _types(self) -> None:
        for dst, src in self.out.into.items():
            got, want = self._out_type(src, set()), self._in_type(dst)
            if not compatible(got, want):
                what = f"output '{dst.port}'" if dst.block == OUTPUT else f"input '{dst.port}'"
                self.problem(
                    "type_mismatch",
                    f"{what} expects {want.value}, got {got.value} from '{src}'",
                    dst.block,
                    dst.port,
                )
        for block_id, decl in self.out.decls.items():
            if decl.runtime != "merge":
                continue
            srcs = [self.out.into.get(PortRef(block_id, p.name)) for p in decl.inputs]
            types = [self._out_type(s, set()) for s in srcs if s is not None]
            concrete = [t for t in types if t is not PortType.ANY]
            if len(set(concrete)) > 1:
                names = ", ".join(t.value for t in concrete)
                self.problem(
                    "type_mismatch",
                    f"input '{decl.inputs[-1].name}': a merge joins values of one type, "
                    f"got {names}",
                    block_id,
                    decl.inputs[-1].name,
                )

    def _missing(self) -> None:
        for block_id, decl in self.out.decls.items():
            for port in decl.inputs:
                if port.required and PortRef(block_id, port.name) not in self.out.into:
                    self.problem(
                        "missing_input",
                        f"required input '{port.name}' ({port.type.value}) has no wire",
                        block_id,
                        port.name,
                    )
        for spec in self.doc.outputs:
            if spec.required and PortRef(OUTPUT, spec.name) not in self.out.into:
                self.problem(
                    "missing_output",
                    f"required output '{spec.name}' ({spec.type.value}) has no wire",
                    OUTPUT,
                    spec.name,
                )

    # --- graph -----------------------------------------------------------------------
    def _cycles_and_reach(self) -> None:
        edges = {(a, b) for a, b in self.links if a != INPUT}
        found = cycles(self.ids, edges)
        for path in found:
            head, last = path[0], path[-2]
            port = next(
                (d.port for d, s in self.out.into.items() if d.block == head and s.block == last),
                None,
            )
            self.problem("cycle", f"cycle: {' -> '.join(path)}", head, port)
        starts = {b for b, d in self.out.decls.items() if d.is_source}
        starts |= {b for a, b in self.links if a == INPUT}
        reach = forward_closure(starts, edges)
        for block_id in self.ids:
            if block_id not in reach and block_id not in self.unknown:
                self.problem(
                    "unreachable",
                    "not connected to the pipeline's inputs or to a source block "
                    "(such as camera.capture): it would never run",
                    block_id,
                )
        if not found:
            known = [b for b in self.ids if b not in self.unknown]
            order, _ = topological_order(
                known, {(a, b) for a, b in edges if a in known and b in known}
            )
            self.out.order = order


def _short(value: object, limit: int = 40) -> str:
    text = repr(value)
    return text if len(text) <= limit else text[: limit - 3] + "..."
