"""Turn a part spec (template name, template with parameters, or file) into a part, and a
recipe's part reference back into the same part."""

from __future__ import annotations

import hashlib
from pathlib import Path

from recipes.errors import InvalidInputError, NotFoundError
from recipes.parts.dxf import load_dxf
from recipes.parts.mesh import MeshPart, chair_leg, load_mesh
from recipes.parts.panel import PanelPart
from recipes.parts.templates import (
    STANDARD_PANELS,
    TEMPLATES,
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
    return sorted(list(STANDARD_PANELS) + list(TEMPLATES) + list(MESH_TEMPLATES))


def load_part(spec: str, *, thickness_mm: float | None = None) -> tuple[Part, dict]:
    """Part from ``spec``; returns the part and its reference for a recipe document."""
    path = Path(spec)
    suffix = path.suffix.lower()
    if suffix == ".dxf" or suffix in MESH_SUFFIXES:
        if not path.is_file():
            raise NotFoundError("part file", spec)
        digest = file_sha256(path)
        if suffix == ".dxf":
            t = thickness_mm or DEFAULT_THICKNESS_MM
            part = load_dxf(path, t)
            ref = dict(kind="dxf", name=part.name, path=str(path), sha256=digest, thickness_mm=t)
        else:
            part = load_mesh(path)
            ref = dict(kind="mesh", name=part.name, path=str(path), sha256=digest)
        return part, ref
    name, _, rest = spec.partition(":")
    if name in MESH_TEMPLATES:
        params = parse_params(rest)
        try:
            part = MESH_TEMPLATES[name](**params)
        except TypeError as exc:
            raise InvalidInputError("part", f"template '{name}': {exc}") from None
        return part, dict(kind="mesh", name=name, template=name, params=params)
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
    path = Path(ref["path"])
    if not path.is_absolute() and base_dir is not None and not path.exists():
        path = base_dir / path
    if not path.is_file():
        raise NotFoundError("part file", str(path))
    digest = file_sha256(path)
    if ref.get("sha256") and digest != ref["sha256"]:
        raise InvalidInputError(
            "part.sha256", f"{path} has changed since the recipe was planned", source=str(path)
        )
    if kind == "dxf":
        return load_dxf(path, float(ref.get("thickness_mm") or DEFAULT_THICKNESS_MM))
    return load_mesh(path)
