"""``coatshare sim ...``: the cell simulator: camera ``dataset``s, and production ``run``s with
the cell controllers."""

from __future__ import annotations

from pathlib import Path
from typing import Annotated

import typer

sim_app = typer.Typer(
    help="Cell simulator: production runs with the cell controllers, camera datasets.",
    no_args_is_help=True,
)


@sim_app.callback()
def _sim() -> None:
    """Cell simulator: production runs with the cell controllers, camera datasets."""


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


@sim_app.command("run")
def run_cmd(
    world: Annotated[Path, typer.Argument(help="world file (schema coatshare.world/v1)")],
    parts: Annotated[int, typer.Option("--parts", min=1, help="parts each cell paints")],
    report: Annotated[Path, typer.Option("--report", help="folder for the report")],
    finish: Annotated[str, typer.Option(help="finish the recipes are planned for")] = "benchmark",
    gun: Annotated[str | None, typer.Option(help="gun YAML (default: the benchmark gun)")] = None,
    edge_passes: Annotated[
        bool, typer.Option("--edge-passes/--no-edge-passes", help="plan edge passes")
    ] = False,
    placement: Annotated[
        str, typer.Option(help="truth (fit programs to the real part pose) or nominal")
    ] = "truth",
    domain_id: Annotated[int | None, typer.Option(help="DDS domain (default: random)")] = None,
    camera: Annotated[bool, typer.Option("--camera/--no-camera", help="render frames")] = True,
    timeout_s: Annotated[float | None, typer.Option(help="give up after (wall s)")] = None,
    sim_time: Annotated[
        bool,
        typer.Option(
            "--sim-time/--real-time",
            help="controllers on sim time, the simulator in lock-step as fast as they keep up "
            "(default); or controllers on the host clock, a cell's work in real time",
        ),
    ] = True,
) -> None:
    """Run WORLD's cells with their cell controllers for N parts each; print and write the
    per-part results (metrics table, heat maps) to REPORT."""
    from rich.console import Console
    from rich.progress import BarColumn, MofNCompleteColumn, Progress, TimeElapsedColumn
    from rich.table import Table

    from recipes.errors import CoatshareError
    from sim.report import CONSOLE_COLUMNS, table_rows, write_report
    from sim.run import ProductionRun, RunOptions

    console = Console()
    options = RunOptions(
        parts=parts,
        finish=finish,
        gun=gun,
        edge_passes=edge_passes,
        placement=placement,
        domain_id=domain_id,
        camera=camera,
        timeout_s=timeout_s,
        sim_time=sim_time,
    )
    with ProductionRun(world, report, options) as run:
        specs = ", ".join(run.expected_specs())
        with console.status(f"starting the simulator and the cells; planning recipes ({specs})"):
            run.start()
        with Progress(
            "[progress.description]{task.description}",
            BarColumn(),
            MofNCompleteColumn(),
            TimeElapsedColumn(),
            console=console,
        ) as progress:
            task = progress.add_task(f"{run.world.doc.name}: painting", total=run.expected_results)

            def advance(result: dict) -> None:
                within = (result.get("metrics") or {}).get("within_tol_pct", float("nan"))
                verdict = "pass" if result["qc"]["passed"] else "FAIL"
                progress.console.print(
                    f"  {result['part_id']}: within tol {within:.2f} %, QC {verdict}"
                )
                progress.advance(task)

            run.on_result = advance
            try:
                results = run.run_to_end()
            except (CoatshareError, KeyboardInterrupt):
                write_report(report, run.sorted_results(), run.meta())  # what there is
                console.print(f"[red]run stopped[/]: partial report in {report}")
                raise
        meta = run.meta()
    paths = write_report(report, results, meta)
    table = Table(title=f"{meta['world_name']}: {len(results)} parts")
    for _, header in CONSOLE_COLUMNS:
        table.add_column(header, justify="left")
    for row in table_rows(results):
        table.add_row(*(row[k] for k, _ in CONSOLE_COLUMNS))
    console.print(table)
    console.print(f"report: {paths['md']}, {paths['json']}, heat maps in {report / 'heat'}")
