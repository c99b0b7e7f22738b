"""``coatshare cell ...``: run a cell controller, make approval keys."""

from __future__ import annotations

import logging
import signal
import threading
from pathlib import Path
from typing import Annotated

import typer

cell_app = typer.Typer(help="Robot spray cells: the cell controller node.", no_args_is_help=True)


@cell_app.command("run")
def run_cmd(
    cell: Annotated[str, typer.Option("--cell", help="cell id; the namespace is /cell_<id>")],
    backend: Annotated[str, typer.Option(help="ROS 2 bus backend: dds or rclpy")] = "dds",
    approval_key: Annotated[
        Path | None, typer.Option(help="public approval key file (hex); overrides the config")
    ] = None,
    domain_id: Annotated[
        int | None, typer.Option(help="ROS/DDS domain id (ROS_DOMAIN_ID when omitted)")
    ] = None,
    config: Annotated[
        Path | None, typer.Option(help="cell config YAML, laid over the defaults")
    ] = None,
    recipe_dir: Annotated[
        Path | None, typer.Option(help="folder of approved recipe files; overrides the config")
    ] = None,
    use_sim_time: Annotated[
        bool,
        typer.Option(
            "--use-sim-time",
            help="run on /clock (sim time) and grant a simulator its steps; overrides the config",
        ),
    ] = False,
    log_level: Annotated[str, typer.Option(help="DEBUG, INFO, WARNING, ERROR")] = "INFO",
) -> None:
    """Run the controller of one cell until Ctrl-C (gun off and program aborted on exit)."""
    from robot_nodes.controller import load_cell_config
    from robot_nodes.node import run_cell

    if backend not in ("dds", "rclpy"):
        raise typer.BadParameter(f"'{backend}' is not dds or rclpy", param_hint="--backend")
    logging.basicConfig(
        level=log_level.upper(), format="%(asctime)s %(levelname)s %(name)s: %(message)s"
    )
    cfg = load_cell_config(
        config,
        cell_id=cell,
        approval_key=approval_key,
        recipe_dir=recipe_dir,
        use_sim_time=True if use_sim_time else None,
    )
    stop = threading.Event()
    for sig in (signal.SIGINT, signal.SIGTERM):
        signal.signal(sig, lambda *_: stop.set())
    clock = "sim time" if cfg.use_sim_time else "host clock"
    typer.echo(
        f"cell {cfg.cell_id} on {cfg.namespace} ({backend}, {clock}); Ctrl-C to stop", err=True
    )
    run_cell(cfg, backend=backend, domain_id=domain_id, stop=stop)
    typer.echo("cell controller stopped", err=True)


@cell_app.command("keygen")
def keygen_cmd(
    out: Annotated[Path, typer.Option(help="folder for <name>.key and <name>.pub")],
    name: Annotated[str, typer.Option(help="file name stem")] = "approval",
) -> None:
    """Make an Ed25519 approval key pair (the private key file is mode 0600)."""
    from recipes.approval import generate_key_pair, write_key_pair

    pair = generate_key_pair()
    key_path, pub_path = write_key_pair(pair, out, name)
    typer.echo(f"key_id {pair.key_id}\nprivate {key_path}\npublic  {pub_path}")


__all__ = ["cell_app"]
