"""The report of a production run: a metrics table (JSON and Markdown) and heat maps.

``write_report(folder, results, meta)`` writes

* ``report.json``: the run (``meta``) and every part's result as the simulator published it
  (metrics with the keys of ``coatshare recipe simulate --json``, the recipe's prediction,
  QC verdict, faults, collisions, ground truth);
* ``report.md``: one table row per part (:func:`table_rows`) and the run's figures;
* ``heat/<part_id>.png``: the dry film on the top face against the finish's band, drawn
  from the part's ``.npz`` (written by the simulator beside its ``.json``).
"""

from __future__ import annotations

import json
from collections.abc import Sequence
from pathlib import Path

import numpy as np

COLUMNS = (
    ("cell", "cell"),
    ("part", "part"),
    ("came", "part type (label)"),
    ("program", "program"),
    ("within", "within tol % (sim / recipe)"),
    ("top", "top within tol %"),
    ("coverage", "coverage %"),
    ("dft", "DFT mean um"),
    ("paint", "paint ml"),
    ("cycle", "cycle s"),
    ("faults", "faults"),
    ("qc", "QC"),
)

CONSOLE_COLUMNS = (
    ("part", "part"),
    ("came", "type"),
    ("program", "program"),
    ("within", "within tol % sim / recipe"),
    ("top", "top %"),
    ("paint", "ml"),
    ("faults", "faults"),
    ("qc", "QC"),
)
"""The terminal's table: the columns that matter most, short headers."""


def _f(value: float | None, fmt: str = ".2f") -> str:
    return "-" if value is None else format(float(value), fmt)


def table_rows(results: Sequence[dict]) -> list[dict[str, str]]:
    """One row of strings per part, keyed by the first element of :data:`COLUMNS`."""
    rows = []
    for r in results:
        m = r.get("metrics") or {}
        p = r.get("predicted") or {}
        prog = r.get("program") or {}
        top = (m.get("faces") or {}).get("top", {})
        status = "done" if prog.get("completed") else (prog.get("fault_code") or "not run")
        codes = sorted({f["code"] for f in r.get("faults", [])})
        if r.get("collisions"):
            codes.append("COLLISION")
        label = r["spec"] if r["label"] == "ok" else f"{r['spec']} ({r['label']})"
        rows.append(
            dict(
                cell=r["cell"],
                part=r["part_id"],
                came=label,
                program=status,
                within=f"{_f(m.get('within_tol_pct'))} / {_f(p.get('within_tol_pct'))}",
                top=_f(top.get("within_tol_pct")),
                coverage=_f(m.get("coverage_pct")),
                dft=_f(m.get("dft_mean_um"), ".1f"),
                paint=_f(m.get("paint_ml")),
                cycle=_f(m.get("cycle_s"), ".1f"),
                faults=", ".join(codes) or "-",
                qc="pass" if r["qc"]["passed"] else "FAIL",
            )
        )
    return rows


def summary(results: Sequence[dict]) -> dict:
    """Counts and means over the parts."""
    done = [r for r in results if (r.get("program") or {}).get("completed")]
    within = [r["metrics"]["within_tol_pct"] for r in results if r.get("metrics")]
    return dict(
        parts=len(results),
        completed=len(done),
        qc_passed=sum(1 for r in results if r["qc"]["passed"]),
        within_tol_pct_mean=round(float(np.mean(within)), 3) if within else None,
        paint_ml=round(sum((r.get("metrics") or {}).get("paint_ml", 0.0) for r in results), 2),
    )


def markdown(results: Sequence[dict], meta: dict) -> str:
    rows = table_rows(results)
    s = summary(results)
    head = "| " + " | ".join(h for _, h in COLUMNS) + " |"
    rule = "|" + "|".join("---" for _ in COLUMNS) + "|"
    body = ["| " + " | ".join(row[k] for k, _ in COLUMNS) + " |" for row in rows]
    lines = [
        f"# Simulated production: {meta.get('world_name', '')}",
        "",
        f"World `{meta.get('world', '')}`, {meta.get('parts_per_cell', '?')} part(s) per cell "
        f"on cell(s) {', '.join(meta.get('cells', []))}; finish `{meta.get('finish')}`, "
        f"edge passes {'on' if meta.get('edge_passes') else 'off'}, programs placed at the "
        f"{meta.get('placement')} pose. Sim time {meta.get('sim_s')} s, "
        f"wall {meta.get('wall_s')} s.",
        "",
        f"{s['parts']} parts: {s['completed']} programs completed, {s['qc_passed']} passed QC "
        f"(within tolerance at most 2 points below the recipe's prediction), mean within "
        f"tolerance {s['within_tol_pct_mean']} %, {s['paint_ml']} ml of paint.",
        "",
        head,
        rule,
        *body,
        "",
        "Heat maps: `heat/<part>.png` (dry film on the top face; the finish's band in the "
        "colour bar). Per-part figures, faults and ground truth: `report.json`.",
        "",
    ]
    return "\n".join(lines)


def heatmap_png(npz_path: str | Path, png_path: str | Path, title: str) -> bool:
    """Draw the top-face film of a part's ``.npz``; False when it has no film map."""
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    data = np.load(npz_path)
    if "top_map_um" not in data:
        return False
    film = data["top_map_um"].astype(float)
    x0, y0, dx = (float(v) for v in data["grid_x0_y0_spacing_mm"])
    target, tol = (float(v) for v in data["target_tol"])
    ny, nx = film.shape
    extent = (x0 - dx / 2, x0 + dx * (nx - 0.5), y0 - dx / 2, y0 + dx * (ny - 0.5))
    lo, hi = target * (1 - tol / 100), target * (1 + tol / 100)
    fig, ax = plt.subplots(figsize=(6.4, 4.6), dpi=110)
    im = ax.imshow(
        film, origin="lower", extent=extent, cmap="RdYlBu_r", vmin=0.5 * target, vmax=1.5 * target
    )
    cb = fig.colorbar(im, ax=ax, label="dry film (um)")
    for v in (lo, hi):
        cb.ax.axhline(v, color="k", lw=1.0)
    ax.set_xlabel("x (mm, part frame)")
    ax.set_ylabel("y (mm)")
    ax.set_title(title, fontsize=9)
    fig.tight_layout()
    Path(png_path).parent.mkdir(parents=True, exist_ok=True)
    fig.savefig(png_path)
    plt.close(fig)
    return True


def write_report(folder: str | Path, results: Sequence[dict], meta: dict) -> dict[str, Path]:
    """``report.json``, ``report.md`` and the heat maps into ``folder``; returns the paths."""
    folder = Path(folder)
    folder.mkdir(parents=True, exist_ok=True)
    paths = {"json": folder / "report.json", "md": folder / "report.md"}
    paths["json"].write_text(
        json.dumps(dict(meta=meta, summary=summary(results), parts=list(results)), indent=1),
        encoding="utf-8",
    )
    paths["md"].write_text(markdown(results, meta), encoding="utf-8")
    for r in results:
        npz = (r.get("files") or {}).get("npz")
        if not npz or not Path(npz).is_file():
            continue
        m = r.get("metrics") or {}
        title = (
            f"{r['part_id']} ({r['spec']}): within tol {_f(m.get('within_tol_pct'))} % "
            f"(recipe {_f((r.get('predicted') or {}).get('within_tol_pct'))} %), "
            f"QC {'pass' if r['qc']['passed'] else 'FAIL'}"
        )
        png = folder / "heat" / f"{r['part_id']}.png"
        if heatmap_png(npz, png, title):
            paths[f"heat:{r['part_id']}"] = png
    return paths


__all__ = [
    "COLUMNS",
    "CONSOLE_COLUMNS",
    "heatmap_png",
    "markdown",
    "summary",
    "table_rows",
    "write_report",
]
