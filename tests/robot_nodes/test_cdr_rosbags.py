"""The dds backend's types serialise byte for byte like ROS 2 (checked with rosbags)."""

from __future__ import annotations

import pickle
import zlib
from typing import Any

import numpy as np
import pytest
from rosbags.typesys import Stores, get_types_from_msg, get_typestore
from rosbags.typesys.store import Typestore

from robot_nodes.bus import dds_types
from robot_nodes.bus.msgdef import FieldType, MsgSpec

REGISTRY = dds_types.default_registry()
ALL_TYPES = REGISTRY.names
STRINGS = ["", "a", "cell_1/joint_2", "lacquer ø matt", "base_link"]
_INT_RANGES = {
    "byte": (0, 255), "char": (0, 255), "int8": (-128, 127), "uint8": (0, 255),
    "int16": (-(2**15), 2**15 - 1), "uint16": (0, 2**16 - 1),
    "int32": (-(2**31), 2**31 - 1), "uint32": (0, 2**32 - 1),
    "int64": (-(2**63), 2**63 - 1), "uint64": (0, 2**64 - 1),
}  # fmt: skip
_NUMPY = {
    "bool": np.bool_, "byte": np.uint8, "char": np.uint8, "int8": np.int8, "uint8": np.uint8,
    "int16": np.int16, "uint16": np.uint16, "int32": np.int32, "uint32": np.uint32,
    "int64": np.int64, "uint64": np.uint64, "float32": np.float32, "float64": np.float64,
}  # fmt: skip


def _typestore(store: Stores) -> Typestore:
    typestore = get_typestore(store)
    types: dict[str, Any] = {}
    for name in ALL_TYPES:
        if name.startswith("coatshare_interfaces/"):
            types.update(get_types_from_msg(REGISTRY.spec(name).text, name))
    typestore.register(types)
    return typestore


TYPESTORES = {store: _typestore(store) for store in (Stores.ROS2_HUMBLE, Stores.ROS2_JAZZY)}


def _scalar(base: str, rng: np.random.Generator) -> Any:
    if base == "bool":
        return bool(rng.integers(2))
    if base == "string":
        return STRINGS[int(rng.integers(len(STRINGS)))]
    if base == "float32":
        return float(rng.integers(-4000, 4000)) / 8.0  # exact in float32
    if base == "float64":
        return float(rng.normal() * 1e3)
    lo, hi = _INT_RANGES[base]
    return int(rng.choice([lo, hi, int(rng.integers(max(lo, -1000), min(hi, 1000) + 1))]))


def make_value(spec: MsgSpec, rng: np.random.Generator, variant: int) -> dict[str, Any]:
    """Nested plain values for a message; variant 0 leaves every sequence empty."""
    value: dict[str, Any] = {}
    for field in spec.fields:
        value[field.name] = _field_value(field.type, rng, variant)
    return value


def _field_value(t: FieldType, rng: np.random.Generator, variant: int) -> Any:
    def one() -> Any:
        if t.is_primitive:
            return _scalar(t.base, rng)
        return make_value(REGISTRY.spec(t.base), rng, variant)

    if not t.array:
        return one()
    if t.array == "fixed":
        n = t.array_size
    else:
        n = 0 if variant == 0 else int(rng.integers(1, 4))
        if t.array == "bounded":
            n = min(n, int(t.array_size or 0))
    return [one() for _ in range(int(n or 0))]


def to_dds(name: str, value: dict[str, Any]) -> Any:
    spec = REGISTRY.spec(name)
    kwargs = {}
    for field in spec.fields:
        v = value[field.name]
        if not field.type.is_primitive:
            v = (
                [to_dds(field.type.base, x) for x in v]
                if field.type.array
                else to_dds(field.type.base, v)
            )
        kwargs[field.name] = v
    return REGISTRY.get_type(name)(**kwargs)


def to_rosbags(typestore: Typestore, name: str, value: dict[str, Any]) -> Any:
    spec = REGISTRY.spec(name)
    kwargs = {}
    for field in spec.fields:
        v = value[field.name]
        t = field.type
        if not t.is_primitive:
            v = (
                [to_rosbags(typestore, t.base, x) for x in v]
                if t.array
                else to_rosbags(typestore, t.base, v)
            )
        elif t.array and t.base != "string":
            v = np.array(v, dtype=_NUMPY[t.base])
        kwargs[field.name] = v
    return typestore.types[name](**kwargs)


def to_plain(name: str, msg: Any) -> dict[str, Any]:
    """Plain nested values of a message of either library."""
    out: dict[str, Any] = {}
    for field in REGISTRY.spec(name).fields:
        v = getattr(msg, field.name)
        t = field.type
        if not t.is_primitive:
            v = [to_plain(t.base, x) for x in v] if t.array else to_plain(t.base, v)
        elif t.array:
            v = [x.item() if hasattr(x, "item") else x for x in v]
        elif hasattr(v, "item"):
            v = v.item()
        out[field.name] = v
    return out


@pytest.mark.parametrize("store", list(TYPESTORES))
@pytest.mark.parametrize("variant", [0, 1, 2, 3])
@pytest.mark.parametrize("name", ALL_TYPES)
def test_cdr_identical_to_rosbags(name: str, variant: int, store: Stores) -> None:
    typestore = TYPESTORES[store]
    rng = np.random.default_rng([zlib.crc32(name.encode()), variant])
    value = make_value(REGISTRY.spec(name), rng, variant)
    ours = to_dds(name, value).serialize()
    theirs = bytes(typestore.serialize_cdr(to_rosbags(typestore, name, value), name))
    assert ours[:4] == b"\x00\x01\x00\x00"  # CDR little endian, XCDR1 as ROS 2 uses
    assert ours == theirs
    assert to_plain(name, typestore.deserialize_cdr(ours, name)) == value
    assert to_plain(name, REGISTRY.get_type(name).deserialize(theirs)) == value


def test_variants_cover_empty_and_filled_arrays() -> None:
    spec = REGISTRY.spec("coatshare_interfaces/msg/SprayProgram")
    empty = make_value(spec, np.random.default_rng(1), 0)
    filled = make_value(spec, np.random.default_rng(1), 2)
    assert empty["waypoints"] == [] and empty["signature"] == []
    assert len(filled["waypoints"]) >= 1 and len(filled["trigger"]) >= 1


def test_realistic_spray_program_bytes() -> None:
    """A hand-written program: 64-byte signature, three waypoints, mixed triggers."""
    typestore = TYPESTORES[Stores.ROS2_HUMBLE]
    name = "coatshare_interfaces/msg/SprayProgram"
    pose = {"position": {"x": 1.0, "y": -0.3, "z": 1.05},
            "orientation": {"x": 0.0, "y": 1.0, "z": 0.0, "w": 0.0}}  # fmt: skip
    value = {
        "header": {"stamp": {"sec": 1_700_000_000, "nanosec": 5}, "frame_id": "base_link"},
        "program_id": "prog-0001", "part_id": "job-7/part-3", "recipe_id": "door-matt",
        "recipe_version": 3, "recipe_hash": "ab" * 32, "signing_key_id": "ops-2024",
        "signature": list(range(64)), "frame_id": "base_link",
        "waypoints": [pose, pose, pose], "tool_speed_mm_s": [0.0, 500.0, 500.0],
        "trigger": [False, True, False],
    }  # fmt: skip
    ours = to_dds(name, value).serialize()
    assert ours == bytes(typestore.serialize_cdr(to_rosbags(typestore, name, value), name))
    back = typestore.deserialize_cdr(ours, name)
    assert bytes(back.signature) == bytes(range(64))
    assert back.trigger.tolist() == [False, True, False]
    # 4 header + strings/ints up to the signature (168) + signature (4 + 64) + frame_id to
    # 250 + waypoints (pad to 252, 4 + 3 x 56) + speeds (4, pad, 24) + trigger (4 + 3)
    assert len(ours) == 4 + 463


def test_constants_are_class_attributes() -> None:
    status = dds_types.coatshare_interfaces.msg.ProgramStatus
    state = dds_types.coatshare_interfaces.msg.CellState
    assert (status.QUEUED, status.RUNNING, status.ABORTED) == (0, 3, 5)
    assert (state.MODE_MANUAL, state.MODE_AUTO) == (1, 2)
    assert status().state == 0 and "state" in status.__annotations__


def test_types_carry_ros2_dds_names_and_defaults() -> None:
    JointState = dds_types.sensor_msgs.msg.JointState
    assert JointState is dds_types.get_type("sensor_msgs/JointState")
    assert JointState.__idl_typename__ == "sensor_msgs::msg::dds_::JointState_"
    assert dds_types.geometry_msgs.msg.Quaternion().w == 1.0
    a, b = JointState(), JointState()
    a.name.append("joint_1")
    assert b.name == []  # no shared mutable defaults
    assert pickle.loads(pickle.dumps(a)) == a  # e.g. across multiprocessing queues


@pytest.mark.parametrize("store", list(TYPESTORES))
def test_interlocks_cell_command_and_timed_trigger_bytes(store: Stores) -> None:
    """Hand-written values of the interlock, command and timed trigger messages, byte for
    byte."""
    typestore = TYPESTORES[store]
    header = {"stamp": {"sec": 1_700_000_123, "nanosec": 999_999_999}, "frame_id": ""}
    cases = {
        "coatshare_interfaces/msg/Interlocks": {
            "header": header, "estop": False, "door_closed": True,
            "paint_pressure_ok": False, "booth_airflow_ok": True,
        },
        "coatshare_interfaces/msg/CellCommand": {
            "header": header, "command": 4, "program_id": "job-7/part-3 ø",
        },
        "coatshare_interfaces/msg/TimedTrigger": {
            "header": {"stamp": {"sec": 1234, "nanosec": 560_000_000}, "frame_id": ""},
            "on": True,
        },
    }  # fmt: skip
    for name, value in cases.items():
        ours = to_dds(name, value).serialize()
        assert ours == bytes(typestore.serialize_cdr(to_rosbags(typestore, name, value), name))
        assert to_plain(name, typestore.deserialize_cdr(ours, name)) == value
    # encapsulation 4, stamp 8, empty frame_id 4 + 1, four bools packed without padding
    interlocks = to_dds("coatshare_interfaces/msg/Interlocks", cases[
        "coatshare_interfaces/msg/Interlocks"])  # fmt: skip
    assert len(interlocks.serialize()) == 4 + 8 + 5 + 4
    trigger = to_dds("coatshare_interfaces/msg/TimedTrigger", cases[
        "coatshare_interfaces/msg/TimedTrigger"])  # fmt: skip
    assert trigger.serialize()[-1:] == b"\x01" and len(trigger.serialize()) == 4 + 8 + 5 + 1
    command = dds_types.coatshare_interfaces.msg.CellCommand
    assert (command.START, command.PAUSE, command.RESUME, command.ABORT, command.RESET) == (
        1, 2, 3, 4, 5,
    )  # fmt: skip


@pytest.mark.parametrize("store", list(TYPESTORES))
def test_camera_image_1280x960_bytes(store: Stores) -> None:
    """A full mono8 camera frame through the byte-array fast path: the same CDR as rosbags,
    from a numpy array, bytes or a list, and ``bytes`` on the way back."""
    typestore = TYPESTORES[store]
    name = "sensor_msgs/msg/Image"
    pixels = np.random.default_rng(7).integers(0, 256, 1280 * 960, dtype=np.uint8)
    fields = {
        "header": {"stamp": {"sec": 12, "nanosec": 34}, "frame_id": "cell_1/camera"},
        "height": 960, "width": 1280, "encoding": "mono8", "is_bigendian": 0, "step": 1280,
    }  # fmt: skip
    Image = REGISTRY.get_type(name)
    Header = REGISTRY.get_type("std_msgs/msg/Header")
    Time = REGISTRY.get_type("builtin_interfaces/msg/Time")
    header = Header(stamp=Time(sec=12, nanosec=34), frame_id="cell_1/camera")
    theirs = bytes(
        typestore.serialize_cdr(to_rosbags(typestore, name, {**fields, "data": pixels}), name)
    )
    for data in (pixels, pixels.tobytes(), bytearray(pixels.tobytes())):
        plain = {k: v for k, v in fields.items() if k != "header"}
        assert Image(header=header, data=data, **plain).serialize() == theirs
    # stamp 8, frame_id 4 + 14, pad 2, height, width, "mono8" 4 + 6, is_bigendian, pad 1, step,
    # length 4
    assert len(theirs) == 4 + 8 + 18 + 2 + 4 + 4 + 10 + 1 + 1 + 4 + 4 + 1280 * 960
    back = Image.deserialize(theirs)
    assert isinstance(back.data, bytes) and back.data == pixels.tobytes()
    np.testing.assert_array_equal(typestore.deserialize_cdr(theirs, name).data, pixels)


def test_byte_arrays_take_the_fast_path() -> None:
    from robot_nodes.bus.dds_types import _ByteSequenceMachine

    for name, field in (
        ("sensor_msgs/msg/Image", "data"),
        ("coatshare_interfaces/msg/SprayProgram", "signature"),
    ):
        idl = REGISTRY.get_type(name).__idl__
        for machine in (idl.v1_machine, idl.v2_machine):
            assert isinstance(machine.members_machines[field], _ByteSequenceMachine), name
    Image = REGISTRY.get_type("sensor_msgs/msg/Image")
    assert Image().data == b"" and Image(data=[1, 2, 3]).serialize()[-7:] == bytes(
        [3, 0, 0, 0, 1, 2, 3]
    )
    with pytest.raises(Exception, match="data"):
        Image(data=[1, 2, 256]).serialize()
    with pytest.raises(Exception, match="data"):
        Image(data=np.arange(3)).serialize()  # int64 pixels are not silently reinterpreted
