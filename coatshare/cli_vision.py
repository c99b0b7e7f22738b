"""``coatshare vision locate``: find and check a part in a camera image."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Annotated

import typer

vision_app = typer.Typer(help="Locate and check parts in camera images.", no_args_is_help=True)


@vision_app.callback()
def _vision() -> None:
    """Locate and check parts in camera images."""


@vision_app.command("locate")
def locate_cmd(
    image: Annotated[Path, typer.Argument(help="camera image (PNG, JPEG, ...)")],
    camera: Annotated[Path, typer.Option(help="calibration YAML (OpenCV conventions, mm)")],
    part: Annotated[
        str, typer.Option(help="expected part: template (door, rect:width_mm=...,...) or .dxf")
    ],
    as_json: Annotated[bool, typer.Option("--json", help="print one JSON object")] = False,
    size_tolerance_mm: Annotated[
        float, typer.Option(help="size deviation beyond which the part is a wrong part")
    ] = 5.0,
    min_defect_area_mm2: Annotated[
        float, typer.Option(help="missing area along the outline that makes a part damaged")
    ] = 15.0,
    polarity: Annotated[str, typer.Option(help="auto, bright or dark (part vs belt)")] = "auto",
) -> None:
    """Locate the expected PART in IMAGE: pose on the belt, size, score and a verdict
    (ok, wrong_part, damaged, no_part, several, cut_by_border)."""
    from edge_gateway.vision import CameraModel, LocateOptions, Locator, read_image
    from recipes.parts.loader import load_part

    options = LocateOptions(
        size_tolerance_mm=size_tolerance_mm,
        min_defect_area_mm2=min_defect_area_mm2,
        polarity=polarity,
    )
    cam = CameraModel.load(camera)
    expected, _ = load_part(part)
    locator = Locator(cam, expected, options)
    result = locator.locate(read_image(image))
    if as_json:
        typer.echo(json.dumps(result.to_dict()))
        return
    typer.echo(f"{image}: {result.verdict} ({result.elapsed_ms:.1f} ms)")
    for k, loc in enumerate(result.parts):
        dw, dh = loc.size_deviation_mm
        typer.echo(
            f"  part {k + 1}: {loc.verdict}  x {loc.x_mm:.2f} mm  y {loc.y_mm:.2f} mm  "
            f"theta {loc.theta_deg:.3f} deg  size {loc.width_mm:.2f} x {loc.height_mm:.2f} mm "
            f"({dw:+.2f}, {dh:+.2f})  score {loc.score:.3f}"
        )
        for reason in loc.reasons:
            typer.echo(f"    {reason}")
