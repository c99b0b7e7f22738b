"""``coatshare demo``: the main job on embedded defaults (see :mod:`coatshare.factory_demo`)."""

from __future__ import annotations

from pathlib import Path
from typing import Annotated

import typer


def demo(
    out: Annotated[Path, typer.Option(help="folder for the demo's files")] = Path("out/demo"),
    parts: Annotated[int, typer.Option(min=1, max=50, help="parts cell 1 paints")] = 4,
) -> None:
    """Firms quote and book over the edge API; the cloud plans the recipes they need, an
    approver approves them and the edge holds them; the scheduler plans the queue; a
    simulated cell paints a job's parts through the default pipeline; the records reach
    the cloud; a report with the recipes, the plan and heat maps goes to OUT."""
    from rich.console import Console

    from coatshare.factory_demo import run_factory_demo

    console = Console()
    result = run_factory_demo(out, parts=parts, say=console.print)
    console.print(f"[bold]report:[/] {result.files['report']}")
