"""A structured diff between two pipeline versions, for review before approval.

Blocks are matched by id. For each block that stays: a changed type, parameters added,
removed or changed (nested mappings compared key by key, lists as whole values), changed
time-out or retries, and a move on the editor canvas (layout only, outside the content
hash). Wires are compared as ``from -> to`` pairs; the pipeline's own inputs and outputs by
name; the failure policy and description as values.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

from pipelines.document import PipelineDoc

UNSET = "<unset>"


@dataclass(frozen=True)
class Change:
    """``what`` went from ``old`` to ``new`` (``UNSET`` when it did not exist)."""

    what: str
    old: Any
    new: Any

    def __str__(self) -> str:
        if self.old == UNSET:
            return f"{self.what}: added {self.new!r}"
        if self.new == UNSET:
            return f"{self.what}: removed (was {self.old!r})"
        return f"{self.what}: {self.old!r} -> {self.new!r}"


@dataclass(frozen=True)
class PipelineDiff:
    old: str
    new: str
    blocks_added: list[str] = field(default_factory=list)
    blocks_removed: list[str] = field(default_factory=list)
    blocks_changed: dict[str, list[Change]] = field(default_factory=dict)
    blocks_moved: dict[str, tuple[tuple[float, float], tuple[float, float]]] = field(
        default_factory=dict
    )
    wires_added: list[str] = field(default_factory=list)
    wires_removed: list[str] = field(default_factory=list)
    ports_changed: list[Change] = field(default_factory=list)
    settings_changed: list[Change] = field(default_factory=list)

    @property
    def is_empty(self) -> bool:
        return not self.behaviour_changed and not self.blocks_moved

    @property
    def behaviour_changed(self) -> bool:
        """Anything but layout: a change that needs a new approval."""
        return bool(
            self.blocks_added
            or self.blocks_removed
            or self.blocks_changed
            or self.wires_added
            or self.wires_removed
            or self.ports_changed
            or any(c.what != "description" for c in self.settings_changed)
        )

    def to_json(self) -> dict[str, Any]:
        def changes(items: list[Change]) -> list[dict[str, Any]]:
            return [{"what": c.what, "old": c.old, "new": c.new} for c in items]

        return {
            "old": self.old,
            "new": self.new,
            "blocks_added": self.blocks_added,
            "blocks_removed": self.blocks_removed,
            "blocks_changed": {b: changes(c) for b, c in self.blocks_changed.items()},
            "blocks_moved": {
                b: {"from": list(a), "to": list(z)} for b, (a, z) in self.blocks_moved.items()
            },
            "wires_added": self.wires_added,
            "wires_removed": self.wires_removed,
            "ports_changed": changes(self.ports_changed),
            "settings_changed": changes(self.settings_changed),
        }

    def lines(self) -> list[str]:
        """The diff as review text, one change per line."""
        out = [f"{self.old} -> {self.new}"]
        out += [f"+ block {b}" for b in self.blocks_added]
        out += [f"- block {b}" for b in self.blocks_removed]
        for block, items in self.blocks_changed.items():
            out += [f"~ block {block}: {c}" for c in items]
        for block, (a, z) in self.blocks_moved.items():
            out.append(f"~ block {block}: moved ({a[0]:g}, {a[1]:g}) -> ({z[0]:g}, {z[1]:g})")
        out += [f"+ wire {w}" for w in self.wires_added]
        out += [f"- wire {w}" for w in self.wires_removed]
        out += [f"~ {c}" for c in self.ports_changed + self.settings_changed]
        return out


def diff(old: PipelineDoc, new: PipelineDoc) -> PipelineDiff:
    """What changed from ``old`` to ``new``, in document order of each."""
    a = {b.id: b for b in old.blocks}
    z = {b.id: b for b in new.blocks}
    changed: dict[str, list[Change]] = {}
    moved = {}
    for block_id, before in a.items():
        after = z.get(block_id)
        if after is None:
            continue
        items = []
        if before.type != after.type:
            items.append(Change("type", before.type, after.type))
        items += _dict_changes("params", before.params, after.params)
        for name in ("timeout_s", "retries"):
            x, y = getattr(before, name), getattr(after, name)
            if x != y:
                items.append(Change(name, UNSET if x is None else x, UNSET if y is None else y))
        if items:
            changed[block_id] = items
        if before.position != after.position:
            moved[block_id] = (
                (before.position.x, before.position.y),
                (after.position.x, after.position.y),
            )
    wires_a = [str(w) for w in old.wires]
    wires_z = [str(w) for w in new.wires]
    ports = []
    for kind, pa, pz in (("input", old.inputs, new.inputs), ("output", old.outputs, new.outputs)):
        da = {p.name: p.model_dump(mode="json") for p in pa}
        dz = {p.name: p.model_dump(mode="json") for p in pz}
        ports += _dict_changes(kind, da, dz)
    settings = [
        Change(name, getattr(old, name), getattr(new, name))
        for name in ("failure_policy", "description")
        if getattr(old, name) != getattr(new, name)
    ]
    return PipelineDiff(
        old=old.key,
        new=new.key,
        blocks_added=[b for b in z if b not in a],
        blocks_removed=[b for b in a if b not in z],
        blocks_changed=changed,
        blocks_moved=moved,
        wires_added=[w for w in wires_z if w not in wires_a],
        wires_removed=[w for w in wires_a if w not in wires_z],
        ports_changed=ports,
        settings_changed=settings,
    )


def _dict_changes(prefix: str, a: dict, z: dict) -> list[Change]:
    out = []
    for key in [*a, *(k for k in z if k not in a)]:
        path = f"{prefix}.{key}"
        x, y = a.get(key, UNSET), z.get(key, UNSET)
        if isinstance(x, dict) and isinstance(y, dict):
            out += _dict_changes(path, x, y)
        elif x != y or type(x) is not type(y):
            out.append(Change(path, x, y))
    return out
