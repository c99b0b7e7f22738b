"""The spray core: parts, gun and paint, path planning, deposition, quality, recipes."""

from recipes.errors import CoatshareError, InvalidInputError, NotFoundError, UnreachableTargetError
from recipes.finish import FINISHES, Finish, Paint, builtin_finish
from recipes.gun import BENCHMARK_GUN, GunModel
from recipes.program import GunTrajectory, Program

__all__ = [
    "BENCHMARK_GUN",
    "FINISHES",
    "CoatshareError",
    "Finish",
    "GunModel",
    "GunTrajectory",
    "InvalidInputError",
    "NotFoundError",
    "Paint",
    "Program",
    "UnreachableTargetError",
    "builtin_finish",
]
