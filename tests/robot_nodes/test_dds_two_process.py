"""Two processes exchange a SprayProgram and JointStates over the dds backend."""

import json
import os
import queue
import subprocess
import sys
import threading
from pathlib import Path

import numpy as np
import pytest
from scipy.spatial.transform import Rotation

from robot_nodes.bus.dds import LOOPBACK_CONFIG_XML

from .dds_peer import JOINTS, joint_positions, program_path

HERE = Path(__file__).resolve().parent
REPO = HERE.parents[1]
PEER = HERE / "dds_peer.py"
N_STATES = 30


def _start(mode: str, domain_id: int) -> subprocess.Popen:
    env = {**os.environ, "CYCLONEDDS_URI": LOOPBACK_CONFIG_XML, "PYTHONPATH": str(REPO)}
    return subprocess.Popen(
        [sys.executable, str(PEER), mode, str(domain_id), str(N_STATES)],
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        text=True,
        env=env,
        cwd=str(REPO),
    )


def _readline(proc: subprocess.Popen, timeout_s: float) -> str:
    lines: queue.Queue[str] = queue.Queue()
    threading.Thread(target=lambda: lines.put(proc.stdout.readline()), daemon=True).start()
    try:
        return lines.get(timeout=timeout_s).strip()
    except queue.Empty:
        proc.kill()
        pytest.fail(f"no output from peer within {timeout_s} s")


def _finish(proc: subprocess.Popen) -> dict:
    try:
        out, err = proc.communicate(timeout=30)
    except subprocess.TimeoutExpired:
        proc.kill()
        out, err = proc.communicate()
    assert proc.returncode == 0, f"peer failed ({proc.returncode}): {err}\n{out}"
    return json.loads(out.strip().splitlines()[-1])


def test_program_and_joint_states_between_processes(domain_id: int) -> None:
    publisher = _start("publish", domain_id)
    subscriber = None
    try:
        assert _readline(publisher, 20.0) == "READY"  # both programs written before the
        subscriber = _start("subscribe", domain_id)  # subscriber process even exists
        sub_out = _finish(subscriber)
        pub_out = _finish(publisher)
    finally:
        for proc in (publisher, subscriber):
            if proc is not None and proc.poll() is None:
                proc.kill()
                proc.wait()

    # late joiner: reliable + transient-local depth 1 delivers exactly the last program
    assert [p["program_id"] for p in sub_out["programs"]] == ["prog-2"]
    program = sub_out["programs"][0]
    expected = program_path(2)
    assert program["part_id"] == "part-2" and program["recipe_version"] == 2
    assert program["recipe_hash"] == "02" * 32
    assert program["signature"] == bytes((2 + i) % 256 for i in range(64)).hex()
    assert program["stamp"] == [1_700_000_000, 2]
    np.testing.assert_allclose(program["positions"], expected.T_base_tcp[:, :3, 3], atol=1e-12)
    R = Rotation.from_quat(program["orientations"]).as_matrix()
    np.testing.assert_allclose(R, expected.T_base_tcp[:, :3, :3], atol=1e-12)
    assert program["speed"] == expected.speed_mm_s.tolist() == [0.0, 500.0, 500.0, 500.0]
    assert program["trigger"] == [False, True, False, True]

    states = sub_out["states"]
    assert len(states) == N_STATES
    seqs = [s["seq"] for s in states]
    assert seqs == list(range(seqs[0], seqs[0] + N_STATES))  # in order, none lost
    for s in states:
        assert s["name"] == JOINTS
        assert s["position"] == pytest.approx(joint_positions(s["seq"]), abs=0)

    # and back: the subscriber's ProgramStatus reached the publisher
    assert pub_out["ack_program_id"] == "prog-2"
    assert pub_out["ack_state"] == 4  # DONE
    assert pub_out["ack_progress"] == 1.0
    assert pub_out["sent"] >= N_STATES
