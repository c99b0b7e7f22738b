"""Recipes end to end: plan a recipe document for a part and finish; predict its film."""

from __future__ import annotations

from pathlib import Path

import yaml
from pydantic import ValidationError

from recipes.document import PartRef, ProgramDoc, RecipeDoc, _validation_error
from recipes.errors import InvalidInputError
from recipes.finish import Finish, builtin_finish
from recipes.gun import BENCHMARK_GUN, GunModel
from recipes.parts.loader import Part, load_part, part_from_ref
from recipes.planner import PlannerParams, plan
from recipes.simulate import Prediction, predict


def load_finish(spec: str) -> Finish:
    """A built-in finish by name, or a YAML file with the Finish fields."""
    path = Path(spec)
    if path.suffix.lower() in {".yaml", ".yml"}:
        return _load_model(Finish, path)
    return builtin_finish(spec)


def load_gun(spec: str | None) -> GunModel:
    return BENCHMARK_GUN if spec is None else _load_model(GunModel, Path(spec))


def _load_model(cls, path: Path):
    try:
        data = yaml.safe_load(path.read_text(encoding="utf-8"))
    except OSError as exc:
        raise InvalidInputError("path", f"cannot read: {exc.strerror}", source=str(path)) from None
    try:
        return cls.model_validate(data)
    except ValidationError as exc:
        raise _validation_error(exc, str(path)) from None


def plan_recipe(
    part: Part,
    part_ref: dict,
    finish: Finish,
    gun: GunModel = BENCHMARK_GUN,
    params: PlannerParams | None = None,
    *,
    recipe_id: str | None = None,
    version: int = 1,
) -> tuple[RecipeDoc, Prediction]:
    """Plan, predict, and wrap the result in a hashed, draft recipe document."""
    params = params or PlannerParams()
    result = plan(part, finish, gun, params)
    # the stored (rounded) program is the one we predict, so the file and its metrics agree
    program_doc = ProgramDoc.from_program(result.program, result.coats)
    program = program_doc.to_program()
    prediction = predict(
        part, program, gun, finish, spacing_mm=params.spacing_mm, sample_hz=params.sample_hz
    )
    doc = RecipeDoc(
        id=recipe_id or f"{part_ref['name']}-{finish.name}",
        version=version,
        part=PartRef.model_validate(part_ref),
        finish=finish,
        gun=gun,
        planner=params,
        chosen={**result.chosen(), "notes": list(result.notes)},
        program=program_doc,
        metrics=prediction.metrics.to_dict(),
    ).with_hash()
    return doc, prediction


def plan_from_spec(
    part_spec: str,
    finish_spec: str,
    gun_spec: str | None = None,
    params: PlannerParams | None = None,
    *,
    recipe_dir: Path | None = None,
    **kw,
) -> tuple[RecipeDoc, Prediction]:
    """:func:`plan_recipe` from specs; ``recipe_dir`` is where the recipe will be written
    (part file paths are stored relative to it)."""
    part, ref = load_part(part_spec, recipe_dir=recipe_dir)
    return plan_recipe(part, ref, load_finish(finish_spec), load_gun(gun_spec), params, **kw)


def simulate_recipe(
    doc: RecipeDoc,
    base_dir: Path | None = None,
    *,
    spacing_mm: float | None = None,
    sample_hz: float | None = None,
) -> tuple[Part, Prediction]:
    part = part_from_ref(doc.part.model_dump(), base_dir)
    prediction = predict(
        part,
        doc.program.to_program(),
        doc.gun,
        doc.finish,
        spacing_mm=spacing_mm or doc.planner.spacing_mm,
        sample_hz=sample_hz or doc.planner.sample_hz,
    )
    return part, prediction
