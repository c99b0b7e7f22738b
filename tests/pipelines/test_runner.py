"""The runner with fake implementations: order, timing, retries, time-outs, policies,
branches, holds, determinism, approval."""

from __future__ import annotations

import io
import threading
import time

import numpy as np
import pytest
from PIL import Image

from pipelines import (
    NotApprovedError,
    PipelineInvalidError,
    Runner,
    approved,
    standard_catalog,
    summarize_runs,
)
from recipes.errors import InvalidInputError
from tests.pipelines.fakes import (
    DOOR,
    IMAGE,
    RECIPE,
    WRONG,
    Fakes,
    blocks_of,
    default_doc,
    edit,
    make_doc,
)

CAT = standard_catalog()
OK_PATH = [
    "camera.capture",
    "vision.locate",
    "vision.check_part",
    "recipe.fit",
    "sim.predict_thickness",
    "robot.execute",
    "qc.evaluate",
    "data.record",
    "notify",
]


def _runner(doc=None, fakes=None, **kw):
    fakes = fakes or Fakes()
    kw.setdefault("dry_run", True)
    return Runner(doc or default_doc(), CAT, fakes.implementations(), **kw), fakes


def _with_block(doc, block_id, **changes):
    blocks = blocks_of(doc)
    for b in blocks:
        if b["id"] == block_id:
            b.update(changes)
    return edit(doc, blocks=blocks)


def test_a_good_part_runs_the_ok_path_in_topological_order():
    runner, fakes = _runner()
    run = runner.run_part({"part": DOOR, "recipe": RECIPE}, "p-1")
    assert run.status == "completed" and run.failure is None and run.held is None
    assert fakes.calls == OK_PATH
    assert [(t.block, t.status) for t in run.trace] == [
        ("capture", "ok"), ("locate", "ok"), ("check", "ok"), ("branch", "ok"), ("fit", "ok"),
        ("predict", "ok"), ("execute", "ok"), ("qc", "ok"), ("record", "ok"),
        ("ask", "skipped"), ("notify", "ok"),
    ]  # fmt: skip
    assert run.outputs == {"report": {"within_tol_pct": 98.4}, "record_id": "rec-door-benchmark"}
    assert fakes.sent == [
        {
            "channel": "console",
            "report": {"within_tol_pct": 98.4},
            "record_id": "rec-door-benchmark",
        }
    ]
    fit = run.block("fit")
    assert fit.inputs == {
        "recipe": "{id, version}",
        "pose": "{x_mm, y_mm}",
        "outline": "{name, width_mm}",
    }
    assert run.block("branch").outputs == {"then": "{x_mm, y_mm}", "else": "skipped"}
    assert run.block("capture").outputs["image"] == "uint8 (48, 64)"
    runner.close()


def test_order_follows_wires_not_the_listing():
    blocks = [
        ("record", "data.record", {}),
        ("qc", "qc.evaluate", {}),
        ("capture", "camera.capture", {}),
        ("execute", "robot.execute", {}),
    ]
    wires = [
        "qc.report -> record.report",
        "execute.film -> qc.film",
        "input.recipe -> qc.recipe",
        "input.program -> execute.program",
        "capture.image -> record.image",
    ]
    doc = make_doc(
        blocks,
        wires,
        inputs=[{"name": "recipe", "type": "Recipe"}, {"name": "program", "type": "SprayProgram"}],
    )
    fakes = Fakes()
    fakes_impl = fakes.implementations()
    fakes_impl["data.record"] = lambda i, p: {"record_id": "r"}
    with Runner(doc, CAT, fakes_impl, dry_run=True) as runner:
        run = runner.run_part({"recipe": RECIPE, "program": {"recipe": "x"}})
    # capture has no predecessors and comes first in the listing among the ready blocks
    assert [t.block for t in run.trace] == ["capture", "execute", "qc", "record"]
    assert fakes.calls == ["camera.capture", "robot.execute", "qc.evaluate"]


def test_timing_is_recorded_per_block():
    fakes = Fakes()
    fakes.sleep_s["sim.predict_thickness"] = 0.03
    runner, _ = _runner(fakes=fakes)
    run = runner.run_part({"part": DOOR, "recipe": RECIPE})
    predict = run.block("predict")
    assert 30.0 <= predict.work_ms < 300.0
    assert predict.wall_ms >= predict.work_ms
    starts = [t.start_ms for t in run.trace]
    assert starts == sorted(starts)
    assert run.block("qc").start_ms >= predict.start_ms + 30.0
    assert run.wall_ms >= sum(t.work_ms for t in run.trace) > 30.0
    assert run.overhead_ms == pytest.approx(run.wall_ms - run.work_ms)
    assert run.block("ask").work_ms == 0.0
    runner.close()


def test_side_effect_free_blocks_are_retried():
    fakes = Fakes()
    fakes.fail["vision.locate"] = 1
    runner, _ = _runner(fakes=fakes)
    run = runner.run_part({"part": DOOR, "recipe": RECIPE})
    assert run.status == "completed"
    assert run.block("locate").attempts == 2
    assert fakes.calls.count("vision.locate") == 2
    # the catalog gives locate one retry: two failures in a row are a failure
    fakes.fail["vision.locate"] = 2
    run = runner.run_part({"part": DOOR, "recipe": RECIPE})
    assert run.status == "held"
    assert (run.failure.block, run.failure.kind) == ("locate", "error")
    assert run.failure.reason == "RuntimeError: vision.locate broke"
    assert run.block("locate").attempts == 2
    runner.close()


def test_blocks_with_side_effects_are_never_retried():
    fakes = Fakes()
    fakes.fail["robot.execute"] = 1
    runner, _ = _runner(fakes=fakes)
    run = runner.run_part({"part": DOOR, "recipe": RECIPE})
    assert fakes.calls.count("robot.execute") == 1
    assert run.block("execute").status == "failed" and run.block("execute").attempts == 1
    assert run.failure.block == "execute"
    assert "qc.evaluate" not in fakes.calls  # nothing after the failure runs
    runner.close()


def test_document_retry_override():
    fakes = Fakes()
    fakes.fail["vision.locate"] = 3
    doc = _with_block(default_doc(), "locate", retries=3)
    runner, _ = _runner(doc, fakes)
    run = runner.run_part({"part": DOOR, "recipe": RECIPE})
    assert run.status == "completed" and run.block("locate").attempts == 4
    runner.close()


def test_timeout_abandons_the_call_and_applies_the_policy():
    fakes = Fakes()
    fakes.sleep_s["vision.locate"] = 1.0
    doc = _with_block(default_doc(), "locate", timeout_s=0.05, retries=0)
    doc = edit(doc, failure_policy="reject")
    runner, _ = _runner(doc, fakes)
    t0 = time.perf_counter()
    run = runner.run_part({"part": DOOR, "recipe": RECIPE})
    assert time.perf_counter() - t0 < 0.9  # the block sleeps 1 s: the runner did not wait
    assert run.status == "rejected"
    assert (run.failure.block, run.failure.kind) == ("locate", "timeout")
    assert run.failure.reason == "timed out after 0.05 s"
    assert run.block("locate").status == "timeout"
    # the next part gets a fresh worker and runs normally
    fakes.sleep_s.clear()
    assert runner.run_part({"part": DOOR, "recipe": RECIPE}).status == "completed"
    runner.close()


def test_timeout_then_retry_succeeds():
    fakes = Fakes()
    calls = []

    def slow_once(inputs, params):
        calls.append(1)
        if len(calls) == 1:
            time.sleep(0.5)
        return {"pose": {"x_mm": 1.0}, "outline": {"name": "door"}, "confidence": 0.9}

    impls = fakes.implementations() | {"vision.locate": slow_once}
    doc = _with_block(default_doc(), "locate", timeout_s=0.05)
    with Runner(doc, CAT, impls, dry_run=True) as runner:
        run = runner.run_part({"part": DOOR, "recipe": RECIPE})
    assert run.status == "completed"
    assert run.block("locate").attempts == 2
    assert run.block("locate").work_ms >= 50.0


def test_inline_isolation_judges_timeouts_after_the_call():
    fakes = Fakes()
    fakes.sleep_s["notify"] = 0.08
    threads = []
    impls = fakes.implementations()
    capture = impls["camera.capture"]
    impls["camera.capture"] = lambda i, p: threads.append(threading.get_ident()) or capture(i, p)
    doc = _with_block(default_doc(), "notify", timeout_s=0.02)
    with Runner(doc, CAT, impls, dry_run=True, isolation="inline") as runner:
        run = runner.run_part({"part": DOOR, "recipe": RECIPE})
    assert threads == [threading.get_ident()]  # called on the runner's own thread
    assert run.status == "held"
    assert (run.failure.block, run.failure.kind) == ("notify", "timeout")
    assert run.block("notify").work_ms >= 80.0
    assert fakes.calls.count("notify") == 1  # notify has side effects: no retry
    with Runner(default_doc(), CAT, impls, dry_run=True) as runner:
        runner.run_part({"part": DOOR, "recipe": RECIPE})
    assert threads[1] != threading.get_ident()  # thread isolation: a worker thread


@pytest.mark.parametrize(
    ("policy", "status", "stop_cell"),
    [("hold", "held", False), ("reject", "rejected", False), ("stop_cell", "stopped", True)],
)
def test_failure_policies(policy, status, stop_cell):
    fakes = Fakes()
    fakes.fail["robot.execute"] = 1
    runner, _ = _runner(edit(default_doc(), failure_policy=policy), fakes)
    run = runner.run_part({"part": DOOR, "recipe": RECIPE}, "p-7")
    assert run.status == status
    assert run.stop_cell is stop_cell
    assert str(run.failure) == "block 'execute': RuntimeError: robot.execute broke"
    assert run.outputs == {}
    if policy == "hold":
        held = run.held
        assert (held.kind, held.block, held.part_id, held.choices) == (
            "failure",
            "execute",
            "p-7",
            ("retry",),
        )
        again = runner.resume(held)  # the operator fixed the cell: run the block again
        assert again.status == "completed"
        assert [t.block for t in again.trace].count("execute") == 1
        assert fakes.calls.count("robot.execute") == 2
    else:
        assert run.held is None
    runner.close()


def test_branch_sends_wrong_parts_to_operator_ask_and_resumes():
    runner, fakes = _runner()
    run = runner.run_part({"part": WRONG, "recipe": RECIPE}, "p-9")
    assert run.status == "held"
    assert fakes.calls == ["camera.capture", "vision.locate", "vision.check_part"]
    skipped = [t.block for t in run.trace if t.status == "skipped"]
    assert skipped == ["fit", "predict", "execute", "qc", "record"]
    held = run.held
    assert (held.kind, held.block, held.part_id) == ("ask", "ask", "p-9")
    assert held.choices == ("accept", "rework", "scrap")
    assert held.reason == "outline differs"
    assert run.block("ask").status == "held"
    assert run.block("ask").inputs == {
        "data": "{x_mm, y_mm}",
        "image": "uint8 (48, 64)",
        "reason": "'outline differs'",
    }
    with pytest.raises(InvalidInputError, match="'keep' is not one of accept, rework, scrap"):
        runner.resume(held, "keep")
    done = runner.resume(held, "scrap")
    assert done.status == "completed"
    assert done.outputs == {"decision": "scrap"}
    assert done.block("ask").status == "answered"
    assert done.block("ask").outputs == {"decision": "'scrap'"}
    assert fakes.sent == [{"channel": "console", "decision": "scrap"}]
    assert "robot.execute" not in fakes.calls
    # the held state is not consumed: resuming again gives the same run
    assert runner.resume(held, "scrap").fingerprint() == done.fingerprint()
    runner.close()


def test_branch_on_a_field_with_an_ordering_operator():
    blocks = [
        ("capture", "camera.capture", {}),
        ("gate", "flow.branch", {"condition": {"field": "quality.pct", "op": ">=", "value": 90}}),
        ("merge", "flow.merge", {}),
    ]
    wires = [
        "input.measure -> gate.value",
        "capture.image -> gate.data",
        "gate.then -> merge.a",
        "gate.else -> merge.b",
        "merge.value -> output.image",
        "gate.then -> output.good",
    ]
    doc = make_doc(
        blocks,
        wires,
        inputs=[{"name": "measure", "type": "Any"}],
        outputs=[
            {"name": "image", "type": "Image"},
            {"name": "good", "type": "Image", "required": False},
        ],
    )
    runner, _ = _runner(doc)
    good = runner.run_part({"measure": {"quality": {"pct": 95.0}}})
    bad = runner.run_part({"measure": {"quality": {"pct": 80}}})
    assert set(good.outputs) == {"image", "good"} and good.outputs["image"] is IMAGE
    assert set(bad.outputs) == {"image"}
    broken = runner.run_part({"measure": {"quality": {}}})
    assert (broken.failure.block, broken.failure.kind) == ("gate", "condition")
    assert "quality.pct: no such key" in broken.failure.reason
    runner.close()


def test_runs_are_deterministic():
    runs = []
    for _ in range(2):
        runner, _ = _runner()
        runs.append(
            [
                runner.run_part({"part": p, "recipe": RECIPE}, f"p-{k}")
                for k, p in enumerate([DOOR, WRONG, DOOR])
            ]
        )
        runner.close()
    assert [r.fingerprint() for r in runs[0]] == [r.fingerprint() for r in runs[1]]
    assert runs[0][0].fingerprint() == runs[0][2].fingerprint()
    assert runs[0][0].fingerprint() != runs[0][1].fingerprint()


def test_thumbnails_of_images_and_thickness_maps():
    runner, _ = _runner()
    run = runner.run_part({"part": DOOR, "recipe": RECIPE})
    image = run.block("capture").thumbnails["image"]
    assert image.source_shape == (48, 64)
    np.testing.assert_array_equal(image.pixels, IMAGE)  # already small: kept as is
    decoded = np.asarray(Image.open(io.BytesIO(image.png())))
    np.testing.assert_array_equal(decoded, IMAGE)
    film = run.block("execute").thumbnails["film"]
    assert (film.vmin, film.vmax) == (41.0, 70.0)
    assert film.pixels[0, 0] == 0 and film.pixels[0, -1] == 255
    assert set(run.block("predict").thumbnails) == {"thickness"}
    assert run.block("locate").thumbnails == {}
    runner.close()
    quiet, _ = _runner(trace=False)
    run = quiet.run_part({"part": DOOR, "recipe": RECIPE})
    assert run.block("capture").thumbnails == {} and run.block("capture").outputs == {}
    assert run.block("capture").work_ms >= 0.0
    quiet.close()


def test_edges_run_only_approved_versions():
    fakes = Fakes()
    doc = default_doc()
    with pytest.raises(NotApprovedError, match="status is 'draft'"):
        Runner(doc, CAT, fakes.implementations())
    ok = approved(doc, "operator-1", "ab" * 32, key_id="k1", approved_at="2025-01-01T00:00:00Z")
    with Runner(ok, CAT, fakes.implementations()) as runner:
        assert runner.run_part({"part": DOOR, "recipe": RECIPE}).status == "completed"
    # moving blocks on the canvas keeps the approval
    moved = _with_block(ok, "fit", position={"x": 5.0, "y": 5.0})
    Runner(moved, CAT, fakes.implementations()).close()
    # changing what runs voids it
    changed = _with_block(ok, "fit", params={"max_offset_mm": 400.0})
    with pytest.raises(NotApprovedError, match="changed after approval"):
        Runner(changed, CAT, fakes.implementations())
    with pytest.raises(NotApprovedError, match="signature does not verify"):
        Runner(ok, CAT, fakes.implementations(), verify=lambda d: False)
    unsigned = ok.model_copy(
        update={"approval": ok.approval.model_copy(update={"signature": None})}
    )
    with pytest.raises(NotApprovedError, match="without approver or signature"):
        Runner(unsigned, CAT, fakes.implementations())
    # a dry run may run drafts
    Runner(doc, CAT, fakes.implementations(), dry_run=True).close()


def test_invalid_documents_and_missing_implementations_are_refused():
    doc = _with_block(default_doc(), "fit", type="recipe.fitt")
    with pytest.raises(PipelineInvalidError) as err:
        Runner(doc, CAT, Fakes().implementations(), dry_run=True)
    assert err.value.problems[0].block == "fit"
    impls = Fakes().implementations()
    del impls["recipe.fit"], impls["notify"]
    with pytest.raises(InvalidInputError) as err:
        Runner(default_doc(), CAT, impls, dry_run=True)
    assert err.value.reason == (
        "pipeline 'spray-default@1' needs: recipe.fit (block 'fit'), notify (block 'notify')"
    )


def test_run_inputs_are_checked():
    runner, _ = _runner()
    with pytest.raises(InvalidInputError, match="required input not given"):
        runner.run_part({"part": DOOR})
    with pytest.raises(InvalidInputError, match="has no such input"):
        runner.run_part({"part": DOOR, "recipe": RECIPE, "colour": "red"})
    runner.close()


@pytest.mark.parametrize(
    ("result", "reason"),
    [
        ({"record_id": "r", "extra": 1}, "returned unknown output 'extra' (outputs: record_id)"),
        ({}, "returned no 'record_id'"),
        ({"record_id": 7}, "output 'record_id' expects Text, got int"),
        (["r"], "returned list, expected a mapping of outputs"),
    ],
)
def test_malformed_outputs_fail_the_block(result, reason):
    impls = Fakes().implementations() | {"data.record": lambda i, p: result}
    with Runner(default_doc(), CAT, impls, dry_run=True) as runner:
        run = runner.run_part({"part": DOOR, "recipe": RECIPE})
    assert (run.failure.block, run.failure.kind, run.failure.reason) == ("record", "output", reason)


def test_sub_pipelines_run_as_blocks_with_nested_traces():
    inner = make_doc(
        [("qc", "qc.evaluate", {})],
        ["input.film -> qc.film", "input.recipe -> qc.recipe", "qc.report -> output.report"],
        inputs=[{"name": "film", "type": "ThicknessMap"}, {"name": "recipe", "type": "Recipe"}],
        outputs=[{"name": "report", "type": "QCReport"}],
        pipeline_id="inspect",
    )
    cat = CAT.with_pipelines(inner)
    doc = _with_block(default_doc(), "qc", type="pipeline:inspect@1", params={})
    wires = [w.model_dump(by_alias=True) for w in doc.wires if w.to != "qc.predicted"]
    doc = edit(doc, wires=wires)
    fakes = Fakes()
    with Runner(doc, cat, fakes.implementations(), dry_run=True) as runner:
        run = runner.run_part({"part": DOOR, "recipe": RECIPE})
        assert run.status == "completed"
        assert run.outputs["report"] == {"within_tol_pct": 98.4}
        sub = run.block("qc")
        assert sub.type == "pipeline:inspect@1"
        assert [(c.block, c.status) for c in sub.children] == [("qc", "ok")]
        assert sub.work_ms == pytest.approx(sub.children[0].work_ms)
        fakes.fail["qc.evaluate"] = 2
        failed = runner.run_part({"part": DOOR, "recipe": RECIPE})
    assert failed.status == "held"
    assert failed.failure.block == "qc"
    assert (
        "sub-pipeline 'inspect@1', block 'qc': RuntimeError: qc.evaluate broke"
        in failed.failure.reason
    )
    # sub-pipelines need approval too when the outer one runs on an edge
    outer = approved(doc, "op", "ab" * 32)
    with pytest.raises(NotApprovedError, match="'inspect@1'"):
        Runner(outer, cat, fakes.implementations())


def test_summary_over_parts():
    runner, fakes = _runner()
    fakes.fail["robot.execute"] = 1
    runs = runner.run(
        [("a", {"part": DOOR, "recipe": RECIPE}), ("b", {"part": DOOR, "recipe": RECIPE})]
    )
    runs.append(runner.run_part({"part": WRONG, "recipe": RECIPE}, "c"))
    summary = summarize_runs(runs)
    assert summary["parts"] == 3
    assert summary["status"] == {"held": 2, "completed": 1}
    assert summary["failures"] == ["a: block 'execute': RuntimeError: robot.execute broke"]
    assert summary["blocks"]["execute"]["failed"] == 1 and summary["blocks"]["execute"]["ok"] == 1
    assert summary["blocks"]["fit"]["skipped"] == 1 and summary["blocks"]["ask"]["held"] == 1
    runner.close()


def test_abandoned_worker_does_not_block_the_runner():
    release = threading.Event()
    impls = Fakes().implementations() | {
        "camera.capture": lambda i, p: release.wait(5) and {"image": IMAGE, "calibration": {}}
    }
    doc = _with_block(default_doc(), "capture", timeout_s=0.02, retries=0)
    with Runner(doc, CAT, impls, dry_run=True) as runner:
        run = runner.run_part({"part": DOOR, "recipe": RECIPE})
    release.set()
    assert run.failure.kind == "timeout"


def test_a_required_input_left_empty_fails_and_an_empty_optional_one_skips():
    from pipelines import BlockDecl, Port, PortType

    maybe = BlockDecl(
        "test.maybe", "Sometimes measures.", (), (Port("n", PortType.NUMBER, required=False),)
    )
    need = BlockDecl("test.need", "Needs a number.", (Port("n", PortType.NUMBER),), ())
    want = BlockDecl("test.want", "Takes a number.", (Port("n", PortType.NUMBER, False),), ())
    cat = CAT.with_blocks(maybe, need, want)
    doc = make_doc(
        [("m", "test.maybe", {}), ("need", "test.need", {}), ("want", "test.want", {})],
        ["m.n -> need.n", "m.n -> want.n"],
    )
    seen = []
    impls = {
        "test.maybe": lambda i, p: {"n": None},
        "test.need": lambda i, p: seen.append(("need", i)) or {},
        "test.want": lambda i, p: seen.append(("want", i)) or {},
    }
    with Runner(doc, cat, impls, dry_run=True) as runner:
        run = runner.run_part({})
    assert seen == []
    assert (run.failure.block, run.failure.kind) == ("need", "input")
    assert run.failure.reason == "required input 'n' has no value ('m' did not produce 'n')"
    # swap the order: 'want' has nothing to work on and is skipped, then 'need' fails
    doc = make_doc(
        [("m", "test.maybe", {}), ("want", "test.want", {}), ("need", "test.need", {})],
        ["m.n -> need.n", "m.n -> want.n"],
    )
    with Runner(doc, cat, impls, dry_run=True) as runner:
        run = runner.run_part({})
    assert [(t.block, t.status) for t in run.trace] == [
        ("m", "ok"),
        ("want", "skipped"),
        ("need", "failed"),
    ]


def test_a_condition_that_cannot_be_judged_fails_the_branch():
    blocks = [("capture", "camera.capture", {}), ("gate", "flow.branch", {})]
    doc = make_doc(blocks, ["capture.image -> gate.value"], policy="reject")
    with Runner(doc, CAT, Fakes().implementations(), dry_run=True) as runner:
        run = runner.run_part({})  # an image == True is ambiguous
    assert run.status == "rejected"
    assert (run.failure.block, run.failure.kind) == ("gate", "condition")
    assert "truth value of an array" in run.failure.reason
