"""The ``rclpy`` bus backend, for the ROS 2 Jazzy image of ``compose/`` (also Humble).

``rclpy`` and the generated message packages (``sensor_msgs``, ``coatshare_interfaces``
built with colcon from ``interfaces/``) are imported here and only here, inside the
methods, so the rest of the project imports without a ROS 2 installation.

API used, checked against rclpy of Jazzy (and Humble): ``rclpy.init(args=, context=,
domain_id=)`` (keyword-only; a private ``Context`` installs no signal handlers, the CLI
keeps its own), ``rclpy.create_node(name, namespace=, context=, parameter_overrides=)``,
``Node.create_publisher/create_subscription(msg_type, topic, callback, qos)``,
``Node.create_timer(period, callback, clock=)``, ``Clock(clock_type=ClockType.STEADY_TIME)``,
``SingleThreadedExecutor(context=)``, ``Node.count_publishers``,
``Node.get_publishers_info_by_topic``. Jazzy's rclpy inspects a subscription callback's
signature and passes a ``MessageInfo`` to one that takes two arguments, and later releases
pass a ``TimerInfo`` to a timer callback that takes one: the bus hands rclpy closures of
exactly one (message) and zero arguments, so a node's callback (often ``f(*args)``, as the
cell node's error guard) is never called with either.
"""

from __future__ import annotations

import importlib
from collections.abc import Callable
from typing import Any

from recipes.errors import InvalidInputError
from robot_nodes.bus.api import BusBase, Durability, QosProfile, Reliability
from robot_nodes.bus.msgdef import normalize_type_name


def to_rclpy_qos(qos: QosProfile) -> Any:
    """``rclpy.qos.QoSProfile`` equivalent to a :class:`QosProfile`."""
    from rclpy.qos import DurabilityPolicy, HistoryPolicy, QoSProfile, ReliabilityPolicy

    return QoSProfile(
        history=HistoryPolicy.KEEP_LAST,
        depth=qos.depth,
        reliability=(
            ReliabilityPolicy.RELIABLE
            if qos.reliability is Reliability.RELIABLE
            else ReliabilityPolicy.BEST_EFFORT
        ),
        durability=(
            DurabilityPolicy.TRANSIENT_LOCAL
            if qos.durability is Durability.TRANSIENT_LOCAL
            else DurabilityPolicy.VOLATILE
        ),
    )


def _no_timer_info(callback: Callable[[], None]) -> Callable[[], None]:
    """``callback`` behind a closure of no arguments: rclpy passes no ``TimerInfo``."""

    def on_timer() -> None:
        callback()

    return on_timer


class _RclpyPublisher:
    def __init__(self, publisher: Any) -> None:
        self._publisher = publisher

    @property
    def topic_name(self) -> str:
        return str(self._publisher.topic_name)

    def publish(self, msg: Any) -> None:
        self._publisher.publish(msg)

    def subscription_count(self) -> int:
        return int(self._publisher.get_subscription_count())


class _RclpySubscription:
    def __init__(self, subscription: Any, node: Any) -> None:
        self._subscription = subscription
        self._node = node

    @property
    def topic_name(self) -> str:
        return str(self._subscription.topic_name)

    def publisher_count(self) -> int:
        return int(self._node.count_publishers(self._subscription.topic_name))


class RclpyBus(BusBase):
    """A ROS 2 node on rclpy, with its own context and single-threaded executor.

    Parameters
    ----------
    node_name : str
    namespace : str
    domain_id : int, optional
        ROS domain; ``ROS_DOMAIN_ID`` applies when None.
    use_sim_time : bool
        Sets the node's ``use_sim_time`` parameter: ``/clock`` drives :meth:`now_ns` and the
        timers of :meth:`create_timer`.
    args : list of str, optional
        ROS command-line arguments (remapping, parameters).
    """

    backend = "rclpy"

    def __init__(
        self,
        node_name: str,
        namespace: str = "",
        *,
        domain_id: int | None = None,
        use_sim_time: bool = False,
        args: list[str] | None = None,
    ) -> None:
        super().__init__(node_name, namespace, use_sim_time=use_sim_time)
        import rclpy
        from rclpy.context import Context
        from rclpy.executors import SingleThreadedExecutor
        from rclpy.parameter import Parameter

        self._rclpy = rclpy
        self._context = Context()
        rclpy.init(args=args, context=self._context, domain_id=domain_id)
        self._node = rclpy.create_node(
            node_name,
            namespace=self.namespace,
            context=self._context,
            parameter_overrides=[Parameter("use_sim_time", Parameter.Type.BOOL, use_sim_time)],
        )
        self._executor = SingleThreadedExecutor(context=self._context)
        self._executor.add_node(self._node)

    def message_type(self, name: str) -> type:
        """Generated class ``<pkg>.msg.<Name>`` for ``"pkg/msg/Name"``."""
        package, _, short = normalize_type_name(name).split("/")
        try:
            module = importlib.import_module(f"{package}.msg")
            return getattr(module, short)  # type: ignore[no-any-return]
        except (ImportError, AttributeError) as exc:
            raise InvalidInputError(
                "message type", f"'{name}' is not installed in this ROS 2 environment: {exc}"
            ) from exc

    def create_publisher(self, msg_type: type, topic: str, qos: QosProfile) -> _RclpyPublisher:
        return _RclpyPublisher(self._node.create_publisher(msg_type, topic, to_rclpy_qos(qos)))

    def create_subscription(
        self, msg_type: type, topic: str, callback: Callable[[Any], None], qos: QosProfile
    ) -> _RclpySubscription:
        def on_message(msg: Any) -> None:  # one argument: rclpy passes no MessageInfo
            callback(msg)

        subscription = self._node.create_subscription(
            msg_type, topic, on_message, to_rclpy_qos(qos)
        )
        return _RclpySubscription(subscription, self._node)

    def create_timer(self, period_s: float, callback: Callable[[], None]) -> Any:
        """A timer on the node's clock (ROS time: sim time under ``use_sim_time``)."""
        if period_s <= 0:
            raise InvalidInputError("period_s", f"must be positive, got {period_s}")
        return self._node.create_timer(period_s, _no_timer_info(callback))

    def create_wall_timer(self, period_s: float, callback: Callable[[], None]) -> Any:
        """A timer on the steady clock, whatever ``use_sim_time`` says."""
        from rclpy.clock import Clock, ClockType

        if period_s <= 0:
            raise InvalidInputError("period_s", f"must be positive, got {period_s}")
        return self._node.create_timer(
            period_s, _no_timer_info(callback), clock=Clock(clock_type=ClockType.STEADY_TIME)
        )

    def spin_once(self, timeout_s: float = 0.1) -> None:
        if not self._closed:
            self._executor.spin_once(timeout_sec=timeout_s)

    def now_ns(self) -> int:
        return int(self._node.get_clock().now().nanoseconds)

    def shutdown(self) -> None:
        if self._closed:
            return
        self._closed = True
        self._executor.shutdown()
        self._node.destroy_node()
        self._context.try_shutdown()
