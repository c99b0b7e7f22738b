"""``data.record`` and ``notify`` at the edge.

Both need to know which part the pipeline is running for: the process that runs the
pipeline sets :attr:`PartContext` on :class:`RecordBlocks` before each part (one runner
per cell, one part at a time). ``data.record`` stores a :class:`~edge_gateway.records.PartRecord`
(and its outbox message) in the edge database; ``notify`` writes to the console log and
keeps what it sent, or publishes on MQTT (QoS 1) under the edge's topic prefix.
"""

from __future__ import annotations

import json
import logging
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

import numpy as np

from edge_gateway.blocks.values import PartPose
from edge_gateway.records import PartRecord, PartRecordStore
from recipes.errors import InvalidInputError
from recipes.film import ThicknessMap
from recipes.fit import FittedProgram

log = logging.getLogger("coatshare.notify")


@dataclass(frozen=True)
class PartContext:
    """The part a pipeline runs for."""

    part_id: str
    job_id: str | None = None
    cell_id: str | None = None
    pipeline: str | None = None


def _png(image: np.ndarray) -> bytes:
    import cv2

    ok, buf = cv2.imencode(".png", image)
    if not ok:
        raise InvalidInputError("image", "cannot encode as PNG")
    return buf.tobytes()


def _jsonable(value: Any) -> Any:
    if value is None or isinstance(value, (str, int, float, bool)):
        return value
    to_dict = getattr(value, "to_dict", None)
    if callable(to_dict):
        return to_dict()
    if isinstance(value, dict):
        return {str(k): _jsonable(v) for k, v in value.items()}
    if isinstance(value, (list, tuple)):
        return [_jsonable(v) for v in value]
    summary = getattr(value, "trace_summary", None)
    return summary() if callable(summary) else type(value).__name__


class RecordBlocks:
    """``data.record`` into ``store``; ``notify`` to the log and, for the ``mqtt`` channel,
    through ``publish(topic, payload)`` under ``topic_prefix``."""

    def __init__(
        self,
        store: PartRecordStore,
        *,
        publish: Callable[[str, str], None] | None = None,
        topic_prefix: str = "coatshare/edge",
    ) -> None:
        self.store = store
        self.publish = publish
        self.topic_prefix = topic_prefix.rstrip("/")
        self.context = PartContext(part_id="unnamed")
        self.sent: list[dict[str, Any]] = []

    def record(self, inputs: dict, params: Any) -> dict:
        ctx = self.context
        report = inputs.get("report")
        program = inputs.get("program")
        pose = inputs.get("pose")
        film = inputs.get("film")
        image = inputs.get("image")
        decision = inputs.get("decision")
        passed = report.get("passed") if isinstance(report, dict) else None
        if decision is not None:
            status = "held"
        elif report is not None:
            status = "done"
        else:
            status = "failed"
        recipe = None
        if isinstance(program, FittedProgram):
            recipe = f"{program.recipe.id}@{program.recipe.version}"
        film_um = None
        if params.keep_film and isinstance(film, ThicknessMap):
            film_um = film.top_map_um() if film.samples.grid is not None else film.dry_um
        record = PartRecord(
            part_id=ctx.part_id,
            status=status,
            job_id=ctx.job_id,
            cell_id=ctx.cell_id,
            pipeline=ctx.pipeline,
            recipe=recipe,
            passed=None if passed is None else bool(passed),
            report=_jsonable(report),
            program=_jsonable(program),
            pose=pose.to_dict() if isinstance(pose, PartPose) else _jsonable(pose),
            decision=None if decision is None else str(decision),
            tags=tuple(params.tags),
            film_um=film_um,
            image_png=_png(image) if params.keep_image and isinstance(image, np.ndarray) else None,
        )
        return {"record_id": self.store.add(record)}

    def notify(self, inputs: dict, params: Any) -> dict:
        ctx = self.context
        message = dict(
            part_id=ctx.part_id,
            job_id=ctx.job_id,
            cell_id=ctx.cell_id,
            level=params.level,
            message=params.message,
            to=list(params.to),
            **{k: _jsonable(v) for k, v in sorted(inputs.items()) if v is not None},
        )
        if params.channel == "mqtt":
            if self.publish is None:
                raise InvalidInputError("notify.channel", "this edge has no MQTT link")
            payload = json.dumps(message, sort_keys=True, allow_nan=False)
            for name in params.to or ["all"]:
                self.publish(f"{self.topic_prefix}/notify/{name}", payload)
        level = {"info": logging.INFO, "warning": logging.WARNING, "alarm": logging.ERROR}
        log.log(level[params.level], "%s %s: %s", ctx.part_id, params.message, message)
        self.sent.append({"channel": params.channel, **message})
        return {}


__all__ = ["PartContext", "RecordBlocks"]
