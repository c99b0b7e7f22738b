"""Parser for ROS 2 ``.msg`` files.

The ``interfaces/coatshare_interfaces/msg`` folder is the single source of the project's
message definitions; the ``dds`` backend builds its types from what this module parses, and
the tests feed the same text to ``rosbags``. Standard ROS 2 messages are parsed from the
definitions in :mod:`robot_nodes.bus.ros_std_msgs`.

Supported: primitive types, bounded strings (``string<=N``), unbounded, bounded and fixed
arrays (``T[]``, ``T[<=N]``, ``T[N]``), nested types (``pkg/Name``, or ``Name`` in the same
package), constants (``TYPE NAME=VALUE``), default values and comments. Not supported:
``wstring`` (no project message needs it).
"""

from __future__ import annotations

import ast
import re
from dataclasses import dataclass
from pathlib import Path

from recipes.errors import InvalidInputError

PRIMITIVE_TYPES: frozenset[str] = frozenset(
    {
        "bool",
        "byte",
        "char",
        "int8",
        "uint8",
        "int16",
        "uint16",
        "int32",
        "uint32",
        "int64",
        "uint64",
        "float32",
        "float64",
        "string",
    }
)
"""ROS 2 primitive type names understood by the parser (``string`` included)."""

_FIELD_NAME = re.compile(r"^[a-z][a-z0-9_]*$")
_CONSTANT_NAME = re.compile(r"^[A-Z][A-Z0-9_]*$")
_TYPE_TOKEN = re.compile(
    r"^(?P<base>[A-Za-z][A-Za-z0-9_]*(?:/[A-Za-z][A-Za-z0-9_]*){0,2})"
    r"(?:<=(?P<strbound>\d+))?"
    r"(?:\[(?P<arr>(?:<=)?\d*)\])?$"
)


@dataclass(frozen=True)
class FieldType:
    """Type of one field.

    Attributes
    ----------
    base : str
        A primitive name (``"float64"``) or a full message name (``"std_msgs/msg/Header"``).
    string_bound : int or None
        Upper bound of a bounded string, else None.
    array : {"", "sequence", "bounded", "fixed"}
        Array kind; ``""`` for a scalar.
    array_size : int or None
        Size of a fixed array, or the bound of a bounded sequence.
    """

    base: str
    string_bound: int | None = None
    array: str = ""
    array_size: int | None = None

    @property
    def is_primitive(self) -> bool:
        """True when the element type is a primitive (not a nested message)."""
        return self.base in PRIMITIVE_TYPES


@dataclass(frozen=True)
class FieldSpec:
    """One field of a message: name, type and optional default value."""

    name: str
    type: FieldType
    default: object = None


@dataclass(frozen=True)
class ConstantSpec:
    """One constant of a message (``uint8 DONE=4``)."""

    name: str
    type: str
    value: object


@dataclass(frozen=True)
class MsgSpec:
    """A parsed message definition.

    Attributes
    ----------
    name : str
        Full name, ``"<pkg>/msg/<Name>"``.
    fields : tuple of FieldSpec
        Fields in declaration order (the order they are serialised in).
    constants : tuple of ConstantSpec
        Constants; they are not serialised.
    text : str
        The definition text the spec was parsed from.
    """

    name: str
    fields: tuple[FieldSpec, ...]
    constants: tuple[ConstantSpec, ...]
    text: str

    @property
    def package(self) -> str:
        """Package part of the name (``"sensor_msgs"``)."""
        return self.name.split("/")[0]

    @property
    def short_name(self) -> str:
        """Message part of the name (``"JointState"``)."""
        return self.name.split("/")[-1]

    @property
    def dds_type_name(self) -> str:
        """DDS type name as ROS 2 maps it: ``"sensor_msgs::msg::dds_::JointState_"``."""
        return f"{self.package}::msg::dds_::{self.short_name}_"

    def dependencies(self) -> list[str]:
        """Full names of the nested message types, in first-use order."""
        seen: list[str] = []
        for field in self.fields:
            if not field.type.is_primitive and field.type.base not in seen:
                seen.append(field.type.base)
        return seen


def normalize_type_name(name: str, *, package: str | None = None) -> str:
    """Return the full ``"<pkg>/msg/<Name>"`` form of a message type name.

    Parameters
    ----------
    name : str
        ``"pkg/msg/Name"``, ``"pkg/Name"``, or ``"Name"`` (then ``package`` is required).
    package : str, optional
        Package to resolve an unqualified name against.

    Raises
    ------
    InvalidInputError
        For a malformed name or an unqualified name without a package.
    """
    parts = name.split("/")
    if len(parts) == 3 and parts[1] == "msg":
        return name
    if len(parts) == 2:
        return f"{parts[0]}/msg/{parts[1]}"
    if len(parts) == 1 and package:
        return f"{package}/msg/{parts[0]}"
    raise InvalidInputError("type", f"'{name}' is not a message type name like 'pkg/msg/Name'")


def _parse_type(token: str, package: str, where: str) -> FieldType:
    match = _TYPE_TOKEN.match(token)
    if not match:
        raise InvalidInputError(where, f"malformed type '{token}'")
    base = match["base"]
    if base == "wstring":
        raise InvalidInputError(where, "wstring is not supported")
    string_bound = int(match["strbound"]) if match["strbound"] else None
    if string_bound is not None and base != "string":
        raise InvalidInputError(where, f"only strings take a '<=' bound, not {base}")
    if base not in PRIMITIVE_TYPES:
        if "/" not in base and base == "Header":
            raise InvalidInputError(where, "write 'std_msgs/Header': ROS 2 has no implicit Header")
        base = normalize_type_name(base, package=package)
    arr = match["arr"]
    if arr is None:
        return FieldType(base, string_bound)
    if arr == "":
        return FieldType(base, string_bound, "sequence")
    if arr.startswith("<="):
        return FieldType(base, string_bound, "bounded", int(arr[2:]))
    return FieldType(base, string_bound, "fixed", int(arr))


def _parse_value(text: str, base: str, is_array: bool, where: str) -> object:
    if base == "string" and not is_array:
        text = text.strip()
        if len(text) >= 2 and text[0] == text[-1] and text[0] in "'\"":
            return ast.literal_eval(text)
        return text
    try:
        value = ast.literal_eval(text.strip().replace("true", "True").replace("false", "False"))
    except (ValueError, SyntaxError) as exc:
        raise InvalidInputError(where, f"cannot read value '{text.strip()}'") from exc
    if is_array:
        if not isinstance(value, list | tuple):
            raise InvalidInputError(where, f"array default must be a list, got '{text.strip()}'")
        return [_coerce(v, base, where) for v in value]
    return _coerce(value, base, where)


def _coerce(value: object, base: str, where: str) -> object:
    if base == "bool":
        if isinstance(value, bool) or value in (0, 1):
            return bool(value)
    elif base.startswith("float"):
        if isinstance(value, int | float) and not isinstance(value, bool):
            return float(value)
    elif base == "string":
        if isinstance(value, str):
            return value
    elif isinstance(value, int) and not isinstance(value, bool):
        return value
    raise InvalidInputError(where, f"value {value!r} does not fit type {base}")


def _strip_comment(line: str) -> str:
    """Remove a trailing comment, leaving '#' inside quoted string values alone."""
    quote = ""
    for i, ch in enumerate(line):
        if quote:
            if ch == quote:
                quote = ""
        elif ch in "'\"":
            quote = ch
        elif ch == "#":
            return line[:i]
    return line


def parse_msg(text: str, name: str, *, source: str | None = None) -> MsgSpec:
    """Parse the text of a ``.msg`` file.

    Parameters
    ----------
    text : str
        The definition.
    name : str
        Full or short message name (``"coatshare_interfaces/msg/SprayProgram"``).
    source : str, optional
        Where the text came from, for error messages.

    Returns
    -------
    MsgSpec

    Raises
    ------
    InvalidInputError
        Naming the line and what is wrong with it.
    """
    full_name = normalize_type_name(name)
    package = full_name.split("/")[0]
    fields: list[FieldSpec] = []
    constants: list[ConstantSpec] = []
    names: set[str] = set()
    for lineno, raw in enumerate(text.splitlines(), start=1):
        where = f"{full_name} line {lineno}"
        line = raw.strip()
        if not line or line.startswith("#"):
            continue
        type_token, _, rest = line.partition(" ")
        rest = rest.strip()
        head = rest.split("=", 1)[0].strip() if "=" in rest else ""
        if head and _CONSTANT_NAME.match(head) and " " not in head:
            ftype = _parse_type(type_token, package, where)
            if not ftype.is_primitive or ftype.array:
                raise InvalidInputError(where, "constants must be of a primitive scalar type")
            value_text = rest.split("=", 1)[1]
            if ftype.base != "string":
                value_text = _strip_comment(value_text)
            value = _parse_value(value_text, ftype.base, False, where)
            constants.append(ConstantSpec(head, ftype.base, value))
            continue
        rest = _strip_comment(rest).strip()
        field_name, _, default_text = rest.partition(" ")
        if not _FIELD_NAME.match(field_name) or "__" in field_name or field_name.endswith("_"):
            raise InvalidInputError(
                where, f"'{field_name}' is not a valid field name (lower_snake_case)"
            )
        if field_name in names:
            raise InvalidInputError(where, f"duplicate field '{field_name}'")
        names.add(field_name)
        ftype = _parse_type(type_token, package, where)
        default = None
        if default_text.strip():
            if not ftype.is_primitive:
                raise InvalidInputError(where, "only primitive fields take a default value")
            default = _parse_value(default_text, ftype.base, bool(ftype.array), where)
        fields.append(FieldSpec(field_name, ftype, default))
    if not fields:
        raise InvalidInputError(source or full_name, "a message needs at least one field")
    return MsgSpec(full_name, tuple(fields), tuple(constants), text)


def interfaces_root() -> Path:
    """Folder holding the project's ROS 2 interface packages (``<repo>/interfaces``)."""
    return Path(__file__).resolve().parents[2] / "interfaces"


def load_package_msgs(package_dir: Path) -> dict[str, MsgSpec]:
    """Parse every ``msg/*.msg`` file of one interface package folder.

    Parameters
    ----------
    package_dir : Path
        Folder with a ``package.xml`` and a ``msg/`` subfolder; its name is the package name.

    Returns
    -------
    dict
        Full message name to spec.
    """
    msg_dir = package_dir / "msg"
    if not msg_dir.is_dir():
        raise InvalidInputError(str(package_dir), "has no msg/ folder")
    specs: dict[str, MsgSpec] = {}
    for path in sorted(msg_dir.glob("*.msg")):
        name = f"{package_dir.name}/msg/{path.stem}"
        specs[name] = parse_msg(path.read_text(encoding="utf-8"), name, source=str(path))
    return specs
