"""Ground truth of the independent image set: what was placed, and the frame with it.

A :class:`Sample` is one frame as the camera delivered it with every part placed (visible
or not) and the conditions it was taken under; :meth:`Sample.save` and
:meth:`Sample.load` keep it as a lossless PNG and a JSON record, so that a benchmark can
be run again without rendering again.
"""

from __future__ import annotations

import json
from dataclasses import dataclass, field
from pathlib import Path

import cv2
import numpy as np


@dataclass(frozen=True)
class PartTruth:
    """One part on the belt as placed.

    Attributes
    ----------
    what : the expected kind, or the wrong part's name.
    label : "ok", "wrong_part" or "damaged".
    pose : dict(x_mm, y_mm, theta_deg) of its reference point.
    size_mm : (width, height) of its undamaged outline along its own axes.
    outline_world_mm : (K, 2) exterior in the world (top face).
    visibility : "full", "partial" or "none".
    damage : what was cut off (kind, size, area), or None.
    """

    what: str
    label: str
    pose: dict
    size_mm: tuple[float, float]
    outline_world_mm: np.ndarray
    visibility: str
    damage: dict | None


@dataclass(frozen=True)
class Sample:
    """One image and its ground truth (``parts``: every part placed, visible or not)."""

    index: int
    image: np.ndarray
    rig: str
    kind: str
    spec: str
    label: str
    scene: str
    parts: tuple[PartTruth, ...]
    conditions: dict = field(default_factory=dict)

    @property
    def part(self) -> PartTruth | None:
        """The one visible part, if there is exactly one."""
        seen = [p for p in self.parts if p.visibility != "none"]
        return seen[0] if len(seen) == 1 else None

    def save(self, folder: Path, seed: int) -> None:
        """``{seed}_{index}.png`` (lossless: the frame as the camera delivered it) and
        ``.json`` (the ground truth and the conditions)."""
        stem = folder / f"{seed}_{self.index:06d}"
        if not cv2.imwrite(str(stem.with_suffix(".png")), self.image):
            raise OSError(f"cannot write {stem}.png")
        record = dict(
            index=self.index,
            rig=self.rig,
            kind=self.kind,
            spec=self.spec,
            label=self.label,
            scene=self.scene,
            parts=[
                dict(
                    what=p.what,
                    label=p.label,
                    pose=p.pose,
                    size_mm=list(p.size_mm),
                    outline_world_mm=np.round(p.outline_world_mm, 3).tolist(),
                    visibility=p.visibility,
                    damage=p.damage,
                )
                for p in self.parts
            ],
            conditions=self.conditions,
        )
        stem.with_suffix(".json").write_text(json.dumps(record), encoding="utf-8")

    @classmethod
    def load(cls, folder: Path, seed: int, index: int) -> Sample | None:
        """A sample saved by :meth:`save`, or None."""
        stem = folder / f"{seed}_{index:06d}"
        if not stem.with_suffix(".json").exists() or not stem.with_suffix(".png").exists():
            return None
        record = json.loads(stem.with_suffix(".json").read_text(encoding="utf-8"))
        image = cv2.imread(str(stem.with_suffix(".png")), cv2.IMREAD_UNCHANGED)
        parts = tuple(
            PartTruth(
                p["what"],
                p["label"],
                p["pose"],
                tuple(p["size_mm"]),
                np.asarray(p["outline_world_mm"]),
                p["visibility"],
                p["damage"],
            )
            for p in record["parts"]
        )
        return cls(
            record["index"],
            image,
            record["rig"],
            record["kind"],
            record["spec"],
            record["label"],
            record["scene"],
            parts,
            record["conditions"],
        )
