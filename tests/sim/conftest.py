"""Fixtures of the simulator tests: the shipped worlds, a world file to break, the door."""

from __future__ import annotations

import copy
from pathlib import Path

import numpy as np
import pytest
import yaml

from recipes.parts.loader import load_part
from sim.world import World, load_world

WORLDS = Path(__file__).resolve().parents[2] / "sim" / "worlds"
DEMO_WORLD = WORLDS / "demo_cell.yaml"
TWO_CELLS = WORLDS / "two_cells.yaml"


@pytest.fixture(scope="session")
def demo_world() -> World:
    return load_world(DEMO_WORLD)


@pytest.fixture(scope="session")
def demo_cell(demo_world):
    return demo_world.cells[0]


@pytest.fixture(scope="session")
def door():
    part, _ = load_part("door")
    return part


@pytest.fixture
def world_data() -> dict:
    """The demo world as a mapping, to be changed by a test."""
    return copy.deepcopy(yaml.safe_load(DEMO_WORLD.read_text()))


def write_world(tmp_path: Path, data: dict, name: str = "world.yaml") -> Path:
    """``data`` as a world file beside a copy of the demo camera calibration."""
    (tmp_path / "demo_camera.yaml").write_text((WORLDS / "demo_camera.yaml").read_text())
    path = tmp_path / name
    path.write_text(yaml.safe_dump(data, sort_keys=False))
    return path


def rng(seed: int = 0) -> np.random.Generator:
    return np.random.default_rng(seed)
