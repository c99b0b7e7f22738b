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


def test_camera_images_arrive_complete() -> None:
    result = bench_stream("image", 1.0, 15.0)
    assert result["sent"] == 15 and result["lost"] == 0
    assert result["frame_bytes"] == 1280 * 960


def test_one_go_image_packing_is_byte_identical_to_the_backend() -> None:
    import numpy as np

    from benchmarks.robot_nodes_bench import image_cdr
    from robot_nodes.bus import dds_types

    Image = dds_types.get_type("sensor_msgs/msg/Image")
    Header = dds_types.get_type("std_msgs/msg/Header")
    Time = dds_types.get_type("builtin_interfaces/msg/Time")
    pixels = np.random.default_rng(3).integers(0, 256, 6 * 5, np.uint8)
    msg = Image(
        header=Header(stamp=Time(sec=17, nanosec=5), frame_id="cam_1"),
        height=5, width=6, encoding="mono8", is_bigendian=0, step=6, data=pixels.tolist(),
    )  # fmt: skip
    assert image_cdr(msg, pixels.tobytes()) == msg.serialize()
