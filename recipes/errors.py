"""Domain errors of the spray core.

Every error names *where* (a field path, a file, a block) and *why*; the CLI turns them
into exit code 2 and the services into HTTP answers, each in one place.
"""

from __future__ import annotations


class CoatshareError(Exception):
    """Base class of all domain errors."""


class InvalidInputError(CoatshareError, ValueError):
    """Input that breaks a rule: names the field (dotted path) and the reason."""

    def __init__(self, field: str, reason: str, *, source: str | None = None) -> None:
        self.field = field
        self.reason = reason
        self.source = source
        where = f"{source}: " if source else ""
        super().__init__(f"{where}{field}: {reason}")


class UnreachableTargetError(InvalidInputError):
    """A film target that the gun cannot reach within its limits."""


class NotFoundError(CoatshareError, LookupError):
    """A named thing (template, finish, file) that does not exist."""

    def __init__(self, kind: str, name: str, known: list[str] | None = None) -> None:
        self.kind = kind
        self.name = name
        hint = f" (known: {', '.join(sorted(known))})" if known else ""
        super().__init__(f"{kind} '{name}' not found{hint}")
