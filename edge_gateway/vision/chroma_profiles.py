"""The chromaticity cue along the expected outline: edges and where the material ends.

Brightness profiles (:mod:`edge_gateway.vision.profiles`) are read first; where the frame
has colour and part and belt differ in chromaticity (:mod:`edge_gateway.vision.chroma`),
the same profiles are read in chromaticity too, and

- an edge sample whose brightness edge is missing, or lies more than ``AGREE_MM`` from the
  chromaticity's (a shadow as dark as the part beyond the edge, a highlight as bright as
  the belt inside it), takes the chromaticity's edge, where no side face shows;
- the material ends where its chromaticity does, if that is before where its brightness
  ends (the belt in the part's own shadow in a notch) or where the brightness showed no
  step (a highlight as bright as the belt over a notch).

A blurred edge's chromaticity changes where the brighter side's light weighs as much as
the darker's, off the edge itself: the offset is measured where both cues find the
outline and taken off; it varies along the outline (edge finishes, side faces, the light),
so the chromaticity's material end counts ``AGREE_MM`` further out than measured.
"""

from __future__ import annotations

import numpy as np

from edge_gateway.vision.checks import AGREE_MM
from edge_gateway.vision.chroma import ChromaCue, chroma_edges, chroma_extent, chroma_level
from edge_gateway.vision.profiles import SIDE_PX, STEP_LEVEL, STEP_PX, Profiles

#: samples on which both cues must agree to measure their offset
MIN_AGREEING = 5
#: edges of the two cues this near (px) agree, when their offset is measured
_NEAR_PX = 3.0
#: material ends this near the outline (mm) by brightness measure the offset of the ends
_END_NEAR_MM = 0.5


def with_chroma_edges(
    prof: Profiles,
    t_edge: np.ndarray,
    bottom: np.ndarray,
    colour: np.ndarray,
    cue: ChromaCue,
    reach_px: float | None,
) -> tuple[np.ndarray, np.ndarray]:
    """``t_edge`` (K,) px (and ``bottom`` (K,) bool) with the chromaticity's edges where
    no side face shows and the brightness found no edge, or one more than ``AGREE_MM``
    from the chromaticity's; profiles from ``reach_px`` inside the prediction outwards."""
    offsets = prof.offsets
    if reach_px is not None:
        offsets = offsets[offsets >= -reach_px - 3]
    level = chroma_level(colour, cue, prof.origin_px, prof.normal_px, offsets)
    t_c = chroma_edges(level, offsets, STEP_LEVEL, STEP_PX)
    flat = prof.side_px < SIDE_PX
    both = flat & np.isfinite(t_c) & np.isfinite(t_edge) & (np.abs(t_c - t_edge) < _NEAR_PX)
    if np.count_nonzero(both) < MIN_AGREEING:
        return t_edge, bottom
    t_c = t_c - float(np.median(t_c[both] - t_edge[both]))
    tol_px = AGREE_MM * prof.px_per_mm
    use = flat & np.isfinite(t_c) & ~(np.abs(t_c - t_edge) <= tol_px)
    return np.where(use, t_c, t_edge), bottom & ~use


def with_chroma_extent(
    prof: Profiles,
    colour: np.ndarray,
    cue: ChromaCue,
    offsets: np.ndarray,
    extent_mm: np.ndarray,
    cut: np.ndarray,
) -> tuple[np.ndarray, np.ndarray]:
    """The material extent ``extent_mm`` (K,) and its cut edges ``cut`` (K,) along
    ``prof``, with the chromaticity's end (read at ``offsets`` (T,) px) where it ends at a
    step before the brightness's end, or where the brightness showed no step; ``offsets``
    may skip pixels (the step is judged over ``STEP_PX`` either way)."""
    level = chroma_level(colour, cue, prof.origin_px, prof.normal_px, offsets)
    spacing_px = float(offsets[1] - offsets[0]) if len(offsets) > 1 else 1.0
    step_samples = max(1, int(round(STEP_PX / spacing_px)))
    ext_px, c_cut = chroma_extent(level, offsets, STEP_LEVEL, step_samples)
    c_ext = ext_px / prof.px_per_mm
    both = c_cut & cut & (np.abs(extent_mm) < _END_NEAR_MM)
    if np.count_nonzero(both) < MIN_AGREEING:
        return extent_mm, cut
    c_ext = c_ext - float(np.median(c_ext[both] - extent_mm[both])) + AGREE_MM
    use = c_cut & (~cut | (c_ext < extent_mm))
    return np.where(use, c_ext, extent_mm), cut | use
