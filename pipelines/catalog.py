"""The standard block catalog: declarations of the blocks engineers compose.

Each block wraps one capability of the project; the implementation is bound by the process
that runs the pipeline (vision in ``edge_gateway``, execution in ``robot_nodes``, prediction
in ``sim``). ``flow.branch``, ``flow.merge`` and ``operator.ask`` are executed by the
runner itself: they route and hold parts, they do no work of their own.
"""

from __future__ import annotations

from typing import Literal

from pydantic import BaseModel, ConfigDict, Field, field_validator

from pipelines.condition import Condition
from pipelines.declarations import BlockDecl, Catalog, Port
from pipelines.types import PortType as T

_NAME = r"^[A-Za-z0-9][A-Za-z0-9_.-]{0,63}$"


class _Params(BaseModel):
    model_config = ConfigDict(extra="forbid")


class CaptureParams(_Params):
    camera: str = Field("top", pattern=_NAME, description="camera name in the cell")
    exposure_ms: float = Field(8.0, gt=0, le=100, description="exposure time")
    settle_ms: float = Field(0.0, ge=0, le=2000, description="wait after the part stops")


class LocateParams(_Params):
    polarity: Literal["auto", "bright", "dark"] = Field(
        "auto", description="parts brighter or darker than the belt; auto: either"
    )
    min_part_area_pct: float = Field(
        5.0, gt=0, le=100, description="blobs below this share of the part's area are not parts"
    )
    size_tolerance_mm: float = Field(
        5.0, gt=0, le=50, description="width or height further off than this: wrong part"
    )
    min_confidence: float = Field(
        0.5, ge=0, le=1, description="fail a part that looks right below this match score"
    )


class CheckPartParams(_Params):
    max_size_error_mm: float = Field(3.0, gt=0, le=50, description="width/height tolerance")
    max_area_error_pct: float = Field(2.0, gt=0, le=100, description="area tolerance")
    check_holes: bool = Field(True, description="holes must match the spec too")
    min_score: float = Field(0.9, ge=0, le=1, description="outline match score to call it ok")


class FitParams(_Params):
    max_offset_mm: float = Field(50.0, gt=0, le=500, description="largest pose shift accepted")
    max_rotation_deg: float = Field(15.0, gt=0, le=180, description="largest rotation accepted")
    clip_to_outline: bool = Field(True, description="trim strokes to the real outline")


class PredictParams(_Params):
    spacing_mm: float = Field(4.0, ge=0.5, le=20, description="surface sampling")
    sample_hz: float = Field(500.0, ge=50, le=5000, description="trajectory sampling")


class EvaluateParams(_Params):
    min_within_tol_pct: float = Field(95.0, ge=0, le=100, description="share inside ±tol")
    min_coverage_pct: float = Field(
        99.0, ge=0, le=100, description="share at or above the band's lower limit"
    )
    max_overspray_pct: float = Field(70.0, ge=0, le=100, description="paint missing the part")
    max_below_prediction_pct: float | None = Field(
        None, ge=0, le=100, description="largest drop of 'within ±tol' below the prediction"
    )


class ExecuteParams(_Params):
    cell: str | None = Field(None, pattern=_NAME, description="cell id; none: the running cell")
    min_predicted_within_tol_pct: float = Field(
        0.0, ge=0, le=100, description="refuse to spray if the prediction is below this"
    )


class AskParams(_Params):
    question: str = Field(
        "The part failed its check: accept, rework or scrap?", min_length=1, max_length=200
    )
    choices: list[str] = Field(
        default_factory=lambda: ["accept", "rework", "scrap"], min_length=1, max_length=8
    )

    @field_validator("choices")
    @classmethod
    def _distinct_short(cls, v: list[str]) -> list[str]:
        if len(set(v)) != len(v):
            raise ValueError("choices must be distinct")
        if any(not 1 <= len(c) <= 40 for c in v):
            raise ValueError("each choice needs 1 to 40 characters")
        return v


class NotifyParams(_Params):
    channel: Literal["console", "mqtt"] = "console"
    level: Literal["info", "warning", "alarm"] = "info"
    to: list[str] = Field(
        default_factory=list,
        max_length=20,
        description="recipients; on MQTT, topics <edge prefix>/notify/<name>",
    )
    message: str = Field("", max_length=500, description="text shown with the data")


class RecordParams(_Params):
    keep_image: bool = Field(False, description="store the camera image with the record")
    keep_film: bool = Field(True, description="store the thickness map with the record")
    tags: list[str] = Field(default_factory=list, max_length=10)


class BranchParams(_Params):
    condition: Condition = Field(default_factory=Condition, description="when to take 'then'")


def _opt(name: str, port_type: T, description: str = "") -> Port:
    return Port(name, port_type, False, description)


def standard_blocks() -> list[BlockDecl]:
    """The declarations of the standard catalog, in the order the editor lists them."""
    return [
        BlockDecl(
            "camera.capture",
            "Takes one image of the part with a calibrated cell camera once the conveyor "
            "has stopped, and passes on the camera's calibration with it.",
            inputs=(),
            outputs=(Port("image", T.IMAGE), Port("calibration", T.CAMERA_CALIBRATION)),
            params=CaptureParams,
            timeout_s=2.0,
            retries=1,
        ),
        BlockDecl(
            "vision.locate",
            "Finds the expected part in the image: its pose on the belt and its real outline "
            "in the world, with a confidence (the outline match score). Fails unless exactly "
            "one part is in view; a wrong or damaged part is located all the same.",
            inputs=(
                Port("image", T.IMAGE),
                Port("calibration", T.CAMERA_CALIBRATION),
                Port("part", T.PART_SPEC, True, "the expected part: the locator fits its model"),
            ),
            outputs=(
                Port("pose", T.PART_POSE),
                Port("outline", T.OUTLINE),
                Port("confidence", T.NUMBER),
            ),
            params=LocateParams,
            timeout_s=1.0,
            retries=1,
        ),
        BlockDecl(
            "vision.check_part",
            "Compares the located outline with the expected part (size, area, holes) and says "
            "whether it is the right part, with a match score and a reason when it is not.",
            inputs=(Port("outline", T.OUTLINE), Port("part", T.PART_SPEC), _opt("image", T.IMAGE)),
            outputs=(Port("ok", T.BOOL), Port("score", T.NUMBER), Port("reason", T.TEXT)),
            params=CheckPartParams,
            timeout_s=0.5,
            retries=1,
        ),
        BlockDecl(
            "recipe.fit",
            "Moves the approved recipe's program from the part frame onto the located part "
            "(and trims it to the real outline), refusing poses beyond the given limits.",
            inputs=(
                Port("recipe", T.RECIPE),
                Port("pose", T.PART_POSE),
                _opt("outline", T.OUTLINE),
            ),
            outputs=(Port("program", T.SPRAY_PROGRAM),),
            params=FitParams,
            timeout_s=1.0,
            retries=1,
        ),
        BlockDecl(
            "sim.predict_thickness",
            "Predicts the dry film the fitted program would leave on this part with the "
            "recipe's gun and finish, and the quality figures of that prediction.",
            inputs=(
                Port("program", T.SPRAY_PROGRAM),
                Port("recipe", T.RECIPE),
                _opt("outline", T.OUTLINE, "real outline, if it differs from the recipe's part"),
            ),
            outputs=(Port("thickness", T.THICKNESS_MAP), Port("report", T.QC_REPORT)),
            params=PredictParams,
            timeout_s=10.0,
            retries=1,
        ),
        BlockDecl(
            "robot.execute",
            "Sends the fitted program to the cell controller and waits until the cell has "
            "sprayed it; returns the film the cell reports (the inline gauge, or the simulator's "
            "deposit) and the cycle time. Never retried: paint cannot be taken back.",
            inputs=(
                Port("program", T.SPRAY_PROGRAM),
                _opt("prediction", T.QC_REPORT, "refuse when the prediction is too poor"),
            ),
            outputs=(
                Port("film", T.THICKNESS_MAP),
                Port("cycle_s", T.NUMBER),
                Port("completed", T.BOOL),
            ),
            params=ExecuteParams,
            side_effect_free=False,
            timeout_s=300.0,
        ),
        BlockDecl(
            "qc.evaluate",
            "Judges the film against the recipe's finish (thickness band, coverage, "
            "overspray) and the given limits; returns the QC report and pass or fail.",
            inputs=(
                Port("film", T.THICKNESS_MAP),
                Port("recipe", T.RECIPE),
                _opt("predicted", T.THICKNESS_MAP, "compared with the film in the report"),
            ),
            outputs=(Port("report", T.QC_REPORT), Port("passed", T.BOOL)),
            params=EvaluateParams,
            timeout_s=2.0,
            retries=1,
        ),
        BlockDecl(
            "flow.branch",
            "Routes on data: looks at a value (or one field of it), compares it with a fixed "
            "value, and passes 'data' (or the value itself) on 'then' or on 'else'. Blocks fed "
            "from the branch not taken are skipped for this part.",
            inputs=(Port("value", T.ANY, True, "what the condition looks at"), _opt("data", T.ANY)),
            outputs=(
                Port("then", T.ANY, True, "data when the condition holds", ("data", "value")),
                Port("else", T.ANY, True, "data when it does not", ("data", "value")),
            ),
            params=BranchParams,
            timeout_s=0.1,
            runtime="branch",
        ),
        BlockDecl(
            "flow.merge",
            "Joins two branches: passes on whichever of its inputs arrived (the first if both "
            "did), so the blocks after it run on either path.",
            inputs=(_opt("a", T.ANY), _opt("b", T.ANY)),
            outputs=(Port("value", T.ANY, True, "", ("a", "b")),),
            timeout_s=0.1,
            join="any",
            runtime="merge",
        ),
        BlockDecl(
            "operator.ask",
            "Holds the part and asks an operator at the console to decide (for example accept, "
            "rework or scrap); the pipeline resumes with the decision when it is given.",
            inputs=(
                _opt("data", T.ANY, "shown to the operator"),
                _opt("image", T.IMAGE),
                _opt("reason", T.TEXT),
            ),
            outputs=(Port("decision", T.TEXT),),
            params=AskParams,
            side_effect_free=False,
            timeout_s=0.1,
            runtime="ask",
        ),
        BlockDecl(
            "notify",
            "Sends a message on a channel (the console log, or MQTT) with whatever data "
            "reached it; runs when any of its wired inputs arrived, so it can close branches.",
            inputs=(
                _opt("report", T.QC_REPORT),
                _opt("decision", T.TEXT),
                _opt("record_id", T.TEXT),
                _opt("data", T.ANY),
            ),
            outputs=(),
            params=NotifyParams,
            side_effect_free=False,
            timeout_s=5.0,
            join="any",
        ),
        BlockDecl(
            "data.record",
            "Stores what is known about the part (QC report, program, pose, image, film, "
            "operator decision) in the edge database; the cloud receives it through the outbox.",
            inputs=(
                _opt("report", T.QC_REPORT),
                _opt("program", T.SPRAY_PROGRAM),
                _opt("pose", T.PART_POSE),
                _opt("image", T.IMAGE),
                _opt("film", T.THICKNESS_MAP),
                _opt("decision", T.TEXT),
            ),
            outputs=(Port("record_id", T.TEXT),),
            params=RecordParams,
            side_effect_free=False,
            timeout_s=5.0,
        ),
    ]


def standard_catalog() -> Catalog:
    """A catalog of the standard blocks (add sub-pipelines with ``with_pipelines``)."""
    return Catalog(standard_blocks())
