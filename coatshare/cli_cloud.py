"""``coatshare cloud serve``: the cloud's intake of site results and its HTTP API.

The intake subscribes to every site's upward messages on the MQTT broker ``--mqtt``
(host:port), stores each once and acknowledges it; the API serves what was stored. The
database is ``--database`` (URL), else ``$COATSHARE_CLOUD_DATABASE_URL``, else
``--data DIR/cloud.db``. The operator token: ``--operator-token`` or
``$COATSHARE_CLOUD_OPERATOR_TOKEN``, else one is made and printed once.
"""

from __future__ import annotations

import os
from pathlib import Path
from typing import Annotated

import typer

cloud_app = typer.Typer(help="The cloud brain.", no_args_is_help=True)


def split_host_port(value: str, field: str) -> tuple[str, int]:
    from recipes.errors import InvalidInputError

    host, _, port = value.rpartition(":")
    if not host or not port.isdigit() or not 0 < int(port) < 65536:
        raise InvalidInputError(field, f"expected host:port, got {value!r}")
    return host, int(port)


@cloud_app.command("serve")
def serve_cmd(
    host: Annotated[str, typer.Option(help="address to listen on")] = "127.0.0.1",
    port: Annotated[int, typer.Option(min=1, max=65535)] = 8090,
    mqtt: Annotated[str, typer.Option(help="MQTT broker host:port")] = "127.0.0.1:1883",
    database: Annotated[str | None, typer.Option(help="database URL")] = None,
    data: Annotated[Path, typer.Option(help="folder for the SQLite default")] = Path("cloud-data"),
    operator_token: Annotated[str | None, typer.Option(help="the operator's bearer token")] = None,
    client_id: Annotated[str, typer.Option(help="MQTT client id (one per cloud)")] = "cloud",
) -> None:
    """Store what the sites send (exactly once) and serve it over HTTP."""
    import secrets

    import uvicorn

    from cloud_brain.db import open_database
    from cloud_brain.intake import ResultIntake
    from cloud_brain.service import create_app

    broker = split_host_port(mqtt, "mqtt")
    if database is None and not os.environ.get("COATSHARE_CLOUD_DATABASE_URL"):
        data.mkdir(parents=True, exist_ok=True)
    engine = open_database(database, sqlite_path=data / "cloud.db")
    token = operator_token or os.environ.get("COATSHARE_CLOUD_OPERATOR_TOKEN")
    if token is None:
        token = secrets.token_urlsafe(32)
        typer.echo(f"cloud operator token (shown once): {token}")
    intake = ResultIntake(engine, host=broker[0], port=broker[1], client_id=client_id)
    if not intake.start(timeout_s=15.0):
        typer.echo(f"MQTT broker {mqtt} not reachable yet: the intake keeps trying", err=True)
    typer.echo(f"cloud brain on http://{host}:{port}, intake on {mqtt}")
    try:
        uvicorn.run(create_app(engine, token), host=host, port=port, log_level="warning")
    finally:
        intake.stop()
