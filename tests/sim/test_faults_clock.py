"""Fault schedule and live injection; the fixed-step clock."""

from __future__ import annotations

import numpy as np
import pytest

from recipes.errors import InvalidInputError
from sim.clock import Lockstep, SimClock
from sim.faults import ClearFaults, FaultInjector, parse_fault_command


def test_demo_schedule_places_faults_in_time(demo_world) -> None:
    inj = FaultInjector(demo_world.doc.faults)
    # the e-stop is at a fixed time; the clog waits for part 2
    assert inj.state("1", 599.9).estop is False
    st = inj.state("1", 600.0)
    assert st.estop and not st.spray_allowed and not st.conveyor_running
    assert st.fault_code == "ESTOP"
    assert inj.state("1", 610.0).estop is False  # 10 s long
    assert inj.flow_factor("1", np.array([4.5])) == pytest.approx([1.0])
    inj.start_part("1", 1, now_s=10.0)  # part 1: nothing tied to it
    assert inj.flow_factor("1", np.array([14.5])) == pytest.approx([1.0])
    (clog,) = inj.start_part("1", 2, now_s=40.0)
    assert (clog.start_s, clog.end_s) == (44.0, 45.5)
    t = np.array([43.99, 44.0, 45.0, 45.49, 45.5])
    np.testing.assert_allclose(inj.flow_factor("1", t), [1.0, 0.25, 0.25, 0.25, 1.0])
    assert inj.spray_allowed("1", t).all()  # a clog thins the flow, the gun stays open
    assert inj.state("1", 44.2).fault_code == "GUN_CLOG"
    # part 4 is put down 25 mm off, 15 mm short, turned 4 deg
    over = inj.part_overrides("1", 4)
    assert over.misplace == (25.0, -15.0, 4.0) and over.wrong_spec is None
    assert inj.part_overrides("1", 5).misplace is None


def test_live_commands_inject_and_clear() -> None:
    inj = FaultInjector()
    cmd = parse_fault_command('{"kind": "estop", "cell": "2"}')
    (fault,) = inj.apply(cmd, now_s=3.2)
    assert fault.source == "live" and fault.start_s == 3.2
    assert inj.state("2", 3.2).estop and not inj.state("1", 3.2).estop
    t = np.array([3.196, 3.2, 100.0])
    np.testing.assert_array_equal(inj.spray_allowed("2", t), [True, False, False])
    inj.apply(parse_fault_command("kind: clear\nfault: estop\ncell: '2'"), now_s=7.0)
    assert not inj.state("2", 7.0).estop and inj.state("2", 6.9).estop
    # a pressure loss on every cell for 0.5 s, a servo fault on one joint
    inj.inject({"kind": "pressure_loss", "duration_s": 0.5}, now_s=8.0)
    assert not inj.state("1", 8.2).spray_allowed and inj.state("1", 8.5).spray_allowed
    inj.inject(parse_fault_command(b'{"kind": "servo_fault", "joint": "joint_3"}'), now_s=9.0)
    st = inj.state("1", 9.5)
    assert st.servo_faults == ("joint_3",) and not st.motion_allowed
    assert st.fault_code == "SERVO_FAULT"
    events = inj.transitions("1", 7.9, 9.1)
    assert [(t, kind, f.kind) for t, kind, f in events] == [
        (8.0, "start", "pressure_loss"),
        (8.5, "end", "pressure_loss"),
        (9.0, "start", "servo_fault"),
    ]


def test_live_part_faults_hit_the_next_part_of_their_cell() -> None:
    inj = FaultInjector()
    inj.inject(parse_fault_command({"kind": "wrong_part", "cell": "1", "spec": "door"}), 1.0)
    assert inj.part_overrides("2", 0).wrong_spec is None
    assert inj.part_overrides("1", 0).wrong_spec == "door"
    assert inj.part_overrides("1", 1).wrong_spec is None  # used up


@pytest.mark.parametrize(
    ("payload", "field", "reason"),
    [
        ('{"kind": "gun_clog", "flow_factor": 2}', "gun_clog.flow_factor", "less than 1"),
        ('{"kind": "flood"}', "(root)", "does not match any of the expected tags"),
        ('{"kind": "estop", "time_s": 1, "part": 2}', "estop", "not both"),
        ("{not json: [", "(root)", "not JSON or YAML"),
    ],
)
def test_bad_commands_are_refused(payload, field, reason) -> None:
    with pytest.raises(InvalidInputError) as info:
        parse_fault_command(payload)
    assert info.value.field == field and reason in info.value.reason


def test_clear_command_parses() -> None:
    assert parse_fault_command({"kind": "clear"}) == ClearFaults(kind="clear")


def test_clock_steps_whole_nanoseconds_without_drift() -> None:
    clock = SimClock(0.004)
    for _ in range(900_000 // 4):  # 15 minutes of 4 ms steps
        clock.tick()
    assert clock.now_ns == 900_000_000_000
    assert clock.now_s == 900.0
    with pytest.raises(InvalidInputError, match="step_s"):
        SimClock(0.0)


def test_clock_holds_a_real_time_factor() -> None:
    wall = [100.0]
    slept = []

    def sleep(s: float) -> None:
        slept.append(s)
        wall[0] += s

    clock = SimClock(0.004, real_time_factor=2.0, wall=lambda: wall[0], sleep=sleep)
    for _ in range(500):  # 2 sim seconds
        clock.tick()
        wall[0] += 0.0005  # the work of a step
    assert clock.now_s == pytest.approx(2.0)
    assert wall[0] - 100.0 == pytest.approx(1.0, abs=0.003)  # 2x real time
    assert slept and all(s > 0 for s in slept)


def test_lockstep_waits_for_every_peer_that_grants_and_gives_up_silent_ones() -> None:
    wall = {"t": 0.0}
    lock = Lockstep(timeout_s=10.0, wall=lambda: wall["t"])
    assert not lock.active and lock.allows(10**12)  # nobody to wait for
    assert lock.grant("1", 100) is True and lock.grant("1", 100) is False
    assert lock.synced("1") and not lock.synced("2")
    assert lock.allows(100) and not lock.allows(104)  # steps from times up to the grant
    lock.grant("2", 200)
    assert lock.allows(100) and not lock.allows(150)  # the slowest peer decides
    wall["t"] = 9.0
    lock.grant("1", 300)  # peer 1 moves on, peer 2 falls silent
    wall["t"] = 15.0
    assert lock.expire(150) == []  # peer 1 granted 6 s ago, peer 2 has not held the clock
    assert lock.expire(250) == ["2"]
    assert lock.allows(250) and not lock.synced("2")
    wall["t"] = 30.0
    assert lock.expire(400) == ["1"] and not lock.active
    assert lock.grant("2", 500) is True  # back in lock-step once it grants again
