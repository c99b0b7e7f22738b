"""Peer process of the cell tests: the robot (sim.follower) and the booth's interlocks.

Run as ``python cell_plant.py <namespace> <domain_id> [legacy]`` with ``CYCLONEDDS_URI``
set. It follows joint trajectories, publishes joint_states at 250 Hz and the interlocks at
10 Hz (a ``coatshare_interfaces/Interlocks`` on ``interlocks``; with ``legacy``, the four
deprecated ``std_msgs/Bool`` topics ``interlocks/<signal>`` instead), records every gun
command with the robot's joints at that moment, and obeys commands on stdin, one per line::

    set <signal> <0|1>      interlock value (estop, door_closed, paint_pressure_ok, ...)
    silence                 stop publishing the interlocks (they go stale)
    push <joint> <rad>      offset a reported joint (the arm is pushed off its path)
    freeze <0|1>            the robot stops moving
    quit                    print the record as one JSON line and exit

Prints ``READY`` once the follower runs.
"""

import json
import queue
import sys
import threading
import time

from robot_nodes.bus.api import QOS_LATCHED
from robot_nodes.cell_bus import (
    GUN_TRIGGER,
    INTERLOCKS,
    create_cell_bus,
    interlock_topic,
    interlocks_msg,
)
from robot_nodes.controller import INTERLOCK_SIGNALS
from sim.follower import PAINTER6_HOME, PAINTER6_JOINTS, FollowerNode, TrajectoryFollower

SAFE = {"estop": False, "door_closed": True, "paint_pressure_ok": True, "booth_airflow_ok": True}


def main(namespace: str, domain_id: int, legacy: bool = False) -> int:
    commands: queue.Queue[str] = queue.Queue()

    def read_stdin() -> None:
        for line in sys.stdin:
            commands.put(line.strip())
        commands.put("quit")

    threading.Thread(target=read_stdin, daemon=True).start()
    with create_cell_bus("dds", "plant", namespace, domain_id=domain_id) as bus:
        follower = TrajectoryFollower(PAINTER6_JOINTS, PAINTER6_HOME, tau_s=0.02)
        node = FollowerNode(bus, follower)
        Bool = bus.message_type("std_msgs/msg/Bool")
        values = dict(SAFE)
        silent = False
        if legacy:
            pubs = {
                s: bus.create_publisher(Bool, interlock_topic(s), QOS_LATCHED)
                for s in INTERLOCK_SIGNALS
            }
        else:
            interlocks = bus.create_publisher(
                bus.message_type("coatshare_interfaces/msg/Interlocks"), INTERLOCKS, QOS_LATCHED
            )
        gun: list[dict] = []
        trajectories: list[float] = []
        history: list[list[float]] = []
        t_start = time.monotonic()

        def on_gun(msg) -> None:
            gun.append(
                {"t": time.monotonic() - t_start, "on": bool(msg.data), "q": follower.q.tolist()}
            )

        bus.create_subscription(Bool, GUN_TRIGGER, on_gun, QOS_LATCHED)
        original_set = follower.set_from_message

        def recording_set(msg, now_s, clock_ns=None):
            trajectories.append(time.monotonic() - t_start)
            original_set(msg, now_s, clock_ns)

        follower.set_from_message = recording_set  # type: ignore[method-assign]

        def publish_interlocks() -> None:
            if silent:
                return
            if legacy:
                for s, pub in pubs.items():
                    pub.publish(Bool(data=values[s]))
            else:
                interlocks.publish(interlocks_msg(bus.message_type, values, time.time_ns()))

        def record() -> None:
            history.append([time.monotonic() - t_start, *follower.q.tolist()])

        bus.create_timer(0.1, publish_interlocks)
        bus.create_timer(0.004, record)
        publish_interlocks()
        print("READY", flush=True)
        while True:
            bus.spin_once(0.005)
            try:
                line = commands.get_nowait()
            except queue.Empty:
                continue
            words = line.split()
            if not words:
                continue
            if words[0] == "quit":
                break
            if words[0] == "set":
                values[words[1]] = words[2] == "1"
                silent = False
                publish_interlocks()
            elif words[0] == "silence":
                silent = True
            elif words[0] == "push":
                j, rad = int(words[1]), float(words[2])
                node.inject(lambda f, j=j, rad=rad: f.offset.__setitem__(j, rad))
            elif words[0] == "freeze":
                node.inject(lambda f, on=words[1] == "1": setattr(f, "frozen", on))
            print(f"OK {line}", flush=True)
        print(
            json.dumps(
                {
                    "gun": gun,
                    "trajectories": trajectories,
                    "published": node.published,
                    "history": history,
                }
            ),
            flush=True,
        )
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1], int(sys.argv[2]), sys.argv[3:4] == ["legacy"]))
