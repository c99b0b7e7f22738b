"""Cyclone DDS message types built from ``.msg`` definitions.

Each ROS 2 message becomes a ``cyclonedds.idl.IdlStruct`` dataclass with the DDS type name
ROS 2 uses (``sensor_msgs::msg::dds_::JointState_``) and fields in ``.msg`` order, so that
``msg.serialize()`` produces the same CDR bytes as a ROS 2 node. Classes are built on first
use, never at import, and cached.

The classes are reachable like the ``rclpy`` ones, which also makes them picklable::

    from robot_nodes.bus import dds_types
    JointState = dds_types.sensor_msgs.msg.JointState
    JointState = dds_types.get_type("sensor_msgs/msg/JointState")  # same class

Field values: integers and floats as Python numbers, strings as ``str``, arrays as lists,
nested messages as instances. ROS 2 constants are class attributes
(``ProgramStatus.RUNNING``).

Byte arrays (``uint8[]``, ``byte[]``, ``char[]``, unbounded or bounded) take a fast path:
they are written and read as one block instead of element by element (a 1280x960 mono8
image in about 1 ms instead of 80 ms). They accept ``bytes``, ``bytearray``, a uint8
numpy array or a list of ints, and arrive as ``bytes`` (``np.frombuffer(msg.data,
np.uint8)`` reads them on both backends). The CDR bytes are the same either way.
"""

from __future__ import annotations

import dataclasses
import logging
import threading
import types as pytypes
from collections.abc import Callable, Iterable
from functools import lru_cache
from pathlib import Path
from typing import Any

import cyclonedds.idl.types as idl_types
from cyclonedds.idl import IdlStruct
from cyclonedds.idl._machinery import PlainCdrV2SequenceOfPrimitiveMachine

from recipes.errors import InvalidInputError, NotFoundError
from robot_nodes.bus.msgdef import (
    FieldSpec,
    MsgSpec,
    interfaces_root,
    load_package_msgs,
    normalize_type_name,
    parse_msg,
)
from robot_nodes.bus.ros_std_msgs import STANDARD_MSGS

log = logging.getLogger(__name__)

_BYTE_TYPES = frozenset({"uint8", "byte", "char"})
"""Element types whose sequences take the byte-array fast path."""

_IDL_PRIMITIVES: dict[str, Any] = {
    "bool": bool,
    "byte": idl_types.byte,
    "char": idl_types.uint8,
    "int8": idl_types.int8,
    "uint8": idl_types.uint8,
    "int16": idl_types.int16,
    "uint16": idl_types.uint16,
    "int32": idl_types.int32,
    "uint32": idl_types.uint32,
    "int64": idl_types.int64,
    "uint64": idl_types.uint64,
    "float32": idl_types.float32,
    "float64": idl_types.float64,
    "string": str,
}


def _zero(base: str) -> object:
    if base == "bool":
        return False
    if base == "string":
        return ""
    if base.startswith("float"):
        return 0.0
    return 0


class MessageRegistry:
    """Message specs by full name, and the ``IdlStruct`` classes built from them.

    Parameters
    ----------
    specs : iterable of MsgSpec
        Every message the registry can build; nested types must be present too.
    """

    def __init__(self, specs: Iterable[MsgSpec]) -> None:
        self._specs: dict[str, MsgSpec] = {spec.name: spec for spec in specs}
        self._classes: dict[str, type[IdlStruct]] = {}
        self._lock = threading.RLock()

    @classmethod
    def from_folders(cls, package_dirs: Iterable[Path]) -> MessageRegistry:
        """Registry of the standard messages plus the ``msg/`` files of the given packages."""
        specs = [parse_msg(text, name) for name, text in STANDARD_MSGS.items()]
        for package_dir in package_dirs:
            specs.extend(load_package_msgs(package_dir).values())
        return cls(specs)

    @property
    def names(self) -> list[str]:
        """Full names of all known messages, sorted."""
        return sorted(self._specs)

    def spec(self, name: str) -> MsgSpec:
        """Parsed definition of a message (``"pkg/msg/Name"`` or ``"pkg/Name"``)."""
        full = normalize_type_name(name)
        try:
            return self._specs[full]
        except KeyError:
            raise NotFoundError("message type", full, list(self._specs)) from None

    def get_type(self, name: str) -> type[IdlStruct]:
        """The ``IdlStruct`` class of a message, built on first use.

        Parameters
        ----------
        name : str
            ``"sensor_msgs/msg/JointState"`` or ``"sensor_msgs/JointState"``.

        Raises
        ------
        NotFoundError
            For a message the registry does not know.
        """
        full = normalize_type_name(name)
        with self._lock:
            cls = self._classes.get(full)
            if cls is None:
                cls = self._build(self.spec(full), ())
            return cls

    def _build(self, spec: MsgSpec, stack: tuple[str, ...]) -> type[IdlStruct]:
        if spec.name in stack:
            raise InvalidInputError(spec.name, f"recursive definition via {' -> '.join(stack)}")
        for dep in spec.dependencies():
            if dep not in self._classes:
                self._build(self.spec(dep), (*stack, spec.name))
        annotations: dict[str, Any] = {}
        defaults: dict[str, Any] = {}
        for field in spec.fields:
            annotations[field.name], defaults[field.name] = self._field(field)

        def body(ns: dict[str, Any]) -> None:
            ns["__annotations__"].update(annotations)
            ns.update(defaults)
            for const in spec.constants:
                ns[const.name] = const.value
            ns["__module__"] = __name__
            ns["__qualname__"] = spec.name.replace("/", ".")
            ns["__doc__"] = f"ROS 2 message {spec.name} (DDS type {spec.dds_type_name})."

        cls = pytypes.new_class(
            spec.short_name, (IdlStruct,), {"typename": spec.dds_type_name}, body
        )
        cls = dataclasses.dataclass(cls)
        _use_byte_sequences(cls, spec)
        self._classes[spec.name] = cls
        return cls

    def _field(self, field: FieldSpec) -> tuple[Any, Any]:
        ftype = field.type
        if ftype.is_primitive:
            element: Any = _IDL_PRIMITIVES[ftype.base]
            if ftype.base == "string" and ftype.string_bound is not None:
                element = idl_types.bounded_str[ftype.string_bound]
        else:
            element = self._classes[ftype.base]

        if not ftype.array:
            if not ftype.is_primitive:
                return element, dataclasses.field(default_factory=element)
            value = field.default if field.default is not None else _zero(ftype.base)
            return element, dataclasses.field(default=value)

        if ftype.array == "fixed":
            size = int(ftype.array_size or 0)
            annotation = idl_types.array[element, size]
            if ftype.is_primitive:
                initial = list(field.default) if field.default is not None else None
                zero = _zero(ftype.base)
                return annotation, dataclasses.field(
                    default_factory=_list_factory(initial or [zero] * size)
                )
            return annotation, dataclasses.field(
                default_factory=lambda: [element() for _ in range(size)]
            )

        if ftype.array == "bounded":
            annotation = idl_types.sequence[element, int(ftype.array_size or 0)]
        else:
            annotation = idl_types.sequence[element]
        if ftype.base in _BYTE_TYPES:
            initial_bytes = bytes(field.default or [])
            return annotation, dataclasses.field(default=initial_bytes)
        initial = list(field.default) if field.default is not None else []
        return annotation, dataclasses.field(default_factory=_list_factory(initial))


def _as_bytes(value: Any) -> bytes | bytearray:
    """The bytes of a byte-array field value (bytes, bytearray, uint8 array, list of ints)."""
    if isinstance(value, bytes | bytearray):
        return value
    dtype = getattr(value, "dtype", None)
    if dtype is not None and getattr(value, "tobytes", None) is not None:
        if dtype.itemsize != 1 or dtype.kind not in "ub":
            raise InvalidInputError(
                "uint8[]", f"expects uint8 values, got an array of {dtype} (convert it first)"
            )
        return value.tobytes()
    if isinstance(value, memoryview):
        return value.cast("B").tobytes() if value.itemsize == 1 else bytes(value.tolist())
    return bytes(value)  # a list of ints; raises for values outside 0..255


class _ByteSequenceMachine(PlainCdrV2SequenceOfPrimitiveMachine):
    """``sequence<octet>`` in one block: the element count, then the bytes.

    The same bytes as Cyclone's element-by-element machine in XCDR1 and XCDR2 (elements of
    size 1 need no alignment), so the wire format and the type information are unchanged.
    """

    def serialize(self, buffer: Any, value: Any, *args: Any, **kwargs: Any) -> None:
        data = _as_bytes(value)
        if self.max_length is not None and len(data) > self.max_length:
            raise InvalidInputError(
                "sequence", f"has {len(data)} bytes, more than its bound {self.max_length}"
            )
        buffer.align(4)
        buffer.write("I", 4, len(data))
        if data:
            buffer.write_bytes(data)

    def deserialize(self, buffer: Any, *args: Any, **kwargs: Any) -> bytes:
        buffer.align(4)
        length = buffer.read("I", 4)
        return buffer.read_bytes(length) if length else b""

    def default_initialize(self) -> bytes:
        return b""


def _use_byte_sequences(cls: type[IdlStruct], spec: MsgSpec) -> None:
    """Swap the serialisers of ``cls``'s byte-array fields for :class:`_ByteSequenceMachine`.

    Cyclone builds one serialiser per field when a class is first used; they are built now
    and the byte-array ones replaced. Should a Cyclone release lay this out differently,
    the fields keep Cyclone's own (slower, same bytes) serialiser.
    """
    names = [
        f.name
        for f in spec.fields
        if f.type.base in _BYTE_TYPES and f.type.array in ("sequence", "bounded")
    ]
    if not names:
        return
    try:
        idl = cls.__idl__  # type: ignore[attr-defined]
        idl.populate()
        for machine in (idl.v1_machine, idl.v2_machine):
            for name in names:
                old = machine.members_machines[name]
                if not isinstance(old, PlainCdrV2SequenceOfPrimitiveMachine) or old.size != 1:
                    raise TypeError(f"field '{name}' is serialised by {type(old).__name__}")
                fast = _ByteSequenceMachine.__new__(_ByteSequenceMachine)
                fast.__dict__.update(old.__dict__)
                machine.members_machines[name] = fast
    except (AttributeError, KeyError, TypeError) as exc:
        log.warning("%s: byte arrays serialised element by element (%s)", spec.name, exc)


def _list_factory(initial: list[Any]) -> Callable[[], list[Any]]:
    def make() -> list[Any]:
        return list(initial)

    return make


@lru_cache(maxsize=1)
def default_registry() -> MessageRegistry:
    """The registry of the standard messages and every package in ``<repo>/interfaces``."""
    root = interfaces_root()
    packages = sorted(p for p in root.iterdir() if (p / "msg").is_dir()) if root.is_dir() else []
    return MessageRegistry.from_folders(packages)


def get_type(name: str) -> type[IdlStruct]:
    """The ``IdlStruct`` class of a message from :func:`default_registry`."""
    return default_registry().get_type(name)


class _PackageNamespace:
    """``dds_types.<pkg>.msg.<Name>`` access, mirroring ``<pkg>.msg.<Name>`` in rclpy."""

    def __init__(self, package: str) -> None:
        self._package = package
        self.msg = self

    def __getattr__(self, name: str) -> type[IdlStruct]:
        if name.startswith("_"):
            raise AttributeError(name)
        try:
            return get_type(f"{self._package}/msg/{name}")
        except NotFoundError as exc:
            raise AttributeError(str(exc)) from None


def __getattr__(name: str) -> _PackageNamespace:
    if any(n.startswith(f"{name}/") for n in default_registry().names):
        return _PackageNamespace(name)
    raise AttributeError(f"module {__name__!r} has no attribute {name!r}")
