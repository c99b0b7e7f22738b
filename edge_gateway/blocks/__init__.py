"""The edge's block implementations, bound to the catalog's declarations by the process
that runs a pipeline (see ``docs/pipelines.md``, "Bindings").

:func:`edge_implementations` gives the edge's own blocks: ``vision.locate``,
``vision.check_part``, ``recipe.fit``, ``qc.evaluate``, ``data.record`` and ``notify``.
``camera.capture``, ``sim.predict_thickness`` and ``robot.execute`` come from the cell the
pipeline runs for (the simulator's in a dry run).
"""

from __future__ import annotations

from collections.abc import Callable

from edge_gateway.blocks.recipe import RecipeBlocks
from edge_gateway.blocks.record import PartContext, RecordBlocks
from edge_gateway.blocks.values import MeasuredOutline, PartPose
from edge_gateway.blocks.vision import BlockFailedError, VisionBlocks, camera_model
from recipes.fit import FittedProgram


def edge_implementations(
    vision: VisionBlocks, recipe: RecipeBlocks, records: RecordBlocks
) -> dict[str, Callable]:
    """Block type -> implementation for the edge's own blocks."""
    return {
        "vision.locate": vision.locate,
        "vision.check_part": vision.check_part,
        "recipe.fit": recipe.fit,
        "qc.evaluate": recipe.evaluate,
        "data.record": records.record,
        "notify": records.notify,
    }


__all__ = [
    "BlockFailedError",
    "FittedProgram",
    "MeasuredOutline",
    "PartContext",
    "PartPose",
    "RecipeBlocks",
    "RecordBlocks",
    "VisionBlocks",
    "camera_model",
    "edge_implementations",
]
