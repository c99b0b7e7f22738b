"""Trivial stand-ins for block implementations, and small document builders (tests only)."""

from __future__ import annotations

import time
from collections.abc import Callable
from typing import Any

import numpy as np

from pipelines import PipelineDoc, load_library, standard_catalog

#: a 48 x 64 grey image with a horizontal ramp
IMAGE = np.tile(np.arange(64, dtype=np.uint8) * 4, (48, 1))
DOOR = {"name": "door", "seen": "door"}
WRONG = {"name": "door", "seen": "panel"}
RECIPE = {"id": "door-benchmark", "version": 2}


def film(level_um: float) -> np.ndarray:
    """A (20, 30) thickness map rising from ``level_um`` to ``level_um + 29``."""
    return level_um + np.tile(np.arange(30, dtype=float), (20, 1))


class Fakes:
    """Implementations of every bound standard block; each call is logged in ``calls``.

    ``fail`` maps a block type to how many of its next calls raise; ``sleep_s`` to how long
    each call sleeps.
    """

    def __init__(self) -> None:
        self.calls: list[str] = []
        self.fail: dict[str, int] = {}
        self.sleep_s: dict[str, float] = {}
        self.sent: list[dict[str, Any]] = []

    def _wrap(self, block_type: str, fn: Callable) -> Callable:
        def call(inputs: dict, params) -> dict:
            self.calls.append(block_type)
            if self.sleep_s.get(block_type):
                time.sleep(self.sleep_s[block_type])
            if self.fail.get(block_type, 0) > 0:
                self.fail[block_type] -= 1
                raise RuntimeError(f"{block_type} broke")
            return fn(inputs, params)

        return call

    def implementations(self) -> dict[str, Callable]:
        impls = {
            "camera.capture": lambda i, p: {"image": IMAGE, "calibration": {"fx": 1000.0}},
            "vision.locate": lambda i, p: {
                "pose": {"x_mm": 12.5, "y_mm": -3.0},
                "outline": {"name": i["part"]["seen"], "width_mm": 600.0},
                "confidence": 0.93,
            },
            "vision.check_part": lambda i, p: {
                "ok": i["outline"]["name"] == i["part"]["name"],
                "score": 1.0 if i["outline"]["name"] == i["part"]["name"] else 0.2,
                "reason": "" if i["outline"]["name"] == i["part"]["name"] else "outline differs",
            },
            "recipe.fit": lambda i, p: {
                "program": {"recipe": i["recipe"]["id"], "x_mm": i["pose"]["x_mm"]}
            },
            "sim.predict_thickness": lambda i, p: {
                "thickness": film(40.0),
                "report": {"within_tol_pct": 99.1},
            },
            "robot.execute": lambda i, p: {"film": film(41.0), "cycle_s": 12.5, "completed": True},
            "qc.evaluate": lambda i, p: {"report": {"within_tol_pct": 98.4}, "passed": True},
            "data.record": lambda i, p: {"record_id": f"rec-{i['program']['recipe']}"},
            "notify": self._notify,
        }
        return {t: self._wrap(t, fn) for t, fn in impls.items()}

    def _notify(self, inputs: dict, params) -> dict:
        self.sent.append({"channel": params.channel, **inputs})
        return {}


def default_doc() -> PipelineDoc:
    return load_library("spray_default")


def catalog():
    return standard_catalog()


def make_doc(
    blocks: list[tuple],
    wires: list[str],
    *,
    inputs: list[dict] | None = None,
    outputs: list[dict] | None = None,
    pipeline_id: str = "t",
    version: int = 1,
    policy: str = "hold",
) -> PipelineDoc:
    """A document from ``(id, type, params[, extra fields])`` tuples and ``"a.x -> b.y"``."""
    block_rows = []
    for k, row in enumerate(blocks):
        block_id, block_type, params = row[:3]
        extra = row[3] if len(row) > 3 else {}
        block_rows.append(
            {
                "id": block_id,
                "type": block_type,
                "params": params,
                "position": {"x": 100.0 * k, "y": 0.0},
                **extra,
            }
        )
    return PipelineDoc.model_validate(
        {
            "schema": "coatshare.pipeline/v1",
            "id": pipeline_id,
            "version": version,
            "failure_policy": policy,
            "inputs": inputs or [],
            "outputs": outputs or [],
            "blocks": block_rows,
            "wires": [
                {"from": w.split("->")[0].strip(), "to": w.split("->")[1].strip()} for w in wires
            ],
        }
    )


def edit(doc: PipelineDoc, **changes) -> PipelineDoc:
    """A copy of ``doc`` with some top-level fields replaced (via plain data, revalidated)."""
    data = doc.model_dump(mode="json", by_alias=True)
    data.update(changes)
    return PipelineDoc.model_validate(data)


def wires_of(doc: PipelineDoc) -> list[dict]:
    return [w.model_dump(by_alias=True) for w in doc.wires]


def blocks_of(doc: PipelineDoc) -> list[dict]:
    return [b.model_dump(mode="json") for b in doc.blocks]
