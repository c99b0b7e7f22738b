"""The ``dds`` bus backend: Cyclone DDS, wire-compatible with ROS 2 (rmw_cyclonedds_cpp).

ROS 2 mapping followed here: a topic ``/cell_1/joint_states`` is the DDS topic
``rt/cell_1/joint_states``; a message ``sensor_msgs/msg/JointState`` is the DDS type
``sensor_msgs::msg::dds_::JointState_`` in XCDR1 (plain CDR) with ROS 2's field layout;
QoS maps one to one (reliability, durability, KEEP_LAST depth).

Not covered: ROS 2 graph introspection (``ros2 node list`` does not show these nodes,
``ros2 topic list/echo`` works), services and actions.

Network configuration is Cyclone's own: the ``CYCLONEDDS_URI`` environment variable, or
``config_xml`` passed to :class:`DdsBus`.
"""

from __future__ import annotations

import os
import threading
import time
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any

from cyclonedds.core import (
    DDSException,
    GuardCondition,
    InstanceState,
    ReadCondition,
    SampleState,
    ViewState,
)
from cyclonedds.core import WaitSet as _WaitSet
from cyclonedds.domain import Domain, DomainParticipant
from cyclonedds.idl import IdlStruct
from cyclonedds.internal import InvalidSample
from cyclonedds.pub import DataWriter, Publisher
from cyclonedds.qos import Policy, Qos
from cyclonedds.sub import DataReader, Subscriber
from cyclonedds.topic import Topic
from cyclonedds.util import duration

from recipes.errors import InvalidInputError
from robot_nodes.bus.api import (
    QOS_CLOCK,
    BusBase,
    Durability,
    QosProfile,
    Reliability,
    dds_topic_name,
)
from robot_nodes.bus.dds_types import MessageRegistry, default_registry

_TAKE_BATCH = 64
_MAX_BLOCKING_NS = duration(milliseconds=100)  # DDS default, as rmw_cyclonedds uses


LOOPBACK_CONFIG_XML = (
    "<CycloneDDS><Domain><General>"
    '<Interfaces><NetworkInterface name="lo"/></Interfaces>'
    "<AllowMulticast>false</AllowMulticast>"
    "</General><Discovery>"
    '<Peers><Peer address="127.0.0.1"/></Peers>'
    "<ParticipantIndex>auto</ParticipantIndex>"
    "</Discovery></Domain></CycloneDDS>"
)
"""Cyclone configuration keeping a domain on this machine: loopback only, no multicast,
unicast discovery of up to 10 participants on 127.0.0.1. Use it as ``config_xml`` or as
the value of ``CYCLONEDDS_URI`` for single-machine demos and tests."""


_DOMAINS: dict[int, tuple[Domain, str]] = {}
_DOMAINS_LOCK = threading.Lock()


def _ensure_domain(domain_id: int, config_xml: str) -> None:
    """Create domain ``domain_id`` with ``config_xml`` once per process and keep it alive.

    Cyclone applies a domain's configuration process-wide until the domain is deleted, so
    explicitly configured domains live as long as the process.
    """
    with _DOMAINS_LOCK:
        known = _DOMAINS.get(domain_id)
        if known is not None:
            if known[1] != config_xml:
                raise InvalidInputError(
                    "config_xml", f"domain {domain_id} already runs with another configuration"
                )
            return
        try:
            _DOMAINS[domain_id] = (Domain(domain_id, config_xml), config_xml)
        except DDSException as exc:
            raise InvalidInputError(
                "config_xml",
                f"domain {domain_id} exists in this process already (created without "
                f"config_xml?) or the configuration is invalid: {exc}",
            ) from exc


def to_cyclone_qos(qos: QosProfile) -> Qos:
    """Cyclone DDS QoS equivalent to a :class:`QosProfile`, as rmw_cyclonedds maps it.

    Data representation is pinned to XCDR1, the encoding ROS 2 uses for its messages.
    """
    reliability = (
        Policy.Reliability.Reliable(max_blocking_time=_MAX_BLOCKING_NS)
        if qos.reliability is Reliability.RELIABLE
        else Policy.Reliability.BestEffort
    )
    durability = (
        Policy.Durability.TransientLocal
        if qos.durability is Durability.TRANSIENT_LOCAL
        else Policy.Durability.Volatile
    )
    return Qos(
        reliability,
        durability,
        Policy.History.KeepLast(qos.depth),
        Policy.DataRepresentation(use_cdrv0_representation=True),
    )


class DdsPublisher:
    """Publisher of the ``dds`` backend (see :class:`robot_nodes.bus.api.Publisher`)."""

    def __init__(self, writer: DataWriter, topic_name: str, msg_type: type[IdlStruct]) -> None:
        self._writer = writer
        self._topic_name = topic_name
        self._msg_type = msg_type

    @property
    def topic_name(self) -> str:
        return self._topic_name

    def publish(self, msg: Any) -> None:
        """Send one message; it must be an instance of the publisher's message class."""
        if not isinstance(msg, self._msg_type):
            raise InvalidInputError(
                f"publish({self._topic_name})",
                f"expects {self._msg_type.__qualname__}, got {type(msg).__qualname__}",
            )
        self._writer.write(msg)

    def subscription_count(self) -> int:
        return len(self._writer.get_matched_subscriptions())


class DdsSubscription:
    """Subscription of the ``dds`` backend (see :class:`robot_nodes.bus.api.Subscription`)."""

    def __init__(
        self,
        reader: DataReader,
        condition: ReadCondition,
        topic_name: str,
        callback: Callable[[Any], None],
    ) -> None:
        self._reader = reader
        self.condition = condition
        self._topic_name = topic_name
        self._callback = callback

    @property
    def topic_name(self) -> str:
        return self._topic_name

    def publisher_count(self) -> int:
        return len(self._reader.get_matched_publications())

    def take_and_dispatch(self) -> int:
        """Take every waiting sample and call the callback on each valid one.

        Returns
        -------
        int
            Number of callbacks run.
        """
        count = 0
        while True:
            samples = self._reader.take(_TAKE_BATCH)
            for sample in samples:
                if isinstance(sample, InvalidSample):
                    continue  # instance state change (writer gone), no data
                self._callback(sample)
                count += 1
            if len(samples) < _TAKE_BATCH:
                return count


@dataclass
class _DdsTimer:
    """A periodic timer on the steady clock (``steady``) or on the node's sim time."""

    period_ns: int
    callback: Callable[[], None]
    next_ns: int
    steady: bool = True
    cancelled: bool = field(default=False)

    def cancel(self) -> None:
        self.cancelled = True

    def due(self, now_ns: int) -> bool:
        """Whether the timer fires at ``now_ns``; moves its next time past ``now_ns``.

        Missed periods are skipped instead of burst; a clock that went back (a simulator
        restarted) re-arms the timer one period from now.
        """
        if now_ns < self.next_ns - self.period_ns:
            self.next_ns = now_ns + self.period_ns
            return False
        if now_ns < self.next_ns:
            return False
        missed = (now_ns - self.next_ns) // self.period_ns
        self.next_ns += (missed + 1) * self.period_ns
        return True


class DdsBus(BusBase):
    """A ROS 2 node on Cyclone DDS.

    Parameters
    ----------
    node_name : str
    namespace : str
        ``"/cell_1"``; ``""`` for the root namespace.
    domain_id : int, optional
        DDS domain; when None, ``ROS_DOMAIN_ID`` from the environment if set, as ROS 2
        does, else Cyclone's default (0).
    config_xml : str, optional
        Cyclone DDS configuration for this domain; else ``CYCLONEDDS_URI`` applies.
    registry : MessageRegistry, optional
        Message definitions; the repository's by default.
    use_sim_time : bool
        Subscribe to ``/clock``: :meth:`now_ns` reports its time and :meth:`create_timer`
        timers fire on it (in the spin that takes the message, after its callbacks).

    Notes
    -----
    Callbacks and timers run in the thread calling :meth:`spin_once`; :meth:`publish` and
    :meth:`shutdown` may be called from any thread.
    """

    backend = "dds"

    def __init__(
        self,
        node_name: str,
        namespace: str = "",
        *,
        domain_id: int | None = None,
        config_xml: str | None = None,
        registry: MessageRegistry | None = None,
        use_sim_time: bool = False,
    ) -> None:
        super().__init__(node_name, namespace, use_sim_time=use_sim_time)
        if domain_id is None and os.environ.get("ROS_DOMAIN_ID", "").strip():
            try:
                domain_id = int(os.environ["ROS_DOMAIN_ID"])
            except ValueError as exc:
                raise InvalidInputError("ROS_DOMAIN_ID", f"is not an integer: {exc}") from exc
        if domain_id is not None and not 0 <= domain_id <= 232:
            raise InvalidInputError("domain_id", f"must be in 0..232, got {domain_id}")
        self._registry = registry or default_registry()
        if config_xml is not None and domain_id is None:
            raise InvalidInputError("config_xml", "needs an explicit domain_id")
        if config_xml is not None and domain_id is not None:
            _ensure_domain(domain_id, config_xml)
        self._participant = (
            DomainParticipant(domain_id) if domain_id is not None else DomainParticipant()
        )
        self._publisher = Publisher(self._participant)
        self._subscriber = Subscriber(self._participant)
        self._topics: dict[str, Topic] = {}
        self._subscriptions: list[DdsSubscription] = []
        self._timers: list[_DdsTimer] = []
        self._waitset = _WaitSet(self._participant)
        self._wake = GuardCondition(self._participant)
        self._waitset.attach(self._wake)
        self._lock = threading.Lock()
        self._spin_lock = threading.RLock()
        self._sim_time_ns: int | None = None
        if use_sim_time:
            clock_type = self.message_type("rosgraph_msgs/msg/Clock")
            self.create_subscription(clock_type, "/clock", self._on_clock, QOS_CLOCK)

    def message_type(self, name: str) -> type[IdlStruct]:
        """``IdlStruct`` class for ``"pkg/msg/Name"``."""
        return self._registry.get_type(name)

    def _topic(self, msg_type: type[IdlStruct], fq_topic: str) -> Topic:
        name = dds_topic_name(fq_topic)
        topic = self._topics.get(name)
        if topic is None:
            topic = Topic(self._participant, name, msg_type)
            self._topics[name] = topic
        elif topic.data_type is not msg_type:
            raise InvalidInputError(
                "topic",
                f"'{fq_topic}' already carries {topic.data_type.__qualname__}, "
                f"not {msg_type.__qualname__}",
            )
        return topic

    def _check_open(self) -> None:
        if self._closed:
            raise InvalidInputError("bus", f"node '{self.node_name}' is shut down")

    def create_publisher(self, msg_type: type, topic: str, qos: QosProfile) -> DdsPublisher:
        """Create a DDS writer on ``rt/<resolved topic>``."""
        self._check_open()
        fq = self.resolve_topic(topic)
        writer = DataWriter(self._publisher, self._topic(msg_type, fq), qos=to_cyclone_qos(qos))
        return DdsPublisher(writer, fq, msg_type)

    def create_subscription(
        self, msg_type: type, topic: str, callback: Callable[[Any], None], qos: QosProfile
    ) -> DdsSubscription:
        """Create a DDS reader on ``rt/<resolved topic>``; callbacks run during spin."""
        self._check_open()
        fq = self.resolve_topic(topic)
        reader = DataReader(self._subscriber, self._topic(msg_type, fq), qos=to_cyclone_qos(qos))
        condition = ReadCondition(reader, SampleState.Any | ViewState.Any | InstanceState.Any)
        subscription = DdsSubscription(reader, condition, fq, callback)
        with self._lock:
            self._subscriptions.append(subscription)
        self._waitset.attach(condition)
        return subscription

    def create_timer(self, period_s: float, callback: Callable[[], None]) -> _DdsTimer:
        """Periodic timer on the node's clock (the monotonic clock, or sim time with
        ``use_sim_time``); callbacks run during spin."""
        return self._add_timer(period_s, callback, steady=not self.use_sim_time)

    def create_wall_timer(self, period_s: float, callback: Callable[[], None]) -> _DdsTimer:
        """Periodic timer on the monotonic clock, whatever the node's clock."""
        return self._add_timer(period_s, callback, steady=True)

    def _add_timer(
        self, period_s: float, callback: Callable[[], None], *, steady: bool
    ) -> _DdsTimer:
        self._check_open()
        if period_s <= 0:
            raise InvalidInputError("period_s", f"must be positive, got {period_s}")
        period_ns = int(period_s * 1e9)
        start = time.monotonic_ns() if steady else (self._sim_time_ns or 0)
        timer = _DdsTimer(period_ns, callback, start + period_ns, steady)
        with self._lock:
            self._timers.append(timer)
        self._wake.set(True)
        return timer

    def _run_due_timers(self) -> int:
        steady_ns, sim_ns = time.monotonic_ns(), self._sim_time_ns
        with self._lock:
            self._timers = [t for t in self._timers if not t.cancelled]
            timers = list(self._timers)
        ran = 0
        for timer in timers:
            now = steady_ns if timer.steady else sim_ns
            if now is not None and timer.due(now):
                timer.callback()
                ran += 1
        return ran

    def spin_once(self, timeout_s: float = 0.1) -> None:
        """Wait up to ``timeout_s`` for samples or a timer, then run the ready callbacks."""
        with self._spin_lock:
            if self._closed:
                return
            with self._lock:
                next_timer = min(
                    (t.next_ns for t in self._timers if t.steady and not t.cancelled), default=None
                )
            wait_ns = int(max(timeout_s, 0.0) * 1e9)
            if next_timer is not None:
                wait_ns = max(0, min(wait_ns, next_timer - time.monotonic_ns()))
            if wait_ns > 0:
                self._waitset.wait(wait_ns)
            self._wake.take()
            with self._lock:
                subscriptions = list(self._subscriptions)
            for subscription in subscriptions:
                if self._closed:
                    return
                if subscription.condition.is_triggered():
                    subscription.take_and_dispatch()
            if not self._closed:
                self._run_due_timers()

    def _on_clock(self, msg: Any) -> None:
        self._sim_time_ns = int(msg.clock.sec) * 1_000_000_000 + int(msg.clock.nanosec)

    def now_ns(self) -> int:
        """Wall-clock time, or the last ``/clock`` time with ``use_sim_time`` (0 before any)."""
        if self._sim_time_ns is not None:
            return self._sim_time_ns
        return 0 if self._has_clock_subscription() else time.time_ns()

    def _has_clock_subscription(self) -> bool:
        return any(s.topic_name == "/clock" for s in self._subscriptions)

    def shutdown(self) -> None:
        """Delete the participant and everything it owns; safe to call twice, from any thread.

        A spin in progress in another thread is woken and finishes first.
        """
        if self._closed:
            return
        self._closed = True
        self._wake.set(True)
        with self._spin_lock:
            with self._lock:
                self._subscriptions.clear()
                self._timers.clear()
            self._topics.clear()
            # Deleting the participant deletes its readers, writers, topics and conditions.
            self._participant.__del__()
