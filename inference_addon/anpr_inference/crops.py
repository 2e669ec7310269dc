"""Cutting the crops the OCR reads out of a photo, around the detector's proposals.

A crop is a proposal, a growth (sideways, upward, downward, as fractions of the box's width
and height; negative shrinks) and, for a tilted text line, its levelled box: that crop is
cut along the line and levelled, the others from the proposal's upright box.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import TYPE_CHECKING

from .results import Box

if TYPE_CHECKING:
    from collections.abc import Sequence

    import numpy as np
    import numpy.typing as npt
    from open_image_models.detection.core.base import DetectionResult

    from .detectors import TiltedBox

    Image = npt.NDArray[np.uint8]

MIN_SIDE = 4
"""Crops narrower or lower than this many pixels are not read: nothing legible fits."""


@dataclass(frozen=True, slots=True)
class CropSpec:
    """What to cut: around `proposal`, grown by `growth`, levelled along `tilted` if given."""

    proposal: DetectionResult
    growth: tuple[float, float, float]
    tilted: TiltedBox | None = None


@dataclass(frozen=True, slots=True)
class Cut:
    """A crop's pixels, its upright box in the photo and the proposal it came from."""

    box: Box
    proposal: DetectionResult
    pixels: Image


def cut_crops(image: Image, specs: Sequence[CropSpec]) -> list[Cut]:
    """Cut every crop of `specs` out of `image`, skipping those too small to read.

    Upright crops are views into `image`, not copies; only levelled ones are new pixels.
    """
    height, width = image.shape[:2]
    cuts: list[Cut] = []
    for spec in specs:
        grow_x, grow_up, grow_down = spec.growth
        if spec.tilted is not None:
            grown = spec.tilted.grown(grow_x, grow_up, grow_down)
            box = grown.bounds(width, height)
            if box.width >= MIN_SIDE and box.height >= MIN_SIDE:
                cuts.append(Cut(box, spec.proposal, grown.crop(image)))
            continue
        bb = spec.proposal.bounding_box
        dx, bh = (bb.x2 - bb.x1) * grow_x, bb.y2 - bb.y1
        box = Box(
            max(0, round(bb.x1 - dx)),
            max(0, round(bb.y1 - bh * grow_up)),
            min(width, round(bb.x2 + dx)),
            min(height, round(bb.y2 + bh * grow_down)),
        )
        if box.width >= MIN_SIDE and box.height >= MIN_SIDE:
            cuts.append(Cut(box, spec.proposal, image[box.y1 : box.y2, box.x1 : box.x2]))
    return cuts
