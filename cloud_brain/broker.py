"""One MQTT connection of the cloud (paho): connect in the background, reconnect, and run
a hook on every (re)connection; the intake and the recipe publisher each hold one."""

from __future__ import annotations

import logging
import threading

log = logging.getLogger(__name__)


class BrokerClient:
    """A client of the broker at ``host:port``; subclasses act in :meth:`on_connected`
    (subscribe, publish what waits) and may set ``self.client.on_message``."""

    def __init__(self, *, host: str, port: int, client_id: str, persistent: bool) -> None:
        import paho.mqtt.client as mqtt

        self._connected = threading.Event()
        self.client = mqtt.Client(
            mqtt.CallbackAPIVersion.VERSION2, client_id=client_id, clean_session=not persistent
        )
        self.client.on_connect = self._on_connect
        self.client.on_disconnect = lambda *_a, **_k: self._connected.clear()
        self.client.reconnect_delay_set(min_delay=1, max_delay=10)
        self._host, self._port = host, port

    def start(self, timeout_s: float = 10.0) -> bool:
        """Connect (in the background, retrying); True when connected within ``timeout_s``."""
        self.client.connect_async(self._host, self._port, keepalive=30)
        self.client.loop_start()
        return self._connected.wait(timeout_s)

    def stop(self) -> None:
        self.client.disconnect()
        self.client.loop_stop()

    def on_connected(self, client) -> None:
        """Called on every (re)connection, in the network thread."""

    def _on_connect(self, client, _userdata, _flags, reason_code, _props=None) -> None:
        if reason_code.is_failure:
            log.warning("%s: broker refused the connection: %s", type(self).__name__, reason_code)
            return
        self.on_connected(client)
        self._connected.set()


__all__ = ["BrokerClient"]
