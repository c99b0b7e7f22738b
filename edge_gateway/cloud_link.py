"""The edge's link to the cloud: the outbox, sent over MQTT until the cloud acknowledges.

Topics (``site`` is the factory's site id)::

    coatshare/<site>/up/<outbox topic>   edge -> cloud, QoS 1
        {"key": ..., "seq": ..., "topic": ..., "body": <the outbox payload, JSON>}
    coatshare/<site>/ack                 cloud -> edge, QoS 1
        {"key": ...}
    coatshare/recipes/<id>/<version>     cloud -> edges, QoS 1, retained
        an approved recipe version (``recipes.publication``), for the recipe inbox

The link sends outbox rows oldest first, at most ``window`` unacknowledged at a time, and
deletes a row only when the cloud's acknowledgement of its key arrives; a row still
unacknowledged ``resend_s`` after it was sent goes again. The cloud stores each key once
before it acknowledges (``cloud_brain.intake``), so a resend stores nothing twice: every
row reaches the cloud's store exactly once, across link outages and restarts of either
side (the rows wait in the edge database, which survives a reboot). :meth:`CloudLink.fill`
is the visible fill level: rows waiting and the age of the oldest.
"""

from __future__ import annotations

import json
import logging
import threading
import time
from dataclasses import dataclass
from datetime import UTC, datetime

from sqlalchemy import Engine, delete, func, select

from edge_gateway.db import outbox
from edge_gateway.recipe_inbox import RecipeInbox
from recipes.publication import TOPIC_FILTER as RECIPES_FILTER
from recipes.publication import TOPIC_ROOT as RECIPES_ROOT

log = logging.getLogger(__name__)

TOPIC_ROOT = "coatshare"


def up_topic(site: str, topic: str) -> str:
    return f"{TOPIC_ROOT}/{site}/up/{topic}"


def ack_topic(site: str) -> str:
    return f"{TOPIC_ROOT}/{site}/ack"


def outbox_fill(engine: Engine) -> tuple[int, float | None]:
    """Rows waiting in the outbox and the age of the oldest (s), from the database alone."""
    with engine.connect() as conn:
        waiting, oldest = conn.execute(
            select(func.count(), func.min(outbox.c.created_at)).select_from(outbox)
        ).one()
    if oldest is None:
        return int(waiting), None
    oldest = oldest if oldest.tzinfo else oldest.replace(tzinfo=UTC)
    return int(waiting), (datetime.now(UTC) - oldest).total_seconds()


@dataclass(frozen=True)
class Fill:
    """How full the outbox is."""

    waiting: int
    oldest_age_s: float | None
    in_flight: int


class CloudLink:
    """Sends the outbox of ``engine`` for ``site`` through the broker at ``host:port``."""

    def __init__(
        self,
        engine: Engine,
        site: str,
        *,
        host: str = "127.0.0.1",
        port: int = 1883,
        window: int = 50,
        resend_s: float = 10.0,
        client_id: str | None = None,
        inbox: RecipeInbox | None = None,
    ) -> None:
        import paho.mqtt.client as mqtt

        self.engine = engine
        self.inbox = inbox
        self.site = site
        self.window = window
        self.resend_s = resend_s
        self._sent_at: dict[str, float] = {}  # key -> monotonic time of the last send
        self._lock = threading.Lock()
        self._connected = threading.Event()
        self.acked = 0
        self.sent = 0
        self.client = mqtt.Client(
            mqtt.CallbackAPIVersion.VERSION2,
            client_id=client_id or f"edge-{site}",
            clean_session=False,  # the broker keeps our ack subscription across reconnects
        )
        self.client.on_connect = self._on_connect
        self.client.on_disconnect = lambda *_a, **_k: self._connected.clear()
        self.client.on_message = self._on_message
        self.client.reconnect_delay_set(min_delay=1, max_delay=10)
        self._host, self._port = host, port

    # -- connection --------------------------------------------------------------------------
    def start(self, timeout_s: float = 10.0) -> bool:
        """Connect (in the background, retrying); True when connected within ``timeout_s``."""
        self.client.connect_async(self._host, self._port, keepalive=30)
        self.client.loop_start()
        return self._connected.wait(timeout_s)

    def stop(self) -> None:
        self.client.disconnect()
        self.client.loop_stop()

    def _on_connect(self, client, _userdata, _flags, reason_code, _props=None) -> None:
        if reason_code.is_failure:
            log.warning("cloud link: broker refused the connection: %s", reason_code)
            return
        client.subscribe(ack_topic(self.site), qos=1)
        if self.inbox is not None:
            client.subscribe(RECIPES_FILTER, qos=1)
        with self._lock:
            self._sent_at.clear()  # whatever was in flight goes again
        self._connected.set()

    def _on_message(self, client, userdata, message) -> None:
        if message.topic.startswith(RECIPES_ROOT + "/"):
            if self.inbox is not None:
                self.inbox.receive(message.topic, message.payload)
            return
        self._on_ack(client, userdata, message)

    def _on_ack(self, _client, _userdata, message) -> None:
        try:
            key = str(json.loads(message.payload)["key"])
        except (ValueError, KeyError, TypeError):
            log.warning("cloud link: malformed acknowledgement on %s", message.topic)
            return
        with self.engine.begin() as conn:
            gone = conn.execute(delete(outbox).where(outbox.c.key == key)).rowcount
        with self._lock:
            self._sent_at.pop(key, None)
        self.acked += gone

    # -- sending -----------------------------------------------------------------------------
    def pump(self) -> int:
        """Send the rows that are due (new, or unacknowledged for ``resend_s``); returns how
        many were published. Does nothing while disconnected."""
        if not self._connected.is_set():
            return 0
        now = time.monotonic()
        with self.engine.connect() as conn:
            rows = (
                conn.execute(select(outbox).order_by(outbox.c.seq).limit(self.window))
                .mappings()
                .all()
            )
        published = 0
        for row in rows:
            with self._lock:
                last = self._sent_at.get(row["key"])
            if last is not None and now - last < self.resend_s:
                continue
            body = {
                "key": row["key"],
                "seq": int(row["seq"]),
                "topic": row["topic"],
                "body": json.loads(row["payload"]),
            }
            info = self.client.publish(up_topic(self.site, row["topic"]), json.dumps(body), qos=1)
            if info.rc != 0:  # not queued (disconnected meanwhile): try again later
                break
            with self._lock:
                self._sent_at[row["key"]] = now
            published += 1
        self.sent += published
        return published

    def run(self, stop: threading.Event, period_s: float = 0.5) -> None:
        """Pump every ``period_s`` until ``stop`` is set."""
        while not stop.wait(period_s):
            try:
                self.pump()
            except Exception:  # noqa: BLE001 - the link keeps trying; the rows stay
                log.exception("cloud link: pump failed")

    def fill(self) -> Fill:
        waiting, age = outbox_fill(self.engine)
        with self._lock:
            in_flight = len(self._sent_at)
        return Fill(waiting, age, in_flight)


__all__ = ["TOPIC_ROOT", "CloudLink", "Fill", "ack_topic", "outbox_fill", "up_topic"]
