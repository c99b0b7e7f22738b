"""Vision at the edge: locate each incoming part in a calibrated camera image and check it.

``locate(image, camera, part)`` gives the pose of the part's reference point on the belt
(world frame), its measured size and outline, a match score and a verdict: ok, wrong
part, damaged, no part, several parts (each located) or cut by the image border.
See ``docs/vision.md``.
"""

from edge_gateway.vision.calibration import CameraModel
from edge_gateway.vision.image import as_grey, read_image
from edge_gateway.vision.locate import Locator, locate
from edge_gateway.vision.model import ExpectedPart
from edge_gateway.vision.result import VERDICTS, LocateOptions, LocateResult, PartLocation

__all__ = [
    "VERDICTS",
    "CameraModel",
    "ExpectedPart",
    "LocateOptions",
    "LocateResult",
    "Locator",
    "PartLocation",
    "as_grey",
    "locate",
    "read_image",
]
