"""``coatshare pipeline validate|blocks``: check pipeline documents, show the block catalog.

``validate`` prints every problem (block, port, reason) and exits 2, or exits 0. Sub-pipeline
blocks (``pipeline:<id>@<version>``) resolve against the shipped library and any
``--library`` folder. ``run --world`` (a dry run in the simulator) binds the simulator's
implementations and calls :meth:`pipelines.Runner.run` and
:func:`pipelines.summarize_runs`; it comes with the simulator.
"""

from __future__ import annotations

import json
from pathlib import Path
from typing import Annotated

import typer

pipeline_app = typer.Typer(
    help="Validate low-code pipelines and list the block catalog.", no_args_is_help=True
)


def _catalog(library: list[Path] | None, exclude: Path | None = None):
    """The standard catalog plus the library pipelines (shipped, then ``--library``)."""
    from pipelines import library_paths, load, standard_catalog

    paths = list(library_paths())
    for folder in library or []:
        paths += sorted(folder.glob("*.yaml")) + sorted(folder.glob("*.json"))
    docs = [load(p) for p in paths if exclude is None or p.resolve() != exclude.resolve()]
    return standard_catalog().with_pipelines(*docs)


@pipeline_app.command("validate")
def validate_cmd(
    file: Path,
    library: Annotated[
        list[Path] | None, typer.Option(help="folder of pipelines usable as sub-pipeline blocks")
    ] = None,
    as_json: Annotated[bool, typer.Option("--json", help="print problems as JSON")] = False,
) -> None:
    """Check FILE against the block catalog; print every problem and exit 2, or exit 0."""
    from pipelines import DocumentError, load, validate

    try:
        doc = load(file)
    except DocumentError as exc:
        rows = [{"field": f, "reason": r} for f, r in exc.problems]
        if as_json:
            typer.echo(json.dumps({"file": str(file), "valid": False, "problems": rows}))
        else:
            for field, reason in exc.problems:
                typer.echo(f"{file}: {field}: {reason}")
        raise typer.Exit(2) from None
    problems = validate(doc, _catalog(library, exclude=file))
    if as_json:
        typer.echo(
            json.dumps(
                {
                    "file": str(file),
                    "pipeline": doc.key,
                    "valid": not problems,
                    "problems": [p.to_json() for p in problems],
                }
            )
        )
    else:
        for problem in problems:
            typer.echo(f"{file}: {problem}")
    if problems:
        if not as_json:
            typer.echo(f"{len(problems)} problem(s)")
        raise typer.Exit(2)
    if not as_json:
        typer.echo(
            f"{file}: pipeline '{doc.key}' is valid ({len(doc.blocks)} blocks, "
            f"{len(doc.wires)} wires, {doc.approval.status})"
        )


@pipeline_app.command("blocks")
def blocks_cmd(
    as_json: Annotated[
        bool, typer.Option("--json", help="the catalog with parameter schemas")
    ] = False,
    library: Annotated[list[Path] | None, typer.Option()] = None,
) -> None:
    """List the block catalog: ports, side effects, time-outs; ``--json`` adds the schemas."""
    catalog = _catalog(library)
    if as_json:
        typer.echo(json.dumps(catalog.to_json(), indent=2))
        return
    for decl in catalog:
        ins = ", ".join(f"{p.name}:{p.type.value}{'' if p.required else '?'}" for p in decl.inputs)
        outs = ", ".join(f"{p.name}:{p.type.value}" for p in decl.outputs)
        effect = "pure" if decl.side_effect_free else "side effects"
        typer.echo(f"{decl.type:<24} ({ins}) -> ({outs})  [{effect}, {decl.timeout_s:g} s]")
