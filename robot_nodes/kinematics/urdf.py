"""A small URDF reader: links, joints, origins, axes and limits (``xml.etree`` only).

Geometry, inertia and materials are ignored; the simulator reads those itself. Joint
acceleration limits, which URDF cannot express, come from a MoveIt-style
``joint_limits.yaml`` sidecar (:func:`load_joint_limits_yaml`).
"""

from __future__ import annotations

import math
import xml.etree.ElementTree as ET
from dataclasses import dataclass, replace
from pathlib import Path

import numpy as np
import yaml

from recipes.errors import InvalidInputError, NotFoundError

JOINT_TYPES = frozenset({"revolute", "continuous", "prismatic", "fixed", "floating", "planar"})


@dataclass(frozen=True)
class JointLimits:
    """Limits of one joint (SI units; radians for revolute joints).

    ``acceleration`` is None until a sidecar provides it.
    """

    lower: float
    upper: float
    velocity: float
    effort: float
    acceleration: float | None = None


@dataclass(frozen=True)
class UrdfJoint:
    """One URDF joint.

    Attributes
    ----------
    name, type, parent, child : str
    T_parent_joint : (4, 4) ndarray
        Joint frame in the parent link frame (the ``<origin>``), metres.
    axis : (3,) ndarray
        Unit axis in the joint frame.
    limits : JointLimits or None
        None for fixed joints; continuous joints get infinite position limits.
    """

    name: str
    type: str
    parent: str
    child: str
    T_parent_joint: np.ndarray
    axis: np.ndarray
    limits: JointLimits | None


@dataclass(frozen=True)
class UrdfModel:
    """Kinematic tree of a URDF: link names and joints."""

    name: str
    links: tuple[str, ...]
    joints: tuple[UrdfJoint, ...]

    def joint(self, name: str) -> UrdfJoint:
        """The joint called ``name``."""
        for joint in self.joints:
            if joint.name == name:
                return joint
        raise NotFoundError("joint", name, [j.name for j in self.joints])

    @property
    def root_link(self) -> str:
        """The link that is no joint's child."""
        children = {j.child for j in self.joints}
        roots = [link for link in self.links if link not in children]
        if len(roots) != 1:
            raise InvalidInputError(f"robot '{self.name}'", f"has {len(roots)} root links")
        return roots[0]

    def chain(self, base_link: str, tip_link: str) -> list[UrdfJoint]:
        """Joints from ``base_link`` down to ``tip_link``, in order.

        Raises
        ------
        NotFoundError
            When a link is unknown.
        InvalidInputError
            When ``tip_link`` does not descend from ``base_link``.
        """
        for link in (base_link, tip_link):
            if link not in self.links:
                raise NotFoundError("link", link, list(self.links))
        by_child = {j.child: j for j in self.joints}
        chain: list[UrdfJoint] = []
        link = tip_link
        while link != base_link:
            joint = by_child.get(link)
            if joint is None:
                raise InvalidInputError(
                    f"robot '{self.name}'", f"link '{tip_link}' is not below '{base_link}'"
                )
            chain.append(joint)
            link = joint.parent
        return chain[::-1]

    def with_acceleration_limits(self, accelerations: dict[str, float]) -> UrdfModel:
        """Copy with acceleration limits set on the named joints."""
        names = {j.name for j in self.joints}
        unknown = sorted(set(accelerations) - names)
        if unknown:
            raise NotFoundError("joint", unknown[0], sorted(names))
        joints = []
        for joint in self.joints:
            if joint.name in accelerations:
                if joint.limits is None:
                    raise InvalidInputError(f"joint '{joint.name}'", "fixed joints have no limits")
                acc = float(accelerations[joint.name])
                if not acc > 0:
                    raise InvalidInputError(
                        f"joint_limits.{joint.name}.max_acceleration", f"must be > 0, got {acc}"
                    )
                joint = replace(joint, limits=replace(joint.limits, acceleration=acc))
            joints.append(joint)
        return replace(self, joints=tuple(joints))


def rpy_to_matrix(rpy: np.ndarray) -> np.ndarray:
    """Rotation matrix of URDF roll-pitch-yaw (fixed axes x, y, z): ``Rz(y) Ry(p) Rx(r)``.

    Parameters
    ----------
    rpy : (3,) array_like

    Returns
    -------
    (3, 3) ndarray
    """
    r, p, y = (float(v) for v in rpy)
    cr, sr, cp, sp, cy, sy = (
        math.cos(r),
        math.sin(r),
        math.cos(p),
        math.sin(p),
        math.cos(y),
        math.sin(y),
    )
    return np.array(
        [
            [cy * cp, cy * sp * sr - sy * cr, cy * sp * cr + sy * sr],
            [sy * cp, sy * sp * sr + cy * cr, sy * sp * cr - cy * sr],
            [-sp, cp * sr, cp * cr],
        ]
    )


def _floats(text: str | None, count: int, where: str, default: tuple[float, ...]) -> np.ndarray:
    if text is None:
        return np.array(default, dtype=float)
    try:
        values = [float(v) for v in text.split()]
    except ValueError as exc:
        raise InvalidInputError(where, f"'{text}' is not {count} numbers") from exc
    if len(values) != count:
        raise InvalidInputError(where, f"'{text}' is not {count} numbers")
    return np.array(values)


def _required(element: ET.Element, attribute: str, where: str) -> str:
    value = element.get(attribute)
    if value is None:
        raise InvalidInputError(where, f"missing attribute '{attribute}'")
    return value


def _parse_joint(element: ET.Element, source: str | None) -> UrdfJoint:
    name = _required(element, "name", "joint")
    where = f"joint '{name}'"
    jtype = _required(element, "type", where)
    if jtype not in JOINT_TYPES:
        raise InvalidInputError(f"{where}.type", f"unknown joint type '{jtype}'")
    parent_el, child_el = element.find("parent"), element.find("child")
    if parent_el is None or child_el is None:
        raise InvalidInputError(where, "needs <parent link=...> and <child link=...>")
    origin = element.find("origin")
    xyz = _floats(
        None if origin is None else origin.get("xyz"), 3, f"{where}.origin.xyz", (0, 0, 0)
    )
    rpy = _floats(
        None if origin is None else origin.get("rpy"), 3, f"{where}.origin.rpy", (0, 0, 0)
    )
    T = np.eye(4)
    T[:3, :3] = rpy_to_matrix(rpy)
    T[:3, 3] = xyz
    axis_el = element.find("axis")
    axis = _floats(None if axis_el is None else axis_el.get("xyz"), 3, f"{where}.axis", (1, 0, 0))
    norm = float(np.linalg.norm(axis))
    if jtype != "fixed" and norm < 1e-9:
        raise InvalidInputError(f"{where}.axis", "must not be zero")
    axis = axis / norm if norm > 0 else axis

    limits = None
    if jtype in ("revolute", "prismatic", "continuous"):
        limit_el = element.find("limit")
        if limit_el is None and jtype != "continuous":
            raise InvalidInputError(where, f"a {jtype} joint needs a <limit>")
        get = (lambda k, d: float(limit_el.get(k, d))) if limit_el is not None else None
        try:
            lower = -math.inf if jtype == "continuous" else get("lower", 0.0)  # type: ignore[misc]
            upper = math.inf if jtype == "continuous" else get("upper", 0.0)  # type: ignore[misc]
            velocity = get("velocity", math.inf) if get else math.inf
            effort = get("effort", math.inf) if get else math.inf
        except ValueError as exc:
            raise InvalidInputError(f"{where}.limit", str(exc)) from exc
        if not lower <= upper:
            raise InvalidInputError(f"{where}.limit", f"lower {lower} > upper {upper}")
        if not velocity > 0:
            raise InvalidInputError(f"{where}.limit.velocity", f"must be > 0, got {velocity}")
        limits = JointLimits(lower, upper, velocity, effort)
    return UrdfJoint(
        name=name,
        type=jtype,
        parent=_required(parent_el, "link", f"{where}.parent"),
        child=_required(child_el, "link", f"{where}.child"),
        T_parent_joint=T,
        axis=axis,
        limits=limits,
    )


def parse_urdf(text: str, *, source: str | None = None) -> UrdfModel:
    """Parse URDF text.

    Raises
    ------
    InvalidInputError
        For malformed XML or joints, naming the joint and attribute.
    """
    try:
        root = ET.fromstring(text)
    except ET.ParseError as exc:
        raise InvalidInputError("urdf", f"not valid XML: {exc}", source=source) from exc
    if root.tag != "robot":
        raise InvalidInputError("urdf", f"root element is <{root.tag}>, not <robot>", source=source)
    links = tuple(_required(el, "name", "link") for el in root.findall("link"))
    try:
        joints = tuple(_parse_joint(el, source) for el in root.findall("joint"))
    except InvalidInputError as exc:
        raise InvalidInputError(exc.field, exc.reason, source=source) from exc
    names = set(links)
    for joint in joints:
        for link in (joint.parent, joint.child):
            if link not in names:
                raise InvalidInputError(
                    f"joint '{joint.name}'", f"refers to unknown link '{link}'", source=source
                )
    return UrdfModel(root.get("name", ""), links, joints)


def load_joint_limits_yaml(path: Path) -> dict[str, float]:
    """Acceleration limits from a MoveIt ``joint_limits.yaml``.

    Returns
    -------
    dict
        Joint name to ``max_acceleration`` for joints with ``has_acceleration_limits``.
    """
    data = yaml.safe_load(Path(path).read_text(encoding="utf-8")) or {}
    section = data.get("joint_limits")
    if not isinstance(section, dict):
        raise InvalidInputError("joint_limits", "missing mapping", source=str(path))
    accelerations: dict[str, float] = {}
    for name, entry in section.items():
        if not isinstance(entry, dict):
            raise InvalidInputError(f"joint_limits.{name}", "must be a mapping", source=str(path))
        if entry.get("has_acceleration_limits"):
            if "max_acceleration" not in entry:
                raise InvalidInputError(
                    f"joint_limits.{name}.max_acceleration", "missing", source=str(path)
                )
            accelerations[str(name)] = float(entry["max_acceleration"])
    return accelerations


def load_urdf(path: Path, limits_yaml: Path | None = None) -> UrdfModel:
    """Read a URDF file and, optionally, acceleration limits from a sidecar YAML."""
    path = Path(path)
    model = parse_urdf(path.read_text(encoding="utf-8"), source=str(path))
    if limits_yaml is not None:
        model = model.with_acceleration_limits(load_joint_limits_yaml(limits_yaml))
    return model
