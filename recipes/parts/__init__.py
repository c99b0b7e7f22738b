"""Part geometry: flat panels (templates, DXF) and meshes (STL/OBJ)."""

from recipes.parts.panel import PANEL_FACES, PanelPart
from recipes.parts.surface import SurfaceSamples, TopGrid
from recipes.parts.templates import STANDARD_PANELS, TEMPLATES, make_template, parse_template_spec

__all__ = [
    "PANEL_FACES",
    "STANDARD_PANELS",
    "TEMPLATES",
    "PanelPart",
    "SurfaceSamples",
    "TopGrid",
    "make_template",
    "parse_template_spec",
]
