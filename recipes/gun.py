"""Spray gun model: the flux footprint on a plane at the reference standoff.

Profiles (Conner et al., IEEE T-ASE 2005): the elliptical double-beta

    f(x, y) = c (1 - x²/a²)^(β1-1) · (1 - y²/(b²(1 - x²/a²)))^(β2-1)

inside the ellipse with semi-axes a (along the fan axis, tool x) and b (tool y), the
circular beta as the case a = b, β1 = β2, and an elliptical Gaussian (truncated at 4σ).
``f`` integrates to 1 over the plane, so the wet-film rate on the reference plane is
``q = deposit_rate_mm3_s · f`` in mm/s.
"""

from __future__ import annotations

import math
from typing import Literal

import numpy as np
from pydantic import BaseModel, ConfigDict, Field, model_validator
from scipy.special import beta as beta_fn

from recipes.errors import InvalidInputError

GAUSS_CUTOFF_SIGMA = 4.0


class GunModel(BaseModel):
    """A spray gun: flow, losses, fan shape at the reference standoff and working limits."""

    model_config = ConfigDict(extra="forbid", frozen=True)

    name: str = "benchmark-beta"
    profile: Literal["double_beta", "beta", "gaussian"] = "beta"
    flow_ml_min: float = Field(250.0, gt=0, description="paint leaving the gun")
    gun_efficiency: float = Field(
        0.80,
        gt=0,
        le=1,
        description="share of paint reaching the fan deposit (bounce, airborne loss)",
    )
    semi_axis_a_mm: float = Field(100.0, gt=0, description="fan semi-axis along tool x at h_ref")
    semi_axis_b_mm: float = Field(100.0, gt=0, description="fan semi-axis along tool y at h_ref")
    beta1: float = Field(2.5, ge=1.0, le=20.0)
    beta2: float = Field(2.5, ge=1.0, le=20.0)
    sigma_x_mm: float = Field(35.0, gt=0, description="Gaussian profile only")
    sigma_y_mm: float = Field(35.0, gt=0, description="Gaussian profile only")
    standoff_ref_mm: float = Field(200.0, gt=0)
    standoff_min_mm: float = Field(120.0, gt=0, description="valid range of the projection model")
    standoff_max_mm: float = Field(320.0, gt=0)
    speed_min_mm_s: float = Field(50.0, gt=0, description="slowest steady tool speed")
    speed_max_mm_s: float = Field(1200.0, gt=0, description="fastest tool speed of the cell")

    @model_validator(mode="after")
    def _check(self) -> GunModel:
        if not self.standoff_min_mm <= self.standoff_ref_mm <= self.standoff_max_mm:
            raise ValueError("standoff_ref_mm must lie within [standoff_min_mm, standoff_max_mm]")
        if self.speed_min_mm_s >= self.speed_max_mm_s:
            raise ValueError("speed_min_mm_s must be below speed_max_mm_s")
        if self.profile == "beta" and (
            self.semi_axis_a_mm != self.semi_axis_b_mm or self.beta1 != self.beta2
        ):
            raise ValueError("profile 'beta' is circular: semi axes and betas must be equal")
        return self

    # --- derived quantities -------------------------------------------------------------
    @property
    def flow_mm3_s(self) -> float:
        return self.flow_ml_min * 1000.0 / 60.0

    @property
    def deposit_rate_mm3_s(self) -> float:
        """Wet paint volume per second arriving in the fan (after the gun's own losses)."""
        return self.flow_mm3_s * self.gun_efficiency

    @property
    def half_extent_mm(self) -> tuple[float, float]:
        """Half widths of the footprint's support on the reference plane (tool x, tool y)."""
        if self.profile == "gaussian":
            return GAUSS_CUTOFF_SIGMA * self.sigma_x_mm, GAUSS_CUTOFF_SIGMA * self.sigma_y_mm
        return self.semi_axis_a_mm, self.semi_axis_b_mm

    @property
    def reach_mm(self) -> float:
        """Radius of the footprint's support at the reference standoff."""
        return max(self.half_extent_mm)

    def check_standoff(self, standoff_mm: float, field: str = "standoff_mm") -> None:
        if not self.standoff_min_mm <= standoff_mm <= self.standoff_max_mm:
            raise InvalidInputError(
                field,
                f"{standoff_mm:g} mm is outside the model's valid range "
                f"[{self.standoff_min_mm:g}, {self.standoff_max_mm:g}] mm",
            )

    def density(self, x_mm: np.ndarray, y_mm: np.ndarray) -> np.ndarray:
        """Footprint density f (1/mm², integrates to 1) at tool-frame plane coordinates.

        Parameters
        ----------
        x_mm, y_mm : arrays of the same shape, coordinates on the reference plane.
        """
        x = np.asarray(x_mm, dtype=float)
        y = np.asarray(y_mm, dtype=float)
        if self.profile == "gaussian":
            sx, sy = self.sigma_x_mm, self.sigma_y_mm
            r2 = (x / sx) ** 2 + (y / sy) ** 2
            norm = 2.0 * math.pi * sx * sy * (1.0 - math.exp(-0.5 * GAUSS_CUTOFF_SIGMA**2))
            return np.where(r2 <= GAUSS_CUTOFF_SIGMA**2, np.exp(-0.5 * r2) / norm, 0.0)
        a, b = self.semi_axis_a_mm, self.semi_axis_b_mm
        u = 1.0 - (x / a) ** 2
        inside_u = u > 0
        u_safe = np.where(inside_u, u, 1.0)
        w = 1.0 - (y / b) ** 2 / u_safe
        inside = inside_u & (w > 0)
        norm = a * b * beta_fn(0.5, self.beta2) * beta_fn(0.5, self.beta1 + 0.5)
        val = _pow(np.where(inside, u_safe, 0.0), self.beta1 - 1.0) * _pow(
            np.where(inside, w, 0.0), self.beta2 - 1.0
        )
        return np.where(inside, val / norm, 0.0)

    def line_density(self, y_mm: np.ndarray) -> np.ndarray:
        """∫ f(x, y) dx (1/mm): the cross profile of a straight stroke along tool x."""
        y = np.asarray(y_mm, dtype=float)
        if self.profile == "gaussian":
            return _line_density_numeric(self, y)
        a, b = self.semi_axis_a_mm, self.semi_axis_b_mm
        if a == b and self.beta1 == self.beta2:
            bet = self.beta1
            t = np.clip(1.0 - (y / a) ** 2, 0.0, None)
            c = bet / (math.pi * a * a)
            return c * a * beta_fn(0.5, bet) * t ** (bet - 0.5)
        return _line_density_numeric(self, y)


def _pow(base: np.ndarray, exponent: float) -> np.ndarray:
    """base**exponent with cheap special cases for the common exponents."""
    if exponent == 0.0:
        return np.ones_like(base)
    if exponent == 1.0:
        return base
    if exponent == 1.5:
        return base * np.sqrt(base)
    if exponent == 2.0:
        return base * base
    return np.power(base, exponent)


def _line_density_numeric(gun: GunModel, y: np.ndarray) -> np.ndarray:
    half_x, _ = gun.half_extent_mm
    xs = np.linspace(-half_x, half_x, 4001)
    dx = xs[1] - xs[0]
    vals = gun.density(xs[None, :], y.reshape(-1, 1))
    return (vals.sum(axis=1) * dx).reshape(y.shape)


BENCHMARK_GUN = GunModel()
