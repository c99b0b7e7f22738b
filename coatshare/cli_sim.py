"""``coatshare sim ...``: the cell simulator (``dataset`` now; ``run`` with the cell
controller)."""

from __future__ import annotations

from pathlib import Path
from typing import Annotated

import typer

sim_app = typer.Typer(help="Cell simulator: worlds, camera datasets.", no_args_is_help=True)


@sim_app.callback()
def _sim() -> None:
    """Cell simulator: worlds, camera datasets."""


@sim_app.command("dataset")
def dataset_cmd(
    world: Annotated[Path, typer.Argument(help="world file (schema coatshare.world/v1)")],
    images: Annotated[int, typer.Option("--images", min=1, help="number of images")],
    out: Annotated[Path, typer.Option("--out", help="folder to write")],
    cell: Annotated[str | None, typer.Option(help="cell id (default: the first)")] = None,
    seed: Annotated[int | None, typer.Option(help="random seed (default: the world's)")] = None,
    p_no_part: Annotated[float, typer.Option(help="share of empty-belt images")] = 0.04,
    p_several: Annotated[float, typer.Option(help="share of two-part images")] = 0.06,
    p_cut: Annotated[float, typer.Option(help="share of parts cut by the border")] = 0.06,
) -> None:
    """Write camera images of WORLD's belt with ground truth JSON for vision work."""
    from rich.console import Console
    from rich.progress import BarColumn, MofNCompleteColumn, Progress, TimeRemainingColumn

    from sim.dataset import LABELS, DatasetOptions, write_dataset
    from sim.world import load_world

    console = Console()
    w = load_world(world)
    options = DatasetOptions(
        images=images,
        seed=seed,
        cell=cell,
        p_no_part=p_no_part,
        p_several=p_several,
        p_cut_by_border=p_cut,
    )
    with Progress(
        "[progress.description]{task.description}",
        BarColumn(),
        MofNCompleteColumn(),
        TimeRemainingColumn(),
        console=console,
        transient=False,
    ) as progress:
        task = progress.add_task(f"{w.doc.name}: rendering", total=images)
        summary = write_dataset(w, out, options, progress=lambda _: progress.advance(task))
    counts = ", ".join(f"{k} {summary['labels'][k]}" for k in LABELS if summary["labels"][k])
    console.print(
        f"wrote {images} images ({summary['width']}x{summary['height']}, "
        f"{summary['mm_per_px']:.3f} mm/px) to {out}: {counts}"
    )
