"""Publishing approved recipe versions to the sites over MQTT (``recipes.publication``).

Each approved version goes out retained, QoS 1, on its own topic: when it is approved,
and again, all of them, whenever the publisher (re)connects to the broker, so that an
approval made while the broker was away is not lost and a broker that lost its retained
store gets it back. A publication sent again replaces itself; the edges store each
version once.
"""

from __future__ import annotations

import threading
from typing import Any

from sqlalchemy import Engine, select

from cloud_brain.broker import BrokerClient
from cloud_brain.db import recipe_versions
from recipes.document import loads
from recipes.publication import publication, recipe_topic


class RecipePublisher(BrokerClient):
    """Publishes the approved versions of the recipe store in ``engine``."""

    def __init__(
        self,
        engine: Engine,
        *,
        host: str = "127.0.0.1",
        port: int = 1883,
        client_id: str = "cloud-recipes",
    ) -> None:
        super().__init__(host=host, port=port, client_id=client_id, persistent=False)
        self.engine = engine
        self.published = 0

    def on_connected(self, client) -> None:
        threading.Thread(target=self.publish_all, name="publish-recipes", daemon=True).start()

    def publish(self, version: dict[str, Any]) -> bool:
        """Publish one approved version (as the store gives it, with its document); False
        when it could not be queued (disconnected: it goes out at the next connect)."""
        doc = loads(version["document"], f"{version['recipe_id']} v{version['version']}")
        info = self.client.publish(
            recipe_topic(doc.id, doc.version), publication(doc), qos=1, retain=True
        )
        if info.rc != 0:
            return False
        self.published += 1
        return True

    def publish_all(self) -> int:
        """Publish every approved version; how many were queued."""
        query = select(
            recipe_versions.c.recipe_id, recipe_versions.c.version, recipe_versions.c.document
        ).where(recipe_versions.c.status == "approved")
        with self.engine.connect() as conn:
            rows = [dict(r._mapping) for r in conn.execute(query)]
        return sum(self.publish(r) for r in rows)


__all__ = ["RecipePublisher"]
