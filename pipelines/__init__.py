"""The low-code pipeline engine: block declarations, documents, validation and the runner.

Block implementations live with the capability they wrap and are bound by the process that
runs a pipeline; this package only declares, checks and orchestrates.
"""

from pipelines.approval import approved, require_approved
from pipelines.catalog import standard_blocks, standard_catalog
from pipelines.condition import Condition, ConditionError, evaluate
from pipelines.declarations import (
    BlockDecl,
    Catalog,
    NoParams,
    Port,
    pipeline_block_type,
    pipeline_decl,
)
from pipelines.diff import PipelineDiff, diff
from pipelines.document import (
    SCHEMA,
    BlockDoc,
    DocumentError,
    PipelineDoc,
    PortSpec,
    Position,
    Wire,
    dumps,
    library_paths,
    load,
    load_library,
    loads,
    save,
)
from pipelines.errors import NotApprovedError, PipelineInvalidError
from pipelines.results import BlockTrace, Failure, HeldState, PartRun, summarize_runs
from pipelines.runner import Implementation, Runner
from pipelines.trace import Thumbnail, encode_png, summarize, thumbnail
from pipelines.types import PortType, compatible
from pipelines.validate import Analysis, Problem, analyse, check, validate

__all__ = [
    "SCHEMA",
    "Analysis",
    "BlockDecl",
    "BlockDoc",
    "BlockTrace",
    "Catalog",
    "Condition",
    "ConditionError",
    "DocumentError",
    "Failure",
    "HeldState",
    "Implementation",
    "NoParams",
    "NotApprovedError",
    "PartRun",
    "PipelineDiff",
    "PipelineDoc",
    "PipelineInvalidError",
    "Port",
    "PortSpec",
    "PortType",
    "Position",
    "Problem",
    "Runner",
    "Thumbnail",
    "Wire",
    "analyse",
    "approved",
    "check",
    "compatible",
    "diff",
    "dumps",
    "encode_png",
    "evaluate",
    "library_paths",
    "load",
    "load_library",
    "loads",
    "pipeline_block_type",
    "pipeline_decl",
    "require_approved",
    "save",
    "standard_blocks",
    "standard_catalog",
    "summarize",
    "summarize_runs",
    "thumbnail",
    "validate",
]
