"""Cyclone DDS message types built from ``.msg`` definitions.

Each ROS 2 message becomes a ``cyclonedds.idl.IdlStruct`` dataclass with the DDS type name
ROS 2 uses (``sensor_msgs::msg::dds_::JointState_``) and fields in ``.msg`` order, so that
``msg.serialize()`` produces the same CDR bytes as a ROS 2 node. Classes are built on first
use, never at import, and cached.

The classes are reachable like the ``rclpy`` ones, which also makes them picklable::

    from robot_nodes.bus import dds_types
    JointState = dds_types.sensor_msgs.msg.JointState
    JointState = dds_types.get_type("sensor_msgs/msg/JointState")  # same class

Field values: integers and floats as Python numbers, strings as ``str``, arrays as lists
(``uint8[]`` too), nested messages as instances. ROS 2 constants are class attributes
(``ProgramStatus.RUNNING``).
"""

from __future__ import annotations

import dataclasses
import threading
import types as pytypes
from collections.abc import Callable, Iterable
from functools import lru_cache
from pathlib import Path
from typing import Any

import cyclonedds.idl.types as idl_types
from cyclonedds.idl import IdlStruct

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
        initial = list(field.default) if field.default is not None else []
        return annotation, dataclasses.field(default_factory=_list_factory(initial))


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
