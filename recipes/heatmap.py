"""Pictures of predicted films: a heat map of the dry film with the path drawn over it.

Used by ``coatshare recipe simulate``, the demo's report and the cloud's approval queue
(``GET /recipes/{id}/versions/{v}/heatmap.png``). matplotlib is imported when a picture
is drawn, so the rest of the spray core does not need it.
"""

from __future__ import annotations

from pathlib import Path
from typing import BinaryIO

import numpy as np

from recipes.finish import Finish
from recipes.program import EDGE, Program
from recipes.simulate import Prediction


def _pyplot():
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    return plt


def _metrics_text(pred: Prediction, finish: Finish, title: str) -> str:
    m = pred.metrics
    lines = [
        title,
        f"target {finish.target_dft_um:g} um dry ±{finish.tolerance_pct:g} %",
        f"within tol {m.within_tol_pct:.1f} %   coverage {m.coverage_pct:.1f} %",
        f"DFT mean {m.dft_mean_um:.1f}  min {m.dft_min_um:.1f}  max {m.dft_max_um:.1f} um",
        f"CV {m.dft_cv_pct:.1f} %   capture {m.capture_pct:.1f} %   "
        f"TE {m.transfer_efficiency_pct:.1f} %",
        f"paint {m.paint_ml:.1f} ml   cycle {m.cycle_s:.1f} s   path {m.path_m:.2f} m",
    ]
    for f in m.faces.values():
        cap = f" capture {f.capture_pct:.0f} %" if f.capture_pct is not None else ""
        lines.append(
            f"{f.name}: {f.within_tol_pct:.1f} % within ±{f.tolerance_pct:g} %, "
            f"mean {f.dft_mean_um:.1f} um{cap}"
        )
    return "\n".join(lines)


def render_heatmap(
    pred: Prediction, program: Program, finish: Finish, out: Path | BinaryIO, title: str = ""
) -> Path | BinaryIO:
    """Top view of the dry film (diverging colours around the target), path on top,
    and a box of metrics; mesh parts are shown unrolled around their principal axis.
    Written as PNG to ``out`` (a path, its folder made if missing, or a binary file)."""
    from matplotlib.colors import TwoSlopeNorm

    plt = _pyplot()
    s = pred.samples
    target = finish.target_dft_um
    tol = finish.tolerance_pct / 100
    norm = TwoSlopeNorm(vmin=target * (1 - 3 * tol), vcenter=target, vmax=target * (1 + 3 * tol))
    fig, (ax, tx) = plt.subplots(1, 2, figsize=(13, 6), gridspec_kw={"width_ratios": [3, 1.3]})
    if s.grid is not None:
        g = s.grid
        img = np.full(g.ny * g.nx, np.nan)
        img[g.index] = pred.dry_um[: g.index.size]
        extent = (
            g.x0_mm - g.spacing_mm / 2,
            g.x0_mm + (g.nx - 0.5) * g.spacing_mm,
            g.y0_mm - g.spacing_mm / 2,
            g.y0_mm + (g.ny - 0.5) * g.spacing_mm,
        )
        im = ax.imshow(
            img.reshape(g.ny, g.nx),
            origin="lower",
            extent=extent,
            cmap="RdBu_r",
            norm=norm,
            interpolation="nearest",
        )
        # edge band as a ring of coloured dots
        edge = ~np.isin(np.arange(len(s)), np.arange(g.index.size))
        top_row = (
            edge & (s.points_mm[:, 2] >= s.points_mm[edge, 2].max() - 1e-9) if edge.any() else edge
        )
        ax.scatter(
            s.points_mm[top_row, 0] + 4 * s.normals[top_row, 0],
            s.points_mm[top_row, 1] + 4 * s.normals[top_row, 1],
            c=pred.dry_um[top_row],
            cmap="RdBu_r",
            norm=norm,
            s=4,
        )
        _draw_path(ax, program)
        ax.set_aspect("equal")
    else:
        im = _unrolled(ax, pred, norm)
    fig.colorbar(im, ax=ax, label="dry film (um)", shrink=0.8)
    tx.axis("off")
    tx.text(0, 1, _metrics_text(pred, finish, title), va="top", family="monospace", fontsize=8)
    fig.tight_layout()
    if isinstance(out, (str, Path)):
        out = Path(out)
        out.parent.mkdir(parents=True, exist_ok=True)
    fig.savefig(out, dpi=110, format="png")
    plt.close(fig)
    return out


def _unrolled(ax, pred: Prediction, norm):
    """A mesh part's surface unrolled around its principal axis: axial position by angle."""
    pts = pred.samples.points_mm
    centre = pts.mean(axis=0)
    _, _, vt = np.linalg.svd(pts - centre, full_matrices=False)
    axis, e1, e2 = vt[0], vt[1], vt[2]
    rel = pts - centre
    t = rel @ axis
    ang = np.degrees(np.arctan2(rel @ e2, rel @ e1))
    order = np.argsort(pred.dry_um)
    ax.set_xlabel("along the part's axis (mm)")
    ax.set_ylabel("angle around the axis (deg)")
    return ax.scatter(
        t[order], ang[order], c=pred.dry_um[order], cmap="RdBu_r", norm=norm, s=1, rasterized=True
    )


def _draw_path(ax, program: Program) -> None:
    """Gun path over the top view: black where spraying, grey moves, dashed edge passes."""
    pos = program.position_mm
    for k in range(1, len(pos)):
        on = program.trigger[k]
        style = "-" if program.kind[k] != EDGE else "--"
        ax.plot(
            pos[k - 1 : k + 1, 0],
            pos[k - 1 : k + 1, 1],
            style,
            color="k" if on else "0.6",
            lw=0.8 if on else 0.5,
        )
    ax.set_xlabel("x (mm)")
    ax.set_ylabel("y (mm)")
