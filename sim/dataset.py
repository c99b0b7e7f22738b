"""Labelled camera images for vision work (``coatshare sim dataset``).

Image ``i`` is drawn from its own random stream ``(seed, i)``: the scene (one part, none,
two, or one cut by the image border), the part from the cell's feed (wrong and damaged
parts at the feed's rates, its size variation and placement error), the lighting and sensor
noise from the world's ranges, and where the belt texture stands. A part's nominal place is
where the belt carries it under the camera: the camera's view centre along the belt, the
station's lateral place and heading.

Written to the output folder: ``camera.yaml`` (the calibration, OpenCV conventions),
``NNNNNN.png`` (mono8) and ``NNNNNN.json`` per image, and ``dataset.json`` (what was asked,
label counts). The label of an image is, in this order: ``no_part`` (nothing visible),
``several`` (more than one part visible), ``cut_by_border`` (the part is not wholly inside
the image), else the part's own: ``wrong_part``, ``damaged`` or ``ok``.
"""

from __future__ import annotations

import json
from collections import Counter
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from pathlib import Path

import cv2
import numpy as np

from recipes.errors import InvalidInputError
from sim.conveyor import Conveyor
from sim.feed import FedPart, PartFeed
from sim.render import CameraRenderer
from sim.world import CellWorld, World

LABELS = ("ok", "wrong_part", "damaged", "no_part", "several", "cut_by_border")
#: feed stream of the dataset (the sim run uses the cell index)
_DATASET_STREAM = 1000
#: index offset of the second part in a "several" scene
_SECOND = 10**7


@dataclass(frozen=True)
class DatasetOptions:
    """What to draw.

    Attributes
    ----------
    images : number of images.
    seed : random seed (default: the world's).
    cell : cell id (default: the first cell).
    p_no_part, p_several, p_cut_by_border : shares of scenes with an empty belt, two parts
        in view, and a part shifted along the belt so that the image border cuts it.
    png_compression : 0-9.
    """

    images: int
    seed: int | None = None
    cell: str | None = None
    p_no_part: float = 0.04
    p_several: float = 0.06
    p_cut_by_border: float = 0.06
    png_compression: int = 3

    def __post_init__(self) -> None:
        if self.images < 1:
            raise InvalidInputError("images", f"must be >= 1, got {self.images}")
        shares = (self.p_no_part, self.p_several, self.p_cut_by_border)
        if min(shares) < 0 or sum(shares) > 1:
            raise InvalidInputError(
                "p_no_part + p_several + p_cut_by_border", "shares must be >= 0 and sum to <= 1"
            )


@dataclass(frozen=True)
class DatasetImage:
    index: int
    image: np.ndarray
    record: dict


class DatasetGenerator:
    """Draws the images of one cell of a world."""

    def __init__(self, world: World, options: DatasetOptions) -> None:
        self.world = world
        self.options = options
        self.cell: CellWorld = world.cell(options.cell) if options.cell else world.cells[0]
        self.seed = world.doc.seed if options.seed is None else options.seed
        self.conveyor = Conveyor.for_cell(self.cell)
        self.feed = PartFeed(self.cell.spec.feed, self.seed, _DATASET_STREAM + self.cell.index)
        self.renderer = CameraRenderer(
            self.cell.calibration, self.cell.belt, texture_seed=self.seed
        )

    def __iter__(self) -> Iterator[DatasetImage]:
        for i in range(self.options.images):
            yield self.image(i)

    def image(self, index: int) -> DatasetImage:
        opt = self.options
        rng = np.random.default_rng([self.seed, index])
        u = rng.random()
        main = self.feed.part(index)
        s_cam = self.cell.camera_s_mm
        placed: list[tuple[FedPart, float]] = []
        if u < opt.p_no_part:
            scene = "no_part"
        elif u < opt.p_no_part + opt.p_several:
            scene = "several"
            other = self.feed.part(index + _SECOND)
            gap = rng.uniform(20.0, 150.0)
            h1, h2 = self.conveyor.half_length_mm(main), self.conveyor.half_length_mm(other)
            placed = [(main, s_cam - h1 - gap / 2), (other, s_cam + h2 + gap / 2)]
        elif u < opt.p_no_part + opt.p_several + opt.p_cut_by_border:
            scene = "cut_by_border"
            h = self.conveyor.half_length_mm(main)
            shift = rng.uniform(0.25, 0.75) * 2 * h * rng.choice([-1.0, 1.0])
            placed = [(main, s_cam + shift)]
        else:
            scene = "single"
            placed = [(main, s_cam)]
        lighting = self.cell.spec.lighting.draw(rng)
        noise_std = float(rng.uniform(*self.cell.spec.camera.noise_std))
        blur = float(rng.uniform(*self.cell.spec.camera.blur_sigma_px))
        belt_offset = float(rng.uniform(0.0, 1024.0))
        views = [fed.view(self.conveyor.nominal_pose(s)) for fed, s in placed]
        frame = self.renderer.render(
            views,
            lighting=lighting,
            noise_std=noise_std,
            blur_sigma_px=blur,
            belt_offset_mm=belt_offset,
            rng=rng,
        )
        parts = []
        for (fed, _), truth in zip(placed, frame.truth, strict=True):
            rec = truth.to_dict()
            rec.update(spec=fed.spec, label=fed.label, damage=fed.damage)
            parts.append(rec)
        visible = [p for p in parts if p["visibility"] != "none"]
        if not visible:
            label = "no_part"
        elif len(visible) > 1:
            label = "several"
        elif visible[0]["visibility"] == "partial":
            label = "cut_by_border"
        else:
            label = visible[0]["label"]
        first = visible[0] if len(visible) == 1 else None
        record = dict(
            image=f"{index:06d}.png",
            index=index,
            world=self.world.doc.name,
            cell=self.cell.id,
            seed=self.seed,
            scene=scene,
            label=label,
            expected_part=main.expected_spec,
            part=first["name"] if first else None,
            pose=first["pose"] if first else None,
            outline=first["outline_world_mm"] if first else None,
            holes=first["holes_world_mm"] if first else None,
            outline_px=first["outline_px"] if first else None,
            thickness_mm=first["thickness_mm"] if first else None,
            damage=first["damage"] if first else None,
            parts=parts,
            lighting=lighting.to_dict(),
            sensor=dict(noise_std=round(noise_std, 5), blur_sigma_px=round(blur, 5)),
            belt_offset_mm=round(belt_offset, 4),
        )
        return DatasetImage(index, frame.image, record)


def write_dataset(
    world: World,
    out_dir: str | Path,
    options: DatasetOptions,
    progress: Callable[[DatasetImage], None] | None = None,
) -> dict:
    """Write the dataset; returns the summary also written to ``dataset.json``."""
    out = Path(out_dir)
    out.mkdir(parents=True, exist_ok=True)
    gen = DatasetGenerator(world, options)
    gen.cell.calibration.save(out / "camera.yaml")
    counts: Counter[str] = Counter()
    params = [cv2.IMWRITE_PNG_COMPRESSION, int(options.png_compression)]
    for item in gen:
        name = item.record["image"]
        if not cv2.imwrite(str(out / name), item.image, params):
            raise InvalidInputError("out", f"cannot write {out / name}")
        (out / name.replace(".png", ".json")).write_text(
            json.dumps(item.record, indent=1), encoding="utf-8"
        )
        counts[item.record["label"]] += 1
        if progress is not None:
            progress(item)
    summary = dict(
        world=world.doc.name,
        source=world.source,
        cell=gen.cell.id,
        seed=gen.seed,
        images=options.images,
        width=gen.cell.calibration.width,
        height=gen.cell.calibration.height,
        mm_per_px=round(gen.cell.calibration.mm_per_px(), 5),
        labels={label: counts.get(label, 0) for label in LABELS},
        conventions=dict(
            frame="world: z up, mm, belt surface at z = 0 (as camera.yaml)",
            pose="x_mm, y_mm of the reference point (centre of the outline's bounding box "
            "in the part frame), theta_deg about world z",
            outline="top-face exterior in the world (xy, mm); outline_px: projected with "
            "distortion, pixel centres at integer coordinates",
        ),
    )
    (out / "dataset.json").write_text(json.dumps(summary, indent=1), encoding="utf-8")
    return summary
