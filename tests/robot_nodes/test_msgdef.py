"""The .msg parser, the interface package and the standard message layouts."""

from __future__ import annotations

import re
import xml.etree.ElementTree as ET

import pytest
from rosbags.typesys import Stores, get_typestore

from recipes.errors import InvalidInputError
from robot_nodes.bus.msgdef import (
    FieldType,
    interfaces_root,
    load_package_msgs,
    normalize_type_name,
    parse_msg,
)
from robot_nodes.bus.ros_std_msgs import STANDARD_MSGS

PACKAGE_DIR = interfaces_root() / "coatshare_interfaces"
PROJECT_MSGS = {
    "CellCommand",
    "CellState",
    "Interlocks",
    "PartResult",
    "ProgramStatus",
    "SprayProgram",
    "TimedTrigger",
}


def test_parses_fields_constants_defaults_and_arrays() -> None:
    spec = parse_msg(
        """
        # comment line
        uint8 DONE=4   # trailing comment
        string GREETING="a # b"
        std_msgs/Header header
        float64 w 1
        string<=8 short_name
        int32[] values [1, -2]
        float32[3] rgb
        geometry_msgs/Pose[<=5] poses
        Other nested  # same package
        """,
        "pkg/msg/Thing",
    )
    assert [f.name for f in spec.fields] == [
        "header", "w", "short_name", "values", "rgb", "poses", "nested",
    ]  # fmt: skip
    types = {f.name: f.type for f in spec.fields}
    assert types["header"] == FieldType("std_msgs/msg/Header")
    assert types["short_name"] == FieldType("string", 8)
    assert types["values"] == FieldType("int32", None, "sequence")
    assert types["rgb"] == FieldType("float32", None, "fixed", 3)
    assert types["poses"] == FieldType("geometry_msgs/msg/Pose", None, "bounded", 5)
    assert types["nested"] == FieldType("pkg/msg/Other")
    defaults = {f.name: f.default for f in spec.fields}
    assert defaults["w"] == 1.0 and defaults["values"] == [1, -2]
    assert [(c.name, c.value) for c in spec.constants] == [("DONE", 4), ("GREETING", "a # b")]
    assert spec.dds_type_name == "pkg::msg::dds_::Thing_"
    assert spec.dependencies() == ["std_msgs/msg/Header", "geometry_msgs/msg/Pose", "pkg/msg/Other"]


@pytest.mark.parametrize(
    ("text", "message"),
    [
        ("float64 Bad", "not a valid field name"),
        ("float64 a__b", "not a valid field name"),
        ("float64 x\nfloat64 x", "duplicate field 'x'"),
        ("Header header", "std_msgs/Header"),
        ("wstring s", "wstring"),
        ("uint8[] X=1", "primitive scalar"),
        ("bool flag maybe", "cannot read value"),
        ("# only a comment", "at least one field"),
    ],
)
def test_rejects_malformed_definitions(text: str, message: str) -> None:
    with pytest.raises(InvalidInputError, match=re.escape(message)):
        parse_msg(text, "pkg/msg/Bad")


def test_normalize_type_name() -> None:
    assert normalize_type_name("sensor_msgs/JointState") == "sensor_msgs/msg/JointState"
    assert normalize_type_name("Pose", package="geometry_msgs") == "geometry_msgs/msg/Pose"
    with pytest.raises(InvalidInputError):
        normalize_type_name("Pose")


def test_interface_package_lists_every_msg_file() -> None:
    specs = load_package_msgs(PACKAGE_DIR)
    assert {name.split("/")[-1] for name in specs} == PROJECT_MSGS
    cmake = (PACKAGE_DIR / "CMakeLists.txt").read_text()
    assert set(re.findall(r'"msg/(\w+)\.msg"', cmake)) == PROJECT_MSGS
    assert "rosidl_generate_interfaces(${PROJECT_NAME}" in cmake
    package = ET.parse(PACKAGE_DIR / "package.xml").getroot()
    assert package.findtext("name") == "coatshare_interfaces"
    depends = {el.text for el in package.findall("depend")}
    used = {dep.split("/")[0] for spec in specs.values() for dep in spec.dependencies()}
    used.discard("coatshare_interfaces")
    assert used <= depends
    assert set(re.findall(r"DEPENDENCIES ([\w ]+)\n", cmake)[0].split()) == depends
    assert package.findtext("member_of_group") == "rosidl_interface_packages"


def test_spray_program_and_status_layout() -> None:
    specs = load_package_msgs(PACKAGE_DIR)
    program = specs["coatshare_interfaces/msg/SprayProgram"]
    types = {f.name: f.type for f in program.fields}
    assert types["waypoints"] == FieldType("geometry_msgs/msg/Pose", None, "sequence")
    assert types["tool_speed_mm_s"] == FieldType("float64", None, "sequence")
    assert types["trigger"] == FieldType("bool", None, "sequence")
    assert types["signature"] == FieldType("uint8", None, "sequence")
    status = specs["coatshare_interfaces/msg/ProgramStatus"]
    assert {c.name: c.value for c in status.constants} == {
        "QUEUED": 0, "VALIDATING": 1, "REJECTED": 2, "RUNNING": 3, "DONE": 4, "ABORTED": 5,
    }  # fmt: skip


def _rosbags_layout(fielddefs: list) -> list[tuple[str, str]]:
    """(name, type) pairs from a rosbags field definition, in our FieldType notation."""
    out = []
    for name, (kind, detail) in fielddefs:
        if kind.name == "BASE":
            out.append((name, detail[0]))
        elif kind.name == "NAME":
            out.append((name, detail))
        else:
            (inner_kind, inner), size = detail
            base = inner[0] if inner_kind.name == "BASE" else inner
            out.append((name, f"{base}[{size if kind.name == 'ARRAY' else ''}]"))
    return out


def _our_layout(spec_text: str, name: str) -> list[tuple[str, str]]:
    out = []
    for f in parse_msg(spec_text, name).fields:
        t = f.type
        if not t.array:
            out.append((f.name, t.base))
        else:
            out.append((f.name, f"{t.base}[{t.array_size if t.array == 'fixed' else ''}]"))
    return out


@pytest.mark.parametrize("store", [Stores.ROS2_HUMBLE, Stores.ROS2_JAZZY])
@pytest.mark.parametrize("name", sorted(STANDARD_MSGS))
def test_standard_messages_match_ros2(store: Stores, name: str) -> None:
    typestore = get_typestore(store)
    constants, fields = typestore.fielddefs[name]
    assert _our_layout(STANDARD_MSGS[name], name) == _rosbags_layout(fields)
    assert constants == []
