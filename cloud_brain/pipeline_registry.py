"""The pipelines the cloud knows and checks: the shipped library, and validation of a
pipeline document against the block declarations alone (DESIGN.md: the cloud validates
with declarations; implementations are bound where a pipeline runs).
"""

from __future__ import annotations

import dataclasses
from typing import Any

from pipelines import library_paths, load, standard_catalog
from pipelines.document import loads
from pipelines.validate import validate


def library() -> list[dict[str, Any]]:
    """The shipped pipelines: id, version, description, blocks, content hash."""
    out = []
    for path in library_paths():
        doc = load(path)
        out.append(
            {
                "id": doc.id,
                "version": doc.version,
                "key": doc.key,
                "description": doc.description,
                "blocks": [b.type for b in doc.blocks],
                "content_hash": doc.content_hash,
            }
        )
    return out


def check_document(text: str) -> dict[str, Any]:
    """Whether the pipeline document ``text`` is valid against the standard blocks (and
    the shipped pipelines as sub-pipelines), with every problem found.

    Raises
    ------
    InvalidInputError
        When the text is no pipeline document at all (naming the field).
    """
    doc = loads(text, "document", check_hash=False)
    catalog = standard_catalog().with_pipelines(*(load(p) for p in library_paths()))
    problems = validate(doc, catalog)
    return {
        "key": doc.key,
        "valid": not problems,
        "problems": [dataclasses.asdict(p) for p in problems],
    }


__all__ = ["check_document", "library"]
