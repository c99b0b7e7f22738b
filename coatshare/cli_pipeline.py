"""``coatshare pipeline validate|blocks``: check pipeline documents, show the block catalog.

``validate`` prints every problem (block, port, reason) and exits 2, or exits 0. Sub-pipeline
blocks (``pipeline:<id>@<version>``) resolve against the shipped library and any
``--library`` folder. ``run --world`` is a dry run in the simulator
(:mod:`coatshare.pipeline_sim`): every block bound to its real implementation, one world
cell driven by the cell controller's logic; it prints a row per part, the runner's trace
summary and the target check (reach, predicted and simulated quality, cycle time).
"""

from __future__ import annotations

import json
from pathlib import Path
from typing import Annotated

import typer

pipeline_app = typer.Typer(
    help="Validate low-code pipelines, dry-run them in the simulator, list the block catalog.",
    no_args_is_help=True,
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
    world: Annotated[
        Path | None, typer.Option(help="also dry-run in this world: the target check")
    ] = None,
    parts: Annotated[int, typer.Option(min=1, help="parts for the target check")] = 3,
) -> None:
    """Check FILE against the block catalog; print every problem and exit 2, or exit 0.
    With --world, a valid pipeline is also dry-run there (reach, quality, cycle time)."""
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
    catalog = _catalog(library, exclude=file)
    problems = validate(doc, catalog)
    if as_json:
        report = {
            "file": str(file),
            "pipeline": doc.key,
            "valid": not problems,
            "problems": [p.to_json() for p in problems],
        }
        if world is not None and not problems:
            summary = _dry_run(doc, catalog, world, parts, None, None, None, show="none")
            report["target"] = summary["target"]
        typer.echo(json.dumps(report))
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
        if world is not None:
            _dry_run(doc, catalog, world, parts, None, None, None, show="table")


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


@pipeline_app.command("run")
def run_cmd(
    file: Path,
    world: Annotated[Path, typer.Option("--world", help="world file (coatshare.world/v1)")],
    parts: Annotated[int, typer.Option("--parts", min=1, help="parts to run through")] = 5,
    cell: Annotated[str | None, typer.Option(help="world cell (default: the first)")] = None,
    decision: Annotated[
        str | None, typer.Option(help="answer operator.ask holds with this choice")
    ] = None,
    database: Annotated[
        Path | None, typer.Option(help="SQLite file for data.record (default: in memory)")
    ] = None,
    library: Annotated[list[Path] | None, typer.Option()] = None,
    as_json: Annotated[bool, typer.Option("--json", help="print the summary as JSON")] = False,
) -> None:
    """Dry-run FILE in the simulator on PARTS parts of one cell of WORLD."""
    from pipelines import load

    doc = load(file)
    catalog = _catalog(library, exclude=file)
    show = "json" if as_json else "table"
    _dry_run(doc, catalog, world, parts, cell, decision, database, show=show)


def _dry_run(
    doc,
    catalog,
    world: Path,
    parts: int,
    cell: str | None,
    decision: str | None,
    database: Path | None,
    *,
    show: str,
) -> dict:
    """Run the dry run, print it (``show``: "table", "json" or "none"), return its summary."""
    from rich.console import Console
    from rich.progress import BarColumn, MofNCompleteColumn, Progress, TimeElapsedColumn
    from rich.table import Table

    from coatshare.pipeline_sim import run_in_sim
    from sim.world import load_world

    w = load_world(world)
    console = Console(stderr=show != "table")
    with Progress(
        "[progress.description]{task.description}",
        BarColumn(),
        MofNCompleteColumn(),
        TimeElapsedColumn(),
        console=console,
    ) as progress:
        task = progress.add_task(f"{doc.key} on {w.doc.name}", total=parts)
        result = run_in_sim(
            doc,
            catalog,
            w,
            parts=parts,
            cell_id=cell,
            database=database,
            decision=decision,
            on_part=lambda _row: progress.advance(task),
        )
    summary = result.summary()
    if show == "json":
        typer.echo(json.dumps({**summary, "parts": [r.to_dict() for r in result.rows]}))
    if show != "table":
        return summary
    table = Table(title=f"{doc.key} on {w.doc.name}, cell {result.cell}")
    columns = ("part", "truth", "status", "pose err mm", "fit", "pred %", "sim %", "QC", "cycle s")
    for col in columns:
        table.add_column(col)
    for r in result.rows:
        status = r.status if not r.held_by else f"held ({r.held_by})"
        table.add_row(
            r.part_id,
            r.label,
            status + (f": {r.decision}" if r.decision else ""),
            _fmt(r.pose_error_mm, ".3f"),
            r.fit_action,
            _fmt(r.predicted_within_tol_pct, ".2f"),
            _fmt(r.simulated_within_tol_pct, ".2f"),
            "" if r.qc_passed is None else ("pass" if r.qc_passed else "FAIL"),
            _fmt(r.cycle_s, ".2f"),
        )
    console.print(table)
    runner = summary["runner"]
    console.print(
        f"runner: {runner['status']}, overhead {runner['overhead_ms_mean']:.2f} ms per part "
        f"(max {runner['overhead_ms_max']:.2f})"
    )
    blocks = Table(title="blocks")
    for col in ("block", "type", "ok", "skipped", "failed", "held", "work ms mean", "max"):
        blocks.add_column(col)
    for name, b in runner["blocks"].items():
        blocks.add_row(
            name, b["type"], str(b["ok"]), str(b["skipped"]), str(b["failed"]),
            str(b.get("held", 0)), f"{b['work_ms_mean']:.1f}", f"{b['work_ms_max']:.1f}",
        )  # fmt: skip
    console.print(blocks)
    for line in runner["failures"]:
        console.print(f"  {line}")
    target = summary["target"]
    console.print(
        f"target check: {target['completed']} of {target['sent_to_cell']} programs run to the "
        f"end, refused or aborted: {target['refused_or_aborted'] or 'none'}; within ±tol "
        f"predicted {_fmt(target['predicted_within_tol_pct_mean'], '.2f')} %, simulated "
        f"{_fmt(target['simulated_within_tol_pct_mean'], '.2f')} %; cycle "
        f"{_fmt(target['cycle_s_mean'], '.2f')} s (max {_fmt(target['cycle_s_max'], '.2f')} s); "
        f"QC passed {target['qc_passed']} of {target['parts']}"
    )
    return summary


def _fmt(value: float | None, spec: str) -> str:
    return "" if value is None else format(value, spec)
