"""Turn a part spec (template name, template with parameters, or file) into a part, and a
recipe's part reference back into the same part."""

from __future__ import annotations

import hashlib
import os
from pathlib import Path

from recipes.errors import InvalidInputError, NotFoundError
from recipes.parts.dxf import load_dxf
from recipes.parts.mesh import MeshPart, chair_leg, load_mesh
from recipes.parts.panel import PanelPart
from recipes.parts.templates import (
    STANDARD_PANELS,
    TEMPLATES,
    check_template_params,
    make_template,
    parse_params,
    parse_template_spec,
)

MESH_TEMPLATES = {"chair_leg": chair_leg}
MESH_SUFFIXES = {".stl", ".obj"}
DEFAULT_THICKNESS_MM = 18.0

Part = PanelPart | MeshPart


def file_sha256(path: Path) -> str:
    return hashlib.sha256(path.read_bytes()).hexdigest()


def known_parts() -> list[str]:
    """Every part name a spec may start with: templates, the standard set, mesh templates."""
    return sorted(set(STANDARD_PANELS) | set(TEMPLATES) | set(MESH_TEMPLATES))


def load_part(
    spec: str, *, thickness_mm: float | None = None, recipe_dir: Path | None = None
) -> tuple[Part, dict]:
    """Part from ``spec``; returns the part and its reference for a recipe document.

    A part file's path is stored relative to ``recipe_dir`` (the directory the recipe will
    be written to), or absolute when that is not known, so the recipe finds its part from
    any working directory.
    """
    path = Path(spec)
    suffix = path.suffix.lower()
    if suffix == ".dxf" or suffix in MESH_SUFFIXES:
        if not path.is_file():
            raise NotFoundError("part file", spec)
        digest = file_sha256(path)
        stored = _stored_path(path, recipe_dir)
        if suffix == ".dxf":
            t = thickness_mm or DEFAULT_THICKNESS_MM
            part = load_dxf(path, t)
            ref = dict(kind="dxf", name=part.name, path=stored, sha256=digest, thickness_mm=t)
        else:
            part = load_mesh(path)
            ref = dict(kind="mesh", name=part.name, path=stored, sha256=digest)
        return part, ref
    name, _, rest = spec.partition(":")
    if name in MESH_TEMPLATES:
        params = parse_params(rest)
        check_template_params(name, MESH_TEMPLATES[name], params)
        part = MESH_TEMPLATES[name](**params)
        return part, dict(kind="mesh", name=name, template=name, params=params)
    if name not in STANDARD_PANELS and name not in TEMPLATES:
        raise NotFoundError("part template", name, known_parts())
    template, params = parse_template_spec(spec)
    if thickness_mm is not None:
        params["thickness_mm"] = thickness_mm
    part = make_template(template, params)
    display = name if name in STANDARD_PANELS and not rest else part.name
    part = PanelPart(display, part.outline, part.thickness_mm, part.source, part.params)
    return part, dict(kind="template", name=display, template=template, params=params)


def part_from_ref(ref: dict, base_dir: Path | None = None) -> Part:
    """Re-create the part a recipe refers to; files are checked against their hash."""
    kind = ref["kind"]
    if kind == "template":
        part = make_template(ref["template"], dict(ref.get("params") or {}))
        return PanelPart(ref["name"], part.outline, part.thickness_mm, part.source, part.params)
    if kind == "mesh" and ref.get("template"):
        return MESH_TEMPLATES[ref["template"]](**dict(ref.get("params") or {}))
    path = _resolved_path(Path(ref["path"]), base_dir)
    digest = file_sha256(path)
    if ref.get("sha256") and digest != ref["sha256"]:
        raise InvalidInputError(
            "part.sha256", f"{path} has changed since the recipe was planned", source=str(path)
        )
    if kind == "dxf":
        return load_dxf(path, float(ref.get("thickness_mm") or DEFAULT_THICKNESS_MM))
    return load_mesh(path)


def _stored_path(path: Path, recipe_dir: Path | None) -> str:
    """``path`` as a recipe stores it: relative to the recipe's directory (POSIX
    separators), or absolute when the recipe's place is unknown."""
    absolute = path.resolve()
    if recipe_dir is None:
        return absolute.as_posix()
    return Path(os.path.relpath(absolute, Path(recipe_dir).resolve())).as_posix()


def _resolved_path(path: Path, base_dir: Path | None) -> Path:
    """A stored part path: relative ones are relative to the recipe's directory
    (``base_dir``); recipes planned before paths were stored that way named them relative
    to the working directory, which is tried second (the file's hash is checked anyway)."""
    candidates = [path] if path.is_absolute() or base_dir is None else [base_dir / path, path]
    for candidate in candidates:
        if candidate.is_file():
            return candidate
    raise NotFoundError("part file", str(candidates[0]))
