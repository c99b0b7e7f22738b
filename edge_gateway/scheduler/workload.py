"""Seeded generator of shared-factory workloads (jobs from many firms over a day or two).

Defaults follow a mid-size shared finishing plant: 8 cells, two of them for large parts;
14 finishes from dark to light; a changeover of 5 min plus up to 15 min more when going
from dark to a lighter finish (the gun and lines must be flushed until no tint shows) and
up to 5 min more from light to dark; paint waste grows with flush time.
"""

from __future__ import annotations

import math

import numpy as np

from edge_gateway.scheduler.model import Booking, Cell, Changeover, Job, Problem, Weights, Window

#: finish name -> lightness (0 = black, 1 = white)
FINISHES: dict[str, float] = {
    "black-matt": 0.02,
    "anthracite-satin": 0.12,
    "walnut-stain": 0.22,
    "navy-gloss": 0.25,
    "forest-green-matt": 0.3,
    "oak-stain": 0.45,
    "terracotta-satin": 0.5,
    "grey-satin": 0.55,
    "sage-matt": 0.62,
    "natural-lacquer": 0.75,
    "cream-satin": 0.85,
    "light-grey-matt": 0.8,
    "white-gloss": 0.97,
    "white-matt": 0.98,
}

PART_TYPES = ["door", "drawer-front", "panel", "shelf", "side", "top", "chair-leg", "frame"]


def changeover_matrix(finishes: dict[str, float]) -> list[Changeover]:
    """Dark-to-light changes cost more than the reverse."""
    out = []
    for a, la in finishes.items():
        for b, lb in finishes.items():
            if a == b:
                continue
            time_s = 300 + 900 * max(0.0, lb - la) + 300 * max(0.0, la - lb)
            out.append(
                Changeover(
                    from_finish=a,
                    to_finish=b,
                    time_s=int(round(time_s)),
                    cost=round(1.5 + 4.0 * time_s / 600.0, 2),
                )
            )
    return out


def generate_workload(
    n_jobs: int = 500,
    n_firms: int = 60,
    n_cells: int = 8,
    n_large_cells: int = 2,
    n_finishes: int = 14,
    n_bookings: int = 5,
    seed: int = 0,
    utilisation: float = 0.8,
) -> Problem:
    """A seeded day of work.

    ``utilisation`` is the share of cell time needed by processing alone (no changeovers)
    over the horizon in which jobs arrive and fall due.
    """
    rng = np.random.default_rng(seed)
    names = list(FINISHES)[:n_finishes]
    finishes = {f: FINISHES[f] for f in names}
    popularity = 1.0 / np.arange(1, len(names) + 1) ** 0.8  # whites and greys dominate
    order = sorted(names, key=lambda f: -finishes[f])
    pop = dict(zip(order, popularity / popularity.sum(), strict=True))
    firms = [f"firm{i + 1:02d}" for i in range(n_firms)]
    firm_p = 1.0 / np.arange(1, n_firms + 1) ** 0.7
    firm_p /= firm_p.sum()

    cells = []
    for i in range(n_cells):
        large = i >= n_cells - n_large_cells
        cells.append(
            Cell(
                id=f"c{i + 1}",
                max_part_size_mm=3000.0 if large else 1300.0,
                takes_3d=large or i % 3 == 0,
                speed_factor=round(float(rng.uniform(0.9, 1.2)), 2),
            )
        )

    jobs_raw = []
    for j in range(n_jobs):
        large = rng.random() < 0.15
        size = float(rng.uniform(1400, 2800) if large else rng.uniform(250, 1200))
        quantity = int(rng.integers(4, 81))
        cycle = float(round(12 + size / 60 + rng.uniform(0, 15), 1))
        weight = int(rng.choice([1, 2, 3], p=[0.7, 0.25, 0.05]))
        jobs_raw.append(
            dict(
                id=f"j{j + 1:03d}",
                firm=str(rng.choice(firms, p=firm_p)),
                part_type=str(rng.choice(PART_TYPES)),
                quantity=quantity,
                finish=str(rng.choice(list(pop), p=list(pop.values()))),
                cycle_time_s=cycle,
                load_unload_s=float(rng.integers(120, 301)),
                part_size_mm=round(size, 0),
                is_3d=bool(rng.random() < 0.15),
                weight=weight,
                splittable=bool(quantity >= 50 and rng.random() < 0.5),
            )
        )
    mean_speed = float(np.mean([c.speed_factor for c in cells]))
    work_s = sum(r["cycle_time_s"] * r["quantity"] + r["load_unload_s"] for r in jobs_raw)
    horizon_s = int(work_s / mean_speed / n_cells / utilisation)
    jobs = []
    for r in jobs_raw:
        proc = (r["cycle_time_s"] * r["quantity"] + r["load_unload_s"]) / mean_speed
        release = int(rng.uniform(0, 0.6 * horizon_s))
        slack = rng.uniform(0.15, 0.5) * horizon_s
        due = int(release + proc + slack)
        jobs.append(Job(release_s=release, due_s=due, **r))

    # maintenance on two cells, bookings by the hour for a few firms
    cells[1].maintenance.append(
        Window(start_s=int(0.3 * horizon_s), end_s=int(0.3 * horizon_s) + 7200)
    )
    cells[len(cells) // 2].maintenance.append(
        Window(start_s=int(0.7 * horizon_s), end_s=int(0.7 * horizon_s) + 5400)
    )
    unit = 3600 if horizon_s >= 20 * 3600 else 900  # booked by the hour (quarter on short days)
    for b in range(n_bookings):
        cell = cells[int(rng.integers(0, max(1, n_cells - n_large_cells)))]
        for _ in range(200):
            start = int(rng.uniform(0.1, 0.8) * horizon_s) // unit * unit
            end = start + unit * int(rng.integers(2, 5))
            taken = [*cell.maintenance, *cell.bookings]
            if all(end <= w.start_s or start >= w.end_s for w in taken):
                cell.bookings.append(Booking(start_s=start, end_s=end, firm=firms[b]))
                break
    return Problem(
        finishes=names,
        cells=cells,
        jobs=jobs,
        changeovers=changeover_matrix(finishes),
        weights=Weights(),
        batch_size=40,
    )


def horizon_hours(problem: Problem) -> float:
    return math.ceil(max(j.due_s for j in problem.jobs) / 360.0) / 10.0
