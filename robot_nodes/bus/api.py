"""The bus interface every backend implements, QoS profiles and ROS 2 name resolution.

A bus is one ROS 2 node: it owns publishers, subscriptions and timers, and runs callbacks
in the thread that calls :meth:`Bus.spin_once` / :meth:`Bus.spin`, as an rclpy executor
does. Message classes come from :meth:`Bus.message_type`, so node code never imports a
backend's types directly.

**Time.** A node's clock is the host's, or with ``use_sim_time`` the last ``/clock``
message (``rosgraph_msgs/Clock``), as in ROS 2: :meth:`Bus.now_ns` reads it (0 until the
first message: the clock has not started) and :meth:`Bus.create_timer` fires on it, so
timers follow sim time. :meth:`Bus.create_wall_timer` always runs on the host's steady
clock (rclcpp's ``create_wall_timer``), for work that must go on while sim time stands.
"""

from __future__ import annotations

import re
import time
from abc import ABC, abstractmethod
from collections.abc import Callable
from dataclasses import dataclass
from enum import StrEnum
from types import TracebackType
from typing import Any, Protocol, Self, runtime_checkable

from recipes.errors import InvalidInputError


class Reliability(StrEnum):
    """Delivery guarantee of a topic."""

    RELIABLE = "reliable"
    BEST_EFFORT = "best_effort"


class Durability(StrEnum):
    """Whether a late-joining subscription receives the last samples."""

    VOLATILE = "volatile"
    TRANSIENT_LOCAL = "transient_local"


@dataclass(frozen=True)
class QosProfile:
    """The QoS subset the project uses (history is always KEEP_LAST).

    Attributes
    ----------
    reliability : Reliability
    durability : Durability
    depth : int
        History depth, at least 1.
    """

    reliability: Reliability = Reliability.RELIABLE
    durability: Durability = Durability.VOLATILE
    depth: int = 10

    def __post_init__(self) -> None:
        if self.depth < 1:
            raise InvalidInputError("qos.depth", f"must be at least 1, got {self.depth}")


QOS_DEFAULT = QosProfile()
"""ROS 2 default for topics: reliable, volatile, keep last 10."""
QOS_SENSOR_DATA = QosProfile(Reliability.BEST_EFFORT, Durability.VOLATILE, 5)
"""rclpy's ``qos_profile_sensor_data``: joint states, camera images."""
QOS_LATCHED = QosProfile(Reliability.RELIABLE, Durability.TRANSIENT_LOCAL, 1)
"""Last value for late joiners: spray programs, cell state."""
QOS_STATUS = QosProfile(Reliability.RELIABLE, Durability.TRANSIENT_LOCAL, 10)
"""Program status and part results: reliable, a short history for late joiners."""
QOS_CLOCK = QosProfile(Reliability.BEST_EFFORT, Durability.VOLATILE, 1)
"""rclcpp's ``ClockQoS`` for ``/clock``."""

_TOKEN = r"[A-Za-z_][A-Za-z0-9_]*"
_NODE_NAME = re.compile(rf"^{_TOKEN}$")
_NAMESPACE = re.compile(rf"^(/|(/{_TOKEN})+)$")
_TOPIC = re.compile(rf"^(~|((~/|/)?{_TOKEN}(/{_TOKEN})*))$")


def normalize_namespace(namespace: str) -> str:
    """Absolute form of a node namespace (``"cell_1"`` -> ``"/cell_1"``, ``""`` -> ``"/"``).

    Raises
    ------
    InvalidInputError
        For a namespace that breaks the ROS 2 naming rules.
    """
    ns = namespace.strip()
    if not ns.startswith("/"):
        ns = "/" + ns
    if len(ns) > 1:
        ns = ns.rstrip("/")
    if not _NAMESPACE.match(ns) or any(tok[:1].isdigit() for tok in ns.split("/") if tok):
        raise InvalidInputError("namespace", f"'{namespace}' is not a valid ROS 2 namespace")
    return ns


def validate_node_name(node_name: str) -> str:
    """Return ``node_name`` if valid for ROS 2, else raise :class:`InvalidInputError`."""
    if not _NODE_NAME.match(node_name):
        raise InvalidInputError("node_name", f"'{node_name}' is not a valid ROS 2 node name")
    return node_name


def resolve_topic_name(topic: str, node_name: str, namespace: str) -> str:
    """Fully qualified ROS 2 name of a topic, as rcl resolves it.

    Parameters
    ----------
    topic : str
        ``"/clock"`` (absolute), ``"joint_states"`` (relative to the namespace) or
        ``"~/status"`` (private to the node).
    node_name : str
    namespace : str

    Returns
    -------
    str
        E.g. ``"/cell_1/joint_states"``.

    Examples
    --------
    >>> resolve_topic_name("joint_states", "controller", "/cell_1")
    '/cell_1/joint_states'
    >>> resolve_topic_name("~/status", "controller", "/cell_1")
    '/cell_1/controller/status'
    """
    ns = normalize_namespace(namespace)
    validate_node_name(node_name)
    if not _TOPIC.match(topic) or any(tok[:1].isdigit() for tok in topic.split("/") if tok):
        raise InvalidInputError("topic", f"'{topic}' is not a valid ROS 2 topic name")
    prefix = "" if ns == "/" else ns
    if topic.startswith("/"):
        return topic
    if topic.startswith("~"):
        rest = topic[1:].lstrip("/")
        return f"{prefix}/{node_name}/{rest}" if rest else f"{prefix}/{node_name}"
    return f"{prefix}/{topic}"


def dds_topic_name(fq_topic: str) -> str:
    """DDS topic name of a fully qualified ROS 2 topic (``"/a/b"`` -> ``"rt/a/b"``)."""
    if not fq_topic.startswith("/"):
        raise InvalidInputError("topic", f"'{fq_topic}' is not fully qualified")
    return "rt" + fq_topic


@runtime_checkable
class Publisher(Protocol):
    """Publishes messages of one type on one topic."""

    @property
    def topic_name(self) -> str:
        """Fully qualified ROS 2 topic name."""
        ...

    def publish(self, msg: Any) -> None:
        """Send one message."""
        ...

    def subscription_count(self) -> int:
        """Number of matched subscriptions (local and remote)."""
        ...


@runtime_checkable
class Subscription(Protocol):
    """Delivers messages of one topic to a callback during spin."""

    @property
    def topic_name(self) -> str:
        """Fully qualified ROS 2 topic name."""
        ...

    def publisher_count(self) -> int:
        """Number of matched publishers."""
        ...


@runtime_checkable
class Timer(Protocol):
    """Calls a callback periodically during spin."""

    def cancel(self) -> None:
        """Stop calling the callback."""
        ...


@runtime_checkable
class Bus(Protocol):
    """One ROS 2 node on one backend.

    Attributes
    ----------
    backend : str
        ``"dds"`` or ``"rclpy"``.
    node_name : str
    namespace : str
        Absolute, e.g. ``"/cell_1"``.
    use_sim_time : bool
        The node's clock is ``/clock``.
    """

    backend: str
    node_name: str
    namespace: str
    use_sim_time: bool

    def message_type(self, name: str) -> type:
        """Message class of this backend for ``"pkg/msg/Name"``."""
        ...

    def create_publisher(self, msg_type: type, topic: str, qos: QosProfile) -> Publisher:
        """Create a publisher; ``topic`` is resolved against the node's namespace."""
        ...

    def create_subscription(
        self, msg_type: type, topic: str, callback: Callable[[Any], None], qos: QosProfile
    ) -> Subscription:
        """Create a subscription whose callback runs during spin."""
        ...

    def create_timer(self, period_s: float, callback: Callable[[], None]) -> Timer:
        """Create a periodic timer on the node's clock (sim time with ``use_sim_time``: it
        fires as ``/clock`` passes its times, never before the clock has started); the
        callback runs during spin. Missed periods are skipped, never made up in a burst."""
        ...

    def create_wall_timer(self, period_s: float, callback: Callable[[], None]) -> Timer:
        """Create a periodic timer on the host's steady clock, whatever the node's clock."""
        ...

    def resolve_topic(self, topic: str) -> str:
        """Fully qualified name of ``topic`` for this node."""
        ...

    def spin_once(self, timeout_s: float = 0.1) -> None:
        """Wait up to ``timeout_s`` for work and run the ready callbacks."""
        ...

    def spin(self, until: Callable[[], bool] | None = None, timeout_s: float | None = None) -> bool:
        """Run callbacks until ``until()`` is true, the timeout passes or shutdown."""
        ...

    def now_ns(self) -> int:
        """Node time in nanoseconds: the host's wall clock, or with ``use_sim_time`` the
        last ``/clock`` (0 before the first one)."""
        ...

    def shutdown(self) -> None:
        """Destroy the node's entities; safe to call twice."""
        ...

    def __enter__(self) -> Self: ...

    def __exit__(
        self,
        exc_type: type[BaseException] | None,
        exc: BaseException | None,
        tb: TracebackType | None,
    ) -> None: ...


class BusBase(ABC):
    """Shared parts of the backends: name handling, ``spin`` and context management."""

    backend = "base"

    def __init__(self, node_name: str, namespace: str, *, use_sim_time: bool = False) -> None:
        self.node_name = validate_node_name(node_name)
        self.namespace = normalize_namespace(namespace)
        self.use_sim_time = bool(use_sim_time)
        self._closed = False

    def resolve_topic(self, topic: str) -> str:
        """Fully qualified name of ``topic`` for this node."""
        return resolve_topic_name(topic, self.node_name, self.namespace)

    @abstractmethod
    def spin_once(self, timeout_s: float = 0.1) -> None:
        """Run the callbacks that are ready, waiting at most ``timeout_s`` for one."""

    def spin(self, until: Callable[[], bool] | None = None, timeout_s: float | None = None) -> bool:
        """Run callbacks until ``until()`` is true, ``timeout_s`` passes or shutdown.

        Returns
        -------
        bool
            The last value of ``until()`` (False without a predicate).
        """
        deadline = None if timeout_s is None else time.monotonic() + timeout_s
        while not self._closed:
            if until is not None and until():
                return True
            step = 0.1
            if deadline is not None:
                remaining = deadline - time.monotonic()
                if remaining <= 0:
                    break
                step = min(step, remaining)
            self.spin_once(step)
        return bool(until is not None and until())

    def __enter__(self) -> Self:
        return self

    def __exit__(
        self,
        exc_type: type[BaseException] | None,
        exc: BaseException | None,
        tb: TracebackType | None,
    ) -> None:
        self.shutdown()

    @abstractmethod
    def shutdown(self) -> None:
        """Close the node's endpoints; later calls do nothing."""
