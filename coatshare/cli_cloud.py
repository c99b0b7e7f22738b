"""``coatshare cloud serve``: the cloud's intake of site results and its HTTP API.

The intake subscribes to every site's upward messages on the MQTT broker ``--mqtt``
(host:port), stores each once and acknowledges it; the API serves what was stored and the
recipe store with its review. The database is ``--database`` (URL), else
``$COATSHARE_CLOUD_DATABASE_URL``, else ``--data DIR/cloud.db``. The admin token:
``--operator-token`` or ``$COATSHARE_CLOUD_OPERATOR_TOKEN``, else one is made and printed
once. Approvals are signed with the private key in ``--approval-key`` (default
``DIR/approval.key``); where that file does not exist, a key pair is made there (the
private key mode 0600, the public key beside it as ``.pub``) and its id printed. Approved
recipe versions are published to the sites on the same broker (``recipes.publication``);
a site's ``recipes/request`` for a part and finish without a recipe has a candidate
planned and queued for review (``cloud_brain.candidates``).
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
    approval_key: Annotated[
        Path | None, typer.Option(help="private approval key file (made where missing)")
    ] = None,
) -> None:
    """Store what the sites send (exactly once) and serve it over HTTP."""
    import secrets

    import uvicorn

    from cloud_brain.candidates import CandidateWorker
    from cloud_brain.db import open_database
    from cloud_brain.intake import ResultIntake
    from cloud_brain.publish import RecipePublisher
    from cloud_brain.recipe_store import RecipeStore
    from cloud_brain.service import create_app
    from cloud_brain.users import ensure_admin

    broker = split_host_port(mqtt, "mqtt")
    if database is None and not os.environ.get("COATSHARE_CLOUD_DATABASE_URL"):
        data.mkdir(parents=True, exist_ok=True)
    engine = open_database(database, sqlite_path=data / "cloud.db")
    token = operator_token or os.environ.get("COATSHARE_CLOUD_OPERATOR_TOKEN")
    if token is None:
        token = secrets.token_urlsafe(32)
        typer.echo(f"cloud operator token (shown once): {token}")
    ensure_admin(engine, token)
    key = _approval_key(approval_key or data / "approval.key")
    planner = CandidateWorker(RecipeStore(engine, key))
    intake = ResultIntake(
        engine, host=broker[0], port=broker[1], client_id=client_id, on_stored=planner.on_stored
    )
    publisher = RecipePublisher(
        engine, host=broker[0], port=broker[1], client_id=f"{client_id}-recipes"
    )
    if not intake.start(timeout_s=15.0):
        typer.echo(f"MQTT broker {mqtt} not reachable yet: the intake keeps trying", err=True)
    publisher.start(timeout_s=0.0)  # publishes every approved version once connected
    typer.echo(f"cloud brain on http://{host}:{port}, intake and recipes on {mqtt}")
    app = create_app(engine, key, on_approved=publisher.publish)
    try:
        uvicorn.run(app, host=host, port=port, log_level="warning")
    finally:
        publisher.stop()
        intake.stop()
        planner.shutdown()


def _approval_key(path: Path):
    """The approval key pair of the private key file ``path``, made there if missing."""
    from recipes.approval import (
        generate_key_pair,
        key_pair_from_signing_key,
        read_key_file,
        write_key_pair,
    )

    if not path.exists():
        pair = generate_key_pair()
        name = path.name.removesuffix(".key")
        key_path, pub_path = write_key_pair(pair, path.parent, name)
        if key_path != path:
            key_path.rename(path)
        typer.echo(f"new approval key {pair.key_id}: {path} (public: {pub_path})")
        return pair
    pair = key_pair_from_signing_key(read_key_file(path))
    typer.echo(f"approval key {pair.key_id} from {path}")
    return pair
