"""Gazebo-style cell simulator: a pure core, the ROS 2 node that drives it, production runs.

Modules (each exports its public names; importing ``sim`` imports none of them, so neither
PyBullet nor OpenCV is loaded before it is used):

``sim.world``      the world file (``coatshare.world/v1``): loading and checks
``sim.world_spec`` its schema: cells, belts, cameras, lighting, feeds, faults
``sim.camera``     camera calibration (OpenCV conventions) and projection
``sim.render``     the camera renderer with ground truth
``sim.scene``      what a frame shows: placed parts, lighting, ground truth
``sim.dataset``    labelled image sets for vision work
``sim.robot``      the robot in PyBullet (DIRECT): joints, tool pose, collisions
``sim.gun``        the film from actual joint positions, with QC metrics
``sim.conveyor``   parts riding the belt to the station
``sim.feed``       which part comes, with its size, damage and placement error
``sim.faults``     fault schedule and live injection
``sim.clock``      the fixed-step sim clock
``sim.frames``     poses on the belt
``sim.follower``   the joint trajectory follower (ros2_control-like)
``sim.cell``       one cell stepped by the node: follower, collisions, gun valve, belt, log
``sim.results``    a finished part's film, metrics and QC; the recipes the cells run
``sim.node``       the simulator node on the cells' ROS 2 topics (``python -m sim.node``)
``sim.topics``     the cell topics (name, type, QoS) the node and the edge use
``sim.cell_setup`` what a production run gives each cell: recipes, configuration, programs
``sim.edge``       the edge's part of a production run on the cells' topics
``sim.run``        a production run: simulator + cell controllers as processes + the edge
``sim.report``     the run report: metrics table and heat maps
"""

from __future__ import annotations

from importlib import import_module
from typing import Any

_EXPORTS = {
    "World": "sim.world",
    "CellWorld": "sim.world",
    "WorldDoc": "sim.world",
    "load_world": "sim.world",
    "loads_world": "sim.world",
    "CameraCalibration": "sim.camera",
    "CameraRenderer": "sim.render",
    "Lighting": "sim.scene",
    "PartView": "sim.scene",
    "PartTruth": "sim.scene",
    "Frame": "sim.scene",
    "DatasetOptions": "sim.dataset",
    "write_dataset": "sim.dataset",
    "RobotSim": "sim.robot",
    "SprayResult": "sim.gun",
    "spray_from_joints": "sim.gun",
    "spray_part": "sim.gun",
    "Conveyor": "sim.conveyor",
    "PartFeed": "sim.feed",
    "FedPart": "sim.feed",
    "FaultInjector": "sim.faults",
    "parse_fault_command": "sim.faults",
    "SimClock": "sim.clock",
    "PlanarPose": "sim.frames",
    "BeltFrame": "sim.frames",
    "SimCell": "sim.cell",
    "GunValve": "sim.cell",
    "PartCycle": "sim.cell",
    "RecipeBook": "sim.results",
    "cycle_result": "sim.results",
    "SimNode": "sim.node",
    "run_simulator": "sim.node",
    "SimEdge": "sim.edge",
    "ProductionRun": "sim.run",
    "RunOptions": "sim.run",
    "write_report": "sim.report",
}

__all__ = sorted(_EXPORTS)


def __getattr__(name: str) -> Any:
    module = _EXPORTS.get(name)
    if module is None:
        raise AttributeError(f"module 'sim' has no attribute {name!r}")
    return getattr(import_module(module), name)
