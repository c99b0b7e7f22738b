"""The one command line, ``coatshare``: sub-commands grow with each capability.

Domain errors are turned into a message and exit code 2 here, once.
"""

from __future__ import annotations

import os
import sys

# The deposition kernels make many small (N, 4) @ (4, M) products; BLAS threads only
# contend there, so one thread unless the caller says otherwise.
os.environ.setdefault("OPENBLAS_NUM_THREADS", "1")

import typer
from pydantic import ValidationError

from recipes.errors import CoatshareError

app = typer.Typer(
    name="coatshare",
    help="Shared spray-finishing factories: recipes, cells, edge and cloud.",
    no_args_is_help=True,
    add_completion=False,
    pretty_exceptions_enable=False,
)


def _register() -> None:
    from coatshare.cli_bench import bench_app
    from coatshare.cli_cell import cell_app
    from coatshare.cli_cloud import cloud_app
    from coatshare.cli_demo import demo
    from coatshare.cli_edge import edge_app
    from coatshare.cli_pipeline import pipeline_app
    from coatshare.cli_recipe import recipe_app
    from coatshare.cli_schedule import schedule_app
    from coatshare.cli_sim import sim_app
    from coatshare.cli_vision import vision_app

    app.add_typer(recipe_app, name="recipe")
    app.add_typer(pipeline_app, name="pipeline")
    app.add_typer(sim_app, name="sim")
    app.add_typer(cell_app, name="cell")
    app.add_typer(schedule_app, name="schedule")
    app.add_typer(vision_app, name="vision")
    app.add_typer(bench_app, name="bench")
    app.add_typer(edge_app, name="edge")
    app.add_typer(cloud_app, name="cloud")
    app.command("demo")(demo)


_register()


def main() -> None:
    """Entry point: typer handles usage errors (exit 2); domain errors become one line
    naming the field and the reason, and exit code 2."""
    try:
        app()
    except CoatshareError as exc:
        typer.echo(f"error: {exc}", err=True)
        sys.exit(2)
    except ValidationError as exc:
        from recipes.document import _validation_error

        typer.echo(f"error: {_validation_error(exc, 'options')}", err=True)
        sys.exit(2)
