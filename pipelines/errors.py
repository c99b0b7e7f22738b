"""Errors of the pipeline engine; all are :class:`recipes.errors.CoatshareError`."""

from __future__ import annotations

from typing import TYPE_CHECKING

from recipes.errors import CoatshareError, InvalidInputError

if TYPE_CHECKING:
    from pipelines.validate import Problem


class PipelineInvalidError(InvalidInputError):
    """A document that breaks one or more rules; ``problems`` holds every one of them."""

    def __init__(self, pipeline: str, problems: list[Problem], *, source: str | None = None):
        self.problems = list(problems)
        first = str(self.problems[0]) if self.problems else "invalid"
        more = f" (and {len(self.problems) - 1} more)" if len(self.problems) > 1 else ""
        super().__init__(f"pipeline '{pipeline}'", f"{first}{more}", source=source)


class NotApprovedError(CoatshareError, PermissionError):
    """A pipeline version that may not run on an edge: not approved, or altered since."""

    def __init__(self, pipeline: str, reason: str) -> None:
        self.pipeline = pipeline
        self.reason = reason
        super().__init__(f"pipeline '{pipeline}': {reason}")
