"""Gantt chart of a plan: cells by time, work coloured by finish, changeovers hatched."""

from __future__ import annotations

from pathlib import Path

from edge_gateway.scheduler.model import Problem
from edge_gateway.scheduler.plans import Plan


def _finish_colors(finishes: list[str]) -> dict[str, tuple]:
    from matplotlib import colormaps

    cmap = colormaps["tab20"]
    return {f: cmap(i % 20) for i, f in enumerate(finishes)}


def save_gantt(
    plan: Plan, path: str | Path, problem: Problem | None = None, title: str = ""
) -> Path:
    """Write a PNG; blocked windows (maintenance, bookings) are drawn when ``problem`` is given."""
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt
    from matplotlib.patches import Patch

    path = Path(path)
    cells = list(plan.cells)
    finishes = sorted({s.finish for slots in plan.cells.values() for s in slots})
    if problem is not None:
        finishes = [f for f in problem.finishes if f in finishes] + [
            f for f in finishes if f not in problem.finishes
        ]
    colors = _finish_colors(finishes)
    fig, ax = plt.subplots(figsize=(14, 1.0 + 0.6 * len(cells)))
    hours = 3600.0
    for y, cell in enumerate(cells):
        work = [((s.start_s / hours), (s.end_s - s.start_s) / hours) for s in plan.cells[cell]]
        ax.broken_barh(
            work,
            (y - 0.35, 0.7),
            facecolors=[colors[s.finish] for s in plan.cells[cell]],
            edgecolor="black",
            linewidth=0.2,
        )
        setups = [
            (s.setup_start_s / hours, (s.start_s - s.setup_start_s) / hours)
            for s in plan.cells[cell]
            if s.start_s > s.setup_start_s
        ]
        if setups:
            ax.broken_barh(
                setups,
                (y - 0.35, 0.7),
                facecolors="white",
                edgecolor="red",
                hatch="////",
                linewidth=0.3,
            )
    if problem is not None:
        index = {c: i for i, c in enumerate(cells)}
        for cell in problem.cells:
            if cell.id not in index:
                continue
            y = index[cell.id]
            for w in cell.maintenance:
                ax.broken_barh(
                    [(w.start_s / hours, (w.end_s - w.start_s) / hours)],
                    (y - 0.45, 0.9),
                    facecolors="0.6",
                    alpha=0.6,
                    hatch="xx",
                )
            for b in cell.bookings:
                ax.broken_barh(
                    [(b.start_s / hours, (b.end_s - b.start_s) / hours)],
                    (y - 0.45, 0.9),
                    facecolors="none",
                    edgecolor="navy",
                    linewidth=1.2,
                    linestyle="--",
                )
                ax.text(b.start_s / hours, y + 0.42, b.firm, fontsize=6, color="navy")
    ax.set_yticks(range(len(cells)), cells)
    ax.invert_yaxis()
    ax.set_xlabel("time (h)")
    ax.set_title(
        title
        or f"{plan.figures.changeovers} changeovers, "
        f"weighted tardiness {plan.figures.weighted_tardiness:g}"
    )
    handles = [Patch(facecolor=colors[f], label=f) for f in finishes]
    handles.append(Patch(facecolor="white", edgecolor="red", hatch="////", label="changeover"))
    ax.legend(handles=handles, loc="upper left", bbox_to_anchor=(1.0, 1.0), fontsize=7)
    fig.tight_layout()
    path.parent.mkdir(parents=True, exist_ok=True)
    fig.savefig(path, dpi=110)
    plt.close(fig)
    return path
