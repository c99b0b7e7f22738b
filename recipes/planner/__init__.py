"""Coverage path planning and the parameter solver."""

from __future__ import annotations

from recipes.finish import Finish
from recipes.gun import GunModel
from recipes.parts.mesh import MeshPart
from recipes.parts.panel import PanelPart
from recipes.planner.mesh_solver import MeshPlan, plan_mesh
from recipes.planner.params import PlannerParams, planner_params
from recipes.planner.solver import PanelPlan, plan_panel

__all__ = ["MeshPlan", "PanelPlan", "PlannerParams", "plan", "planner_params"]


def plan(
    part: PanelPart | MeshPart, finish: Finish, gun: GunModel, params: PlannerParams | None = None
) -> PanelPlan | MeshPlan:
    """Plan a program for ``part`` that lays ``finish`` with ``gun``."""
    params = params or PlannerParams()
    if isinstance(part, MeshPart):
        return plan_mesh(part, finish, gun, params)
    return plan_panel(part, finish, gun, params)
