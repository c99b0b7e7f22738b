"""``coatshare bench ...``: the benchmarks under benchmarks/, figures to JSON."""

from __future__ import annotations

from pathlib import Path
from typing import Annotated

import typer

bench_app = typer.Typer(help="Run benchmarks and write their figures.", no_args_is_help=True)


@bench_app.command("core")
def core_cmd(
    out: Annotated[Path, typer.Option(help="folder for figures")] = Path("docs/bench"),
) -> None:
    """Spray core: planner vs naive baseline on the standard parts, and deposition speed."""
    from benchmarks.spray_core import run

    run(out)


@bench_app.command("all")
def all_cmd(out: Annotated[Path, typer.Option()] = Path("docs/bench")) -> None:
    """Every benchmark in turn."""
    core_cmd(out)
