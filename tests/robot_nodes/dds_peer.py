"""Peer process for test_dds_two_process: a publisher or a subscriber on the dds backend.

Run as ``python dds_peer.py publish|subscribe <domain_id> <n_states>``; Cyclone's network
settings come from ``CYCLONEDDS_URI``. Writes one JSON line with what it saw to stdout.
"""

import json
import sys

import numpy as np

from robot_nodes.bus import QOS_DEFAULT, QOS_LATCHED, QOS_STATUS, create_bus
from robot_nodes.convert import joint_state_msg, spray_program_msg
from robot_nodes.toolpath import ToolPath

NAMESPACE = "/cell_9"
JOINTS = [f"joint_{i}" for i in range(1, 7)]
TIMEOUT_S = 20.0


def program_path(index: int) -> ToolPath:
    """Deterministic path of program ``index``: index + 2 waypoints along y."""
    n = index + 2
    T = np.repeat(np.eye(4)[None], n, axis=0)
    T[:, :3, :3] = np.diag([-1.0, 1.0, -1.0])
    T[:, 0, 3] = 1.0
    T[:, 1, 3] = np.linspace(-0.3, 0.3, n)
    T[:, 2, 3] = 1.05
    speed = np.full(n, 250.0 * index)
    speed[0] = 0.0
    trigger = np.arange(n) % 2 == 1
    return ToolPath(T, speed, trigger)


def make_program(bus, index: int):
    return spray_program_msg(
        bus.message_type,
        program_path(index),
        program_id=f"prog-{index}",
        recipe_id="door-matt",
        recipe_version=index,
        recipe_hash=f"{index:02x}" * 32,
        signature=bytes((index + i) % 256 for i in range(64)),
        signing_key_id="ops-key",
        part_id=f"part-{index}",
        stamp_ns=1_700_000_000_000_000_000 + index,
    )


def joint_positions(seq: int) -> list[float]:
    return [0.001 * seq + 0.1 * j for j in range(6)]


def publish(domain_id: int, n_states: int) -> int:
    with create_bus("dds", "cell_controller", NAMESPACE, domain_id=domain_id) as bus:
        SprayProgram = bus.message_type("coatshare_interfaces/msg/SprayProgram")
        JointState = bus.message_type("sensor_msgs/msg/JointState")
        ProgramStatus = bus.message_type("coatshare_interfaces/msg/ProgramStatus")
        programs = bus.create_publisher(SprayProgram, "spray_program", QOS_LATCHED)
        states = bus.create_publisher(JointState, "joint_states", QOS_DEFAULT)
        acks: list = []
        bus.create_subscription(ProgramStatus, "program_status", acks.append, QOS_STATUS)
        programs.publish(make_program(bus, 1))
        programs.publish(make_program(bus, 2))  # depth 1: late joiners get only this one
        print("READY", flush=True)
        sent = 0

        def tick() -> None:
            nonlocal sent
            if states.subscription_count() > 0:
                states.publish(
                    joint_state_msg(bus.message_type, JOINTS, joint_positions(sent), stamp_ns=sent)
                )
                sent += 1

        bus.create_timer(0.01, tick)
        ok = bus.spin(until=lambda: bool(acks), timeout_s=TIMEOUT_S)
        ack = acks[0] if acks else None
        print(
            json.dumps(
                {
                    "sent": sent,
                    "ack_program_id": ack.program_id if ack else None,
                    "ack_state": ack.state if ack else None,
                    "ack_progress": ack.progress if ack else None,
                }
            ),
            flush=True,
        )
        return 0 if ok else 1


def subscribe(domain_id: int, n_states: int) -> int:
    with create_bus("dds", "edge_dispatch", NAMESPACE, domain_id=domain_id) as bus:
        SprayProgram = bus.message_type("coatshare_interfaces/msg/SprayProgram")
        JointState = bus.message_type("sensor_msgs/msg/JointState")
        ProgramStatus = bus.message_type("coatshare_interfaces/msg/ProgramStatus")
        programs: list = []
        states: list = []
        bus.create_subscription(SprayProgram, "spray_program", programs.append, QOS_LATCHED)
        bus.create_subscription(JointState, "joint_states", states.append, QOS_DEFAULT)
        ok = bus.spin(until=lambda: bool(programs) and len(states) >= n_states, timeout_s=TIMEOUT_S)
        status = bus.create_publisher(ProgramStatus, "program_status", QOS_STATUS)
        if programs:
            status.publish(
                ProgramStatus(
                    program_id=programs[-1].program_id, state=ProgramStatus.DONE, progress=1.0
                )
            )
        bus.spin(until=lambda: status.subscription_count() > 0, timeout_s=5.0)
        bus.spin(timeout_s=0.5)  # let the reliable writer deliver before the process ends
        print(
            json.dumps(
                {
                    "programs": [
                        {
                            "program_id": p.program_id,
                            "part_id": p.part_id,
                            "recipe_version": p.recipe_version,
                            "recipe_hash": p.recipe_hash,
                            "signature": bytes(p.signature).hex(),
                            "stamp": [p.header.stamp.sec, p.header.stamp.nanosec],
                            "positions": [
                                [w.position.x, w.position.y, w.position.z] for w in p.waypoints
                            ],
                            "orientations": [
                                [w.orientation.x, w.orientation.y, w.orientation.z, w.orientation.w]
                                for w in p.waypoints
                            ],
                            "speed": list(p.tool_speed_mm_s),
                            "trigger": list(p.trigger),
                        }
                        for p in programs
                    ],
                    "states": [
                        {
                            "seq": s.header.stamp.nanosec,
                            "name": list(s.name),
                            "position": list(s.position),
                        }
                        for s in states[:n_states]
                    ],
                }
            ),
            flush=True,
        )
        return 0 if ok else 1


if __name__ == "__main__":
    mode, domain, count = sys.argv[1], int(sys.argv[2]), int(sys.argv[3])
    sys.exit(publish(domain, count) if mode == "publish" else subscribe(domain, count))
