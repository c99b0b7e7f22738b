"""The ROS 2 bus: one small node interface with two backends.

``dds``
    Cyclone DDS through the ``cyclonedds`` package, wire-compatible with ROS 2 nodes on
    rmw_cyclonedds; no ROS installation needed (embedded default, tests, sim).
``rclpy``
    The ROS 2 client library, in the ROS 2 image (production cells).

Example::

    from robot_nodes.bus import QOS_LATCHED, create_bus

    with create_bus("dds", "cell_controller", "/cell_1") as bus:
        JointState = bus.message_type("sensor_msgs/msg/JointState")
        pub = bus.create_publisher(JointState, "joint_states", QOS_LATCHED)
        pub.publish(JointState(name=["joint_1"], position=[0.1]))

Backends are imported on demand: importing this package imports neither ``cyclonedds``
nor ``rclpy``.
"""

from __future__ import annotations

from typing import Any, Literal

from recipes.errors import InvalidInputError
from robot_nodes.bus.api import (
    QOS_CLOCK,
    QOS_DEFAULT,
    QOS_LATCHED,
    QOS_SENSOR_DATA,
    QOS_STATUS,
    Bus,
    Durability,
    Publisher,
    QosProfile,
    Reliability,
    Subscription,
    Timer,
    dds_topic_name,
    normalize_namespace,
    resolve_topic_name,
)
from robot_nodes.bus.domain_ids import DomainIdLease, lease_domain_id

BackendName = Literal["dds", "rclpy"]
BACKENDS: tuple[str, ...] = ("dds", "rclpy")


def create_bus(
    backend: BackendName,
    node_name: str,
    namespace: str = "",
    *,
    domain_id: int | None = None,
    use_sim_time: bool = False,
    **options: Any,
) -> Bus:
    """Create a node on the chosen backend.

    Parameters
    ----------
    backend : {"dds", "rclpy"}
    node_name : str
    namespace : str
        E.g. ``"/cell_1"``.
    domain_id : int, optional
        ROS domain id; the backend's default when None.
    use_sim_time : bool
        Take node time from ``/clock``.
    **options
        Backend-specific: ``config_xml`` (dds), ``args`` (rclpy).

    Raises
    ------
    InvalidInputError
        For an unknown backend.
    """
    if backend == "dds":
        from robot_nodes.bus.dds import DdsBus

        return DdsBus(
            node_name, namespace, domain_id=domain_id, use_sim_time=use_sim_time, **options
        )
    if backend == "rclpy":
        from robot_nodes.bus.rclpy_backend import RclpyBus

        return RclpyBus(
            node_name, namespace, domain_id=domain_id, use_sim_time=use_sim_time, **options
        )
    raise InvalidInputError("backend", f"'{backend}' is not one of {', '.join(BACKENDS)}")


__all__ = [
    "BACKENDS",
    "QOS_CLOCK",
    "QOS_DEFAULT",
    "QOS_LATCHED",
    "QOS_SENSOR_DATA",
    "QOS_STATUS",
    "BackendName",
    "Bus",
    "DomainIdLease",
    "Durability",
    "Publisher",
    "QosProfile",
    "Reliability",
    "Subscription",
    "Timer",
    "create_bus",
    "dds_topic_name",
    "lease_domain_id",
    "normalize_namespace",
    "resolve_topic_name",
]
