"""``coatshare edge serve``: the edge gateway's HTTP API for one factory.

The database is ``--database`` (a URL), else ``$COATSHARE_DATABASE_URL``, else a SQLite
file ``--data DIR/edge.db``; it is migrated at start. The factory is ``--factory FILE``
(default: the demo factory). The operator's token is ``--operator-token`` or
``$COATSHARE_OPERATOR_TOKEN``; without one a token is made and printed once. With
``--mqtt host:port`` the cloud link sends the outbox to the cloud, and with
``--approval-pub FILE`` (the cloud's public approval key) it also takes in the approved
recipe versions the cloud publishes, each kept once its signature verifies, and written
as recipe files into ``--recipe-dir`` for the cells. With ``--cell ID`` (repeated) an
operator dispatches jobs to those cells over ROS 2 (``POST /jobs/{id}/dispatch``), and with
``--auto-dispatch`` the edge runs the queue on them in the scheduler's order.
"""

from __future__ import annotations

import os
import threading
from pathlib import Path
from typing import Annotated

import typer

edge_app = typer.Typer(help="The edge gateway of one factory.", no_args_is_help=True)


@edge_app.command("serve")
def serve_cmd(
    host: Annotated[str, typer.Option(help="address to listen on")] = "127.0.0.1",
    port: Annotated[int, typer.Option(min=1, max=65535)] = 8070,
    database: Annotated[str | None, typer.Option(help="database URL")] = None,
    data: Annotated[Path, typer.Option(help="folder for the SQLite default")] = Path("edge-data"),
    factory: Annotated[Path | None, typer.Option(help="coatshare.factory/v1 file")] = None,
    operator_token: Annotated[str | None, typer.Option(help="the operator's bearer token")] = None,
    promise_time_limit_s: Annotated[float, typer.Option(min=0.1, max=60)] = 2.0,
    mqtt: Annotated[
        str | None, typer.Option(help="MQTT broker host:port of the cloud link")
    ] = None,
    approval_pub: Annotated[
        Path | None, typer.Option(help="public approval key file: recipes are verified with it")
    ] = None,
    recipe_dir: Annotated[
        Path | None, typer.Option(help="folder the cells load approved recipe files from")
    ] = None,
    cell: Annotated[
        list[str] | None, typer.Option(help="a cell id to dispatch to (repeat for more)")
    ] = None,
    ros_backend: Annotated[str, typer.Option(help="ROS 2 bus to the cells: dds or rclpy")] = "dds",
    ros_domain_id: Annotated[
        int | None, typer.Option(help="ROS/DDS domain id of the cells (ROS_DOMAIN_ID)")
    ] = None,
    auto_dispatch: Annotated[
        bool,
        typer.Option("--auto-dispatch", help="run the queue on the cells in the scheduler's order"),
    ] = False,
) -> None:
    """Serve the edge API (quotes, bookings, the job queue, part records)."""
    import uvicorn

    from edge_gateway.db import open_database
    from edge_gateway.factory import load_factory
    from edge_gateway.service import create_app, ensure_operator
    from edge_gateway.service.auth import new_token

    if auto_dispatch and (not cell or approval_pub is None):
        raise typer.BadParameter(
            "needs --cell and --approval-pub (cells to run on, recipes to run)",
            param_hint="--auto-dispatch",
        )
    fac = load_factory(factory)
    if database is None and not os.environ.get("COATSHARE_DATABASE_URL"):
        data.mkdir(parents=True, exist_ok=True)
    engine = open_database(database, sqlite_path=data / "edge.db")
    token = operator_token or os.environ.get("COATSHARE_OPERATOR_TOKEN")
    if token is None:
        token = new_token()
        typer.echo(f"operator token (shown once): {token}")
    ensure_operator(engine, token)
    inbox = None
    if approval_pub is not None:
        from edge_gateway.recipe_inbox import RecipeInbox
        from recipes.approval import ApprovalVerifier

        inbox = RecipeInbox(engine, ApprovalVerifier.from_file(approval_pub), recipe_dir)
        typer.echo(f"recipes verified with approval key {inbox.verifier.key_id}")
        if recipe_dir is not None:
            typer.echo(f"approved recipes for the cells in {recipe_dir} ({inbox.export_all()} new)")
    cells = {}
    for cell_id in cell or []:
        from edge_gateway.cell_client import CellClient

        cells[cell_id] = CellClient(cell_id, backend=ros_backend, domain_id=ros_domain_id)
        typer.echo(f"cell {cell_id}: programs on /cell_{cell_id} ({ros_backend})")
    app = create_app(
        engine, fac, promise_time_limit_s=promise_time_limit_s, recipes=inbox, cells=cells
    )
    typer.echo(f"edge gateway '{fac.site}' on http://{host}:{port} ({engine.dialect.name})")
    stop = threading.Event()
    link = None
    if mqtt is None:
        typer.echo("no --mqtt: results wait in the outbox until a cloud link runs")
    else:
        from coatshare.cli_cloud import split_host_port
        from edge_gateway.cloud_link import CloudLink

        broker = split_host_port(mqtt, "mqtt")
        link = CloudLink(engine, fac.site, host=broker[0], port=broker[1], inbox=inbox)
        link.start(timeout_s=0.0)  # connects in the background, retrying
        threading.Thread(target=link.run, args=(stop,), name="cloud-link", daemon=True).start()
        typer.echo(f"cloud link to {mqtt} as site '{fac.site}'")
    if auto_dispatch:
        from edge_gateway.dispatch_loop import DispatchLoop

        DispatchLoop(engine, fac, inbox, cells).start(stop)
        typer.echo(f"dispatching the queue to cells {', '.join(cells)} in the scheduler's order")
    try:
        uvicorn.run(app, host=host, port=port, log_level="warning")
    finally:
        stop.set()
        if link is not None:
            link.stop()
        for client in cells.values():
            client.close()
