"""Short versions of the bus benchmark between two processes (the full runs are in
benchmarks/robot_nodes_bench.py): joint states at 250 Hz and camera images."""

from __future__ import annotations

from benchmarks.robot_nodes_bench import bench_stream


def test_joint_states_at_250_hz_arrive_complete_and_fast() -> None:
    result = bench_stream("joint_states", 2.0, 250.0)
    assert result["sent"] == 500
    assert result["lost"] == 0 and result["in_order"]
    assert result["achieved_rate_hz"] > 240.0
    assert result["latency_ms_p99"] < 20.0  # 5 ms is the benchmark's target, on a quiet host


def test_camera_images_arrive_complete_at_15_fps() -> None:
    """1280x960 mono8 frames built and published the ordinary way (the byte-array fast
    path serialises them)."""
    result = bench_stream("image", 1.0, 15.0)
    assert result["sent"] == 15 and result["lost"] == 0
    assert result["frame_bytes"] == 1280 * 960
    assert result["achieved_rate_hz"] > 14.0
