"""The condition of ``flow.branch``: a field, a comparison, a value. Data, never code.

``field`` is an optional dotted path into the value the branch looks at (mapping keys or
public attributes: ``within_tol_pct``, ``faces.top.coverage_pct``); without it the value
itself is compared. Ordering operators need a number on both sides, ``in``/``not_in`` a
list of values.
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Literal

import numpy as np
from pydantic import BaseModel, ConfigDict, Field, model_validator

from recipes.errors import InvalidInputError

Scalar = bool | int | float | str
Operator = Literal["==", "!=", "<", "<=", ">", ">=", "in", "not_in"]
_ORDERING = {"<", "<=", ">", ">="}
_FIELD = r"^[A-Za-z][A-Za-z0-9_]*(\.[A-Za-z][A-Za-z0-9_]*){0,7}$"


class Condition(BaseModel):
    """``<value>[.field] <op> <value>``, e.g. ``{field: ok, op: "==", value: true}``."""

    model_config = ConfigDict(extra="forbid")

    field: str | None = Field(None, pattern=_FIELD, description="dotted path; none: the value")
    op: Operator = Field("==", description="comparison")
    value: Scalar | list[Scalar] | None = Field(True, description="what to compare with")

    @model_validator(mode="after")
    def _operands_fit(self) -> Condition:
        if self.op in _ORDERING and (
            isinstance(self.value, bool) or not isinstance(self.value, int | float)
        ):
            raise ValueError(f"operator '{self.op}' needs a number to compare with")
        if self.op in {"in", "not_in"} and not isinstance(self.value, list):
            raise ValueError(f"operator '{self.op}' needs a list of values")
        if self.op not in {"in", "not_in"} and isinstance(self.value, list):
            raise ValueError(f"operator '{self.op}' compares with one value, not a list")
        return self

    def describe(self) -> str:
        return f"{self.field or 'value'} {self.op} {self.value!r}"


class ConditionError(InvalidInputError):
    """The data does not have what the condition looks at."""


def field_value(value: object, path: str | None) -> object:
    """Follow a dotted ``path`` through mappings and public attributes."""
    if path is None:
        return value
    walked = []
    for name in path.split("."):
        walked.append(name)
        if isinstance(value, Mapping):
            if name not in value:
                raise ConditionError(".".join(walked), "no such key in the value")
            value = value[name]
        else:
            try:
                value = getattr(value, name)
            except AttributeError:
                kind = type(value).__name__
                raise ConditionError(".".join(walked), f"{kind} has no such field") from None
    return value


def evaluate(condition: Condition, value: object) -> bool:
    """Whether ``value`` satisfies ``condition``."""
    left = field_value(value, condition.field)
    if isinstance(left, np.generic):
        left = left.item()
    op, right = condition.op, condition.value
    if op == "==":
        return bool(left == right)
    if op == "!=":
        return bool(left != right)
    if op == "in":
        return left in right  # type: ignore[operator]
    if op == "not_in":
        return left not in right  # type: ignore[operator]
    if isinstance(left, bool) or not isinstance(left, int | float):
        where = condition.field or "value"
        raise ConditionError(where, f"'{op}' needs a number, got {type(left).__name__}")
    if op == "<":
        return left < right  # type: ignore[operator]
    if op == "<=":
        return left <= right  # type: ignore[operator]
    if op == ">":
        return left > right  # type: ignore[operator]
    return left >= right  # type: ignore[operator]
