"""The runner: one part through a validated, approved pipeline, with a trace.

The process that runs a pipeline binds implementations: a mapping from block type to a
callable ``fn(inputs: dict, params: BaseModel) -> dict`` of outputs (a missing or ``None``
output means "not produced"). ``flow.branch``, ``flow.merge``, ``operator.ask`` and
sub-pipelines are executed by the runner itself.

Per part, blocks run one at a time in a fixed topological order (ties broken by document
order), so the same inputs and deterministic implementations give the same run. A block
fed from a branch not taken is skipped (``join="any"`` blocks run if anything arrived).
A call that raises, overruns its time-out or returns malformed outputs is retried when the
block is side-effect free and has retries left; otherwise the pipeline's failure policy
decides the part's fate: ``hold`` (kept for an operator, resumable), ``reject`` or
``stop_cell`` (the edge stops the cell). ``operator.ask`` holds the part: the run returns a
:class:`HeldState` that :meth:`Runner.resume` continues with the operator's decision.

An edge runs only approved, signed versions whose content hash still matches; ``dry_run``
lifts that for the simulator and the editor's test runs.
"""

from __future__ import annotations

import time
import weakref
from collections.abc import Callable, Iterable, Mapping
from dataclasses import replace
from typing import Any

from pydantic import BaseModel

from pipelines._worker import Caller, CallTimeoutError, Isolation
from pipelines.approval import require_approved
from pipelines.condition import evaluate
from pipelines.declarations import BlockDecl, Catalog
from pipelines.document import INPUT, OUTPUT, PipelineDoc
from pipelines.graph import PortRef
from pipelines.results import BlockTrace, Failure, HeldState, PartRun, Status
from pipelines.trace import Thumbnail, summarize, thumbnail
from pipelines.types import THUMBNAIL_TYPES, PortType, check_value
from pipelines.validate import check
from recipes.errors import InvalidInputError

Implementation = Callable[[dict[str, Any], BaseModel], Mapping[str, Any]]
_POLICY_STATUS: dict[str, Status] = {"hold": "held", "reject": "rejected", "stop_cell": "stopped"}
_SKIP = object()  # on a branch not taken
_ABSENT = object()


class _Step:
    __slots__ = (
        "id", "type", "decl", "runtime", "fn", "params", "sources", "required", "out_keys",
        "out_names", "out_required", "scalars", "thumbs", "timeout_s", "attempts", "join", "sub",
    )  # fmt: skip


class _State:
    __slots__ = ("values", "summaries", "trace", "t0", "elapsed_ns", "part_id")

    def __init__(self, part_id: str, values: dict, summaries: dict, trace: list, elapsed_ns: int):
        self.part_id = part_id
        self.values = values
        self.summaries = summaries
        self.trace = trace
        self.elapsed_ns = elapsed_ns
        self.t0 = time.perf_counter_ns() - elapsed_ns


class Runner:
    """Runs parts through one pipeline version with bound implementations.

    Parameters
    ----------
    doc, catalog : the pipeline and the declarations it uses (validated here; an invalid
        document raises :class:`~pipelines.errors.PipelineInvalidError`).
    implementations : block type -> callable, for every bound block type the pipeline uses.
    dry_run : allow versions that are not approved (simulator, editor test runs).
    verify : the edge's signature check, called with the document unless ``dry_run``.
    trace, thumbnails : record value summaries / thumbnails (timings are always recorded).
    isolation : ``thread`` (time-outs interrupt the wait) or ``inline`` (see ``_worker``).
    """

    def __init__(
        self,
        doc: PipelineDoc,
        catalog: Catalog,
        implementations: Mapping[str, Implementation],
        *,
        dry_run: bool = False,
        verify: Callable[[PipelineDoc], bool] | None = None,
        trace: bool = True,
        thumbnails: bool = True,
        isolation: Isolation = "thread",
        _stack: tuple[str, ...] = (),
    ) -> None:
        if doc.key in _stack:
            raise InvalidInputError(
                f"pipeline '{doc.key}'", "contains itself: " + " -> ".join(_stack)
            )
        analysis = check(doc, catalog)
        if not dry_run:
            require_approved(doc, verify)
        self.doc = doc
        self.dry_run = dry_run
        self._hash = doc.compute_hash()
        self._trace = trace
        self._thumbs = trace and thumbnails
        self._caller = Caller(isolation)
        weakref.finalize(self, self._caller.close)  # the worker ends with the runner
        self._inputs = {p.name: p for p in doc.inputs}
        self._out_sources = {
            dst.port: (src.block, src.port)
            for dst, src in analysis.into.items()
            if dst.block == OUTPUT
        }
        blocks = {b.id: b for b in doc.blocks}
        self._steps: list[_Step] = []
        missing = []
        for block_id in analysis.order:
            decl = analysis.decls[block_id]
            step = self._compile(blocks[block_id], decl, analysis)
            if decl.runtime == "bound":
                step.fn = implementations.get(decl.type)
                if step.fn is None:
                    missing.append(f"{decl.type} (block '{block_id}')")
            elif decl.runtime == "pipeline":
                assert decl.pipeline is not None
                step.sub = Runner(
                    decl.pipeline, catalog, implementations, dry_run=dry_run, verify=verify,
                    trace=trace, thumbnails=thumbnails, isolation=isolation,
                    _stack=(*_stack, doc.key),
                )  # fmt: skip
            self._steps.append(step)
        if missing:
            raise InvalidInputError(
                "implementations", f"pipeline '{doc.key}' needs: {', '.join(missing)}"
            )

    @staticmethod
    def _compile(block, decl: BlockDecl, analysis) -> _Step:
        step = _Step()
        step.id, step.type, step.decl, step.runtime = block.id, decl.type, decl, decl.runtime
        step.fn, step.sub = None, None
        step.params = decl.params.model_validate(block.params)
        step.sources = tuple(
            (p.name, (src.block, src.port))
            for p in decl.inputs
            if (src := analysis.into.get(PortRef(block.id, p.name))) is not None
        )
        step.required = frozenset(p.name for p in decl.inputs if p.required)
        step.out_keys = tuple((block.id, p.name) for p in decl.outputs)
        step.out_names = frozenset(p.name for p in decl.outputs)
        step.out_required = frozenset(p.name for p in decl.outputs if p.required)
        step.scalars = tuple(
            (p.name, p.type)
            for p in decl.outputs
            if p.type in (PortType.BOOL, PortType.NUMBER, PortType.TEXT)
        )
        step.thumbs = frozenset(p.name for p in decl.outputs if p.type in THUMBNAIL_TYPES)
        step.timeout_s = block.timeout_s or decl.timeout_s
        retries = decl.retries if block.retries is None else block.retries
        step.attempts = 1 + (retries if decl.side_effect_free and decl.runtime == "bound" else 0)
        step.join = decl.join
        return step

    # --- public ----------------------------------------------------------------------
    def run_part(self, inputs: Mapping[str, Any], part_id: str = "") -> PartRun:
        """Run one part; ``inputs`` by the pipeline's declared input names."""
        values: dict = {}
        summaries: dict = {}
        for name in inputs:
            if name not in self._inputs:
                known = ", ".join(self._inputs) or "none"
                raise InvalidInputError(
                    f"inputs.{name}", f"pipeline '{self.doc.key}' has no such input ({known})"
                )
        for name, spec in self._inputs.items():
            value = inputs.get(name)
            if value is None:
                if spec.required:
                    raise InvalidInputError(f"inputs.{name}", "required input not given")
                continue
            bad = check_value(spec.type, value)
            if bad:
                raise InvalidInputError(f"inputs.{name}", bad)
            values[(INPUT, name)] = value
            if self._trace:
                summaries[(INPUT, name)] = summarize(value)
        return self._execute(_State(part_id, values, summaries, [], 0), 0)

    def run(self, parts: Iterable[tuple[str, Mapping[str, Any]]]) -> list[PartRun]:
        """Run ``(part_id, inputs)`` pairs one after the other."""
        return [self.run_part(inputs, part_id) for part_id, inputs in parts]

    def resume(self, held: HeldState, decision: str | None = None) -> PartRun:
        """Continue a held part: with the operator's decision (``ask``) or by running the
        failed block again (``failure``)."""
        if held.pipeline != self.doc.key or held.content_hash != self._hash:
            raise InvalidInputError(
                "held", f"held by pipeline '{held.pipeline}', not by this version '{self.doc.key}'"
            )
        values = dict(held._values)
        summaries = dict(held._summaries)
        trace = list(held._trace)
        state = _State(held.part_id, values, summaries, trace, held._elapsed_ns)
        if held.kind == "failure":
            if decision not in (None, "retry"):
                raise InvalidInputError("decision", "a failed block can only be retried")
            return self._execute(state, held._index)
        if decision not in held.choices:
            raise InvalidInputError(
                "decision", f"{decision!r} is not one of {', '.join(held.choices)}"
            )
        key = (held.block, "decision")
        values[key] = decision
        if self._trace:
            summaries[key] = summarize(decision)
        trace[-1] = replace(
            trace[-1], status="answered", outputs={"decision": summaries.get(key, "")}
        )
        return self._execute(state, held._index + 1)

    def close(self) -> None:
        self._caller.close()
        for step in self._steps:
            if step.sub is not None:
                step.sub.close()

    def __enter__(self) -> Runner:
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()

    # --- execution -------------------------------------------------------------------
    def _execute(self, st: _State, start: int) -> PartRun:
        values, summaries, do_trace = st.values, st.summaries, self._trace
        for index in range(start, len(self._steps)):
            step = self._steps[index]
            t_block = time.perf_counter_ns()
            ins: dict[str, Any] = {}
            skipped = arrived = False
            for port, key in step.sources:
                value = values.get(key, _ABSENT)
                if value is _SKIP:
                    skipped = True
                elif value is not _ABSENT:
                    ins[port] = value
                    arrived = True
            in_sum = (
                {p: summaries.get(k, "") for p, k in step.sources if p in ins} if do_trace else {}
            )
            # skipped: fed from a branch not taken ("all"), or nothing arrived at all
            missing = not step.required <= ins.keys()
            if step.join == "all":
                skip = skipped or (not missing and step.sources and not arrived)
            else:
                skip = bool(step.sources) and not arrived
            if skip:
                for key in step.out_keys:
                    values[key] = _SKIP
                st.trace.append(
                    BlockTrace(step.id, step.type, "skipped", start_ms=_ms(t_block - st.t0))
                )
                continue
            if missing:
                port = min(step.required - ins.keys())
                src = dict(step.sources)[port]
                reason = (
                    f"required input '{port}' has no value ('{src[0]}' did not produce '{src[1]}')"
                )
                failed = _BlockFailedError("input", reason, 0, 0)
                return self._fail(st, index, step, t_block, failed, in_sum)
            runtime = step.runtime
            if runtime == "ask":
                return self._hold(st, index, step, ins, in_sum, t_block)
            attempts, work_ns, children = 0, 0, ()
            try:
                if runtime == "bound":
                    outs, attempts, work_ns = self._call(step, ins)
                elif runtime == "branch":
                    outs = _branch(step, ins)
                elif runtime == "merge":
                    outs = {"value": ins["a"] if "a" in ins else ins["b"]}
                else:
                    outs, children, work_ns = self._call_sub(step, ins, st.part_id)
            except _BlockFailedError as exc:
                return self._fail(st, index, step, t_block, exc, in_sum)
            out_sum: dict[str, str] = {}
            thumbs: dict[str, Thumbnail] = {}
            for name, value in outs.items():
                key = (step.id, name)
                values[key] = value
                if do_trace:
                    out_sum[name] = "skipped" if value is _SKIP else summarize(value)
                    summaries[key] = out_sum[name]
                    if name in step.thumbs and self._thumbs:
                        thumb = thumbnail(value)
                        if thumb is not None:
                            thumbs[name] = thumb
            t_end = time.perf_counter_ns()
            st.trace.append(
                BlockTrace(
                    step.id,
                    step.type,
                    "ok",
                    attempts=attempts,
                    start_ms=_ms(t_block - st.t0),
                    work_ms=_ms(work_ns),
                    wall_ms=_ms(t_end - t_block),
                    inputs=in_sum,
                    outputs=out_sum,
                    thumbnails=thumbs,
                    children=children,
                )
            )
        outputs = {}
        for name, key in self._out_sources.items():
            value = values.get(key, _ABSENT)
            if value is not _ABSENT and value is not _SKIP:
                outputs[name] = value
        return self._result(st, "completed", outputs)

    def _call(self, step: _Step, ins: dict) -> tuple[dict, int, int]:
        work_ns = 0
        kind = reason = ""
        for attempt in range(1, step.attempts + 1):
            try:
                result, ns = self._caller.call(step.fn, (dict(ins), step.params), step.timeout_s)
            except CallTimeoutError as exc:
                work_ns += exc.args[0]
                kind, reason = "timeout", f"timed out after {step.timeout_s:g} s"
                continue
            except Exception as exc:
                kind, reason = "error", f"{type(exc).__name__}: {exc}"
                continue
            work_ns += ns
            outs, bad = _outputs(step, result)
            if bad is None:
                return outs, attempt, work_ns
            kind, reason = "output", bad
        raise _BlockFailedError(kind, reason, step.attempts, work_ns)

    def _call_sub(self, step: _Step, ins: dict, part_id: str) -> tuple[dict, tuple, int]:
        try:
            run = step.sub.run_part(ins, part_id)
        except InvalidInputError as exc:  # a value the sub-pipeline's inputs refuse
            raise _BlockFailedError("input", str(exc), 0, 0) from None
        children = tuple(run.trace)
        if run.status != "completed":
            where = f"sub-pipeline '{step.sub.doc.key}', {run.failure or run.status}"
            kind = run.failure.kind if run.failure else "error"
            raise _BlockFailedError(kind, where, 1, round(run.work_ms * 1e6), children)
        outs, bad = _outputs(step, run.outputs)
        if bad is not None:
            raise _BlockFailedError("output", bad, 1, round(run.work_ms * 1e6), children)
        return outs, children, round(run.work_ms * 1e6)

    def _hold(self, st: _State, index, step, ins, in_sum, t_block) -> PartRun:
        reason = ins.get("reason") if isinstance(ins.get("reason"), str) else ""
        st.trace.append(
            BlockTrace(step.id, step.type, "held", 0, _ms(t_block - st.t0), inputs=in_sum)
        )
        held = self._held_state(
            st, index, step.id, "ask", step.params.question, step.params.choices, reason
        )
        return self._result(st, "held", {}, held=held)

    def _fail(
        self, st: _State, index: int, step: _Step, t_block: int, exc: _BlockFailedError, in_sum
    ) -> PartRun:
        kind, reason = exc.kind, exc.reason
        status = "timeout" if kind == "timeout" else "failed"
        t_end = time.perf_counter_ns()
        st.trace.append(
            BlockTrace(
                step.id,
                step.type,
                status,
                attempts=exc.attempts,
                start_ms=_ms(t_block - st.t0),
                work_ms=_ms(exc.work_ns),
                wall_ms=_ms(t_end - t_block),
                inputs=in_sum,
                error=reason,
                children=exc.children,
            )
        )
        failure = Failure(step.id, kind, reason)
        policy = _POLICY_STATUS[self.doc.failure_policy]
        held = None
        if policy == "held":
            question = f"block '{step.id}' ({step.type}) failed: {reason}"
            held = self._held_state(st, index, step.id, "failure", question, ["retry"], reason)
        return self._result(st, policy, {}, failure=failure, held=held)

    def _held_state(self, st, index, block_id, kind, question, choices, reason) -> HeldState:
        trace = tuple(st.trace) if kind == "ask" else tuple(st.trace[:-1])
        return HeldState(
            pipeline=self.doc.key,
            content_hash=self._hash,
            part_id=st.part_id,
            block=block_id,
            kind=kind,
            question=question,
            choices=tuple(choices),
            reason=reason,
            _index=index,
            _values=dict(st.values),
            _summaries=dict(st.summaries),
            _trace=trace,
            _elapsed_ns=time.perf_counter_ns() - st.t0,
        )

    def _result(self, st: _State, status: Status, outputs, *, failure=None, held=None) -> PartRun:
        wall = _ms(time.perf_counter_ns() - st.t0)
        return PartRun(self.doc.key, st.part_id, status, outputs, st.trace, failure, held, wall)


class _BlockFailedError(Exception):
    def __init__(self, kind: str, reason: str, attempts: int, work_ns: int, children=()) -> None:
        super().__init__(reason)
        self.kind, self.reason, self.attempts = kind, reason, attempts
        self.work_ns, self.children = work_ns, tuple(children)


def _branch(step: _Step, ins: dict) -> dict:
    """Route ``data`` (or the value) to 'then' or 'else'; a condition that cannot be judged
    on this value fails the block."""
    try:
        taken = evaluate(step.params.condition, ins["value"])
    except Exception as exc:
        raise _BlockFailedError("condition", str(exc), 0, 0) from None
    data = ins.get("data", ins["value"])
    return {"then": data if taken else _SKIP, "else": _SKIP if taken else data}


def _outputs(step: _Step, result: object) -> tuple[dict, str | None]:
    """The produced outputs of a call, or why they are unusable."""
    if not isinstance(result, Mapping):
        return {}, f"returned {type(result).__name__}, expected a mapping of outputs"
    outs = {k: v for k, v in result.items() if v is not None}
    unknown = outs.keys() - step.out_names
    if unknown:
        known = ", ".join(sorted(step.out_names)) or "none"
        return {}, f"returned unknown output '{min(unknown)}' (outputs: {known})"
    missing = step.out_required - outs.keys()
    if missing:
        return {}, f"returned no '{min(missing)}'"
    for name, port_type in step.scalars:
        if name in outs:
            bad = check_value(port_type, outs[name])
            if bad:
                return {}, f"output '{name}' {bad}"
    return outs, None


def _ms(ns: int) -> float:
    return ns / 1e6
