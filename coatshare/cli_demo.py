"""``coatshare demo``: the main job on embedded defaults."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Annotated

import typer


def demo(
    out: Annotated[Path, typer.Option(help="folder for the demo's files")] = Path("out/demo"),
    part: Annotated[str, typer.Option(help="part to plan")] = "door",
    finish: Annotated[str, typer.Option(help="finish to lay")] = "benchmark",
) -> None:
    """Plan and simulate the standard door: recipe YAML, metrics JSON and heat map PNG."""
    from rich.console import Console

    from coatshare.render import render_heatmap
    from recipes.document import save
    from recipes.recipe import plan_from_spec

    console = Console()
    out.mkdir(parents=True, exist_ok=True)
    with console.status(f"planning {part} with finish {finish} ..."):
        doc, pred = plan_from_spec(part, finish)
    recipe_path = out / f"{doc.id}.recipe.yaml"
    save(doc, recipe_path)
    (out / f"{doc.id}.metrics.json").write_text(json.dumps(pred.metrics.to_dict(), indent=2))
    png = render_heatmap(
        pred,
        doc.program.to_program(),
        doc.finish,
        out / f"{doc.id}.heatmap.png",
        f"{doc.id} v{doc.version}",
    )
    m = pred.metrics
    console.print(f"[bold]{doc.id}[/] {doc.content_hash[:23]}")
    for face in m.faces.values():
        console.print(
            f"  {face.name:>9}: {face.within_tol_pct:6.2f} % within ±{face.tolerance_pct:g} %"
            f"  mean {face.dft_mean_um:5.1f} um"
        )
    console.print(
        f"  capture {m.capture_pct:.1f} %  paint {m.paint_ml:.1f} ml  cycle {m.cycle_s:.1f} s"
    )
    console.print(f"wrote {recipe_path}, {png}")
