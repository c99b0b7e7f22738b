"""What the edges send up, stored once and acknowledged.

An edge sends each outbox row on ``coatshare/<site>/up/<topic>`` (QoS 1) as
``{"key", "seq", "topic", "body"}`` until the cloud acknowledges its key on
``coatshare/<site>/ack``. The intake stores a message (insert unless (site, key) is there
already) and only then acknowledges, so a message the edge sends again (its ack was lost,
or the link dropped) is acknowledged again and stored nothing twice.
"""

from __future__ import annotations

import json
import logging
from collections.abc import Callable
from datetime import UTC, datetime
from typing import Any

from sqlalchemy import Engine, func, insert, select
from sqlalchemy.exc import IntegrityError

from cloud_brain.broker import BrokerClient
from cloud_brain.db import site_messages

log = logging.getLogger(__name__)

TOPIC_ROOT = "coatshare"
UP_FILTER = f"{TOPIC_ROOT}/+/up/#"


def parse_up(topic: str, payload: bytes) -> tuple[str, dict[str, Any]]:
    """(site, message) of an upward message; ValueError when malformed."""
    parts = topic.split("/")
    if len(parts) < 4 or parts[0] != TOPIC_ROOT or parts[2] != "up":
        raise ValueError(f"not an upward topic: {topic}")
    data = json.loads(payload)
    if not isinstance(data, dict) or not isinstance(data.get("key"), str):
        raise ValueError("message without a key")
    if not isinstance(data.get("seq"), int) or "body" not in data:
        raise ValueError("message without seq or body")
    return parts[1], data


class ResultIntake(BrokerClient):
    """Stores the sites' messages in ``engine`` and acknowledges them via the broker;
    ``on_stored(site, message)`` is told of each message stored (once per key), before
    the acknowledgement."""

    def __init__(
        self,
        engine: Engine,
        *,
        host: str = "127.0.0.1",
        port: int = 1883,
        client_id: str = "cloud",
        on_stored: Callable[[str, dict[str, Any]], object] | None = None,
    ) -> None:
        super().__init__(host=host, port=port, client_id=client_id, persistent=True)
        self.engine = engine
        self.on_stored = on_stored
        self.stored = 0
        self.duplicates = 0
        self.client.on_message = self._on_message

    def on_connected(self, client) -> None:
        client.subscribe(UP_FILTER, qos=1)

    def _on_message(self, client, _userdata, message) -> None:
        try:
            site, data = parse_up(message.topic, message.payload)
        except ValueError as exc:
            log.warning("intake: dropped a message on %s: %s", message.topic, exc)
            return
        if self.store(site, data):
            self.stored += 1
            if self.on_stored is not None:
                self.on_stored(site, data)
        else:
            self.duplicates += 1
        client.publish(f"{TOPIC_ROOT}/{site}/ack", json.dumps({"key": data["key"]}), qos=1)

    def store(self, site: str, data: dict[str, Any]) -> bool:
        """Insert unless (site, key) is stored; True when it was new."""
        row = dict(
            site=site,
            key=data["key"],
            topic=str(data.get("topic", "")),
            edge_seq=int(data["seq"]),
            body=data["body"],
            received_at=datetime.now(UTC),
        )
        try:
            with self.engine.begin() as conn:
                conn.execute(insert(site_messages).values(**row))
        except IntegrityError:
            return False
        return True

    def count(self, site: str | None = None, topic: str | None = None) -> int:
        """Messages stored (of ``site``, on ``topic``)."""
        query = select(func.count()).select_from(site_messages)
        if site is not None:
            query = query.where(site_messages.c.site == site)
        if topic is not None:
            query = query.where(site_messages.c.topic == topic)
        with self.engine.connect() as conn:
            return int(conn.execute(query).scalar_one())

    def keys(self, site: str) -> list[str]:
        with self.engine.connect() as conn:
            rows = conn.execute(
                select(site_messages.c.key)
                .where(site_messages.c.site == site)
                .order_by(site_messages.c.edge_seq)
            )
            return [r[0] for r in rows]


__all__ = ["UP_FILTER", "ResultIntake", "parse_up"]
