"""``coatshare recipe plan|simulate|show``."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Annotated

import typer

recipe_app = typer.Typer(help="Plan, simulate and show spray recipes.", no_args_is_help=True)


@recipe_app.command("plan")
def plan_cmd(
    part: Annotated[
        str,
        typer.Option(
            help="template (door, tall_panel, rect:width_mm=500,...), .dxf, .stl/.obj or chair_leg"
        ),
    ],
    finish: Annotated[str, typer.Option(help="finish name or YAML file")],
    output: Annotated[Path, typer.Option("-o", "--output", help="recipe YAML to write")],
    gun: Annotated[str | None, typer.Option(help="gun YAML (default: the benchmark gun)")] = None,
    recipe_id: Annotated[str | None, typer.Option("--id", help="recipe id")] = None,
    standoff_mm: Annotated[float | None, typer.Option()] = None,
    speed_mm_s: Annotated[float | None, typer.Option()] = None,
    direction: Annotated[str, typer.Option(help="auto, long_edge or an angle in degrees")] = "auto",
    coats: Annotated[int | None, typer.Option()] = None,
    edge_passes: Annotated[bool, typer.Option("--edge-passes/--no-edge-passes")] = True,
    spacing_mm: Annotated[float, typer.Option(help="surface sampling for the prediction")] = 2.0,
    set_values: Annotated[
        list[str] | None,
        typer.Option(
            "--set",
            help="any planner parameter by its field name, key=value (repeatable; "
            "e.g. --set pitch_mm=55 --set hole_gap_mm=0); wins over the options above",
        ),
    ] = None,
) -> None:
    """Plan a program for PART with FINISH, predict its film, write a draft recipe."""
    from recipes.document import save
    from recipes.planner import planner_params
    from recipes.recipe import plan_from_spec

    try:
        dir_value: str | float = float(direction)
    except ValueError:
        dir_value = direction
    params = planner_params(
        dict(
            standoff_mm=standoff_mm,
            speed_mm_s=speed_mm_s,
            direction=dir_value,
            coats=coats,
            edge_passes=edge_passes,
            spacing_mm=spacing_mm,
        ),
        set_values or [],
    )
    doc, pred = plan_from_spec(
        part, finish, gun, params, recipe_id=recipe_id, recipe_dir=output.parent
    )
    save(doc, output)
    m = pred.metrics
    typer.echo(
        f"{output}: {doc.id} v{doc.version} {doc.content_hash[:19]}  within ±tol "
        f"{m.within_tol_pct:.2f} %  DFT {m.dft_mean_um:.1f} um  capture {m.capture_pct:.1f} %  "
        f"paint {m.paint_ml:.1f} ml  cycle {m.cycle_s:.1f} s"
    )


@recipe_app.command("simulate")
def simulate_cmd(
    recipe: Path,
    as_json: Annotated[bool, typer.Option("--json", help="print one JSON object")] = False,
    spacing_mm: Annotated[float | None, typer.Option()] = None,
    sample_hz: Annotated[float | None, typer.Option()] = None,
) -> None:
    """Predict the film of RECIPE's program and print its metrics."""
    from recipes.document import load
    from recipes.recipe import simulate_recipe

    doc = load(recipe)
    _, pred = simulate_recipe(doc, recipe.parent, spacing_mm=spacing_mm, sample_hz=sample_hz)
    metrics = pred.metrics.to_dict()
    if as_json:
        typer.echo(json.dumps(metrics, sort_keys=False))
        return
    for key, value in metrics.items():
        if key != "faces":
            typer.echo(f"{key:>26}: {value}")
    for name, face in metrics["faces"].items():
        typer.echo(f"  {name}: " + ", ".join(f"{k}={v}" for k, v in face.items() if k != "name"))


@recipe_app.command("show")
def show_cmd(
    recipe: Path,
    output: Annotated[Path, typer.Option("-o", "--output", help="PNG to write")],
    spacing_mm: Annotated[float | None, typer.Option()] = None,
) -> None:
    """Heat map of RECIPE's predicted dry film with the path and a box of metrics."""
    from recipes.document import load
    from recipes.heatmap import render_heatmap
    from recipes.recipe import simulate_recipe

    doc = load(recipe)
    _, pred = simulate_recipe(doc, recipe.parent, spacing_mm=spacing_mm)
    render_heatmap(
        pred,
        doc.program.to_program(),
        doc.finish,
        output,
        f"{doc.id} v{doc.version} ({doc.approval.status})",
    )
    typer.echo(str(output))
