"""The engine's plate-level thresholds, each measured on the benchmark (see README)."""

from __future__ import annotations

from dataclasses import dataclass
import math


@dataclass(frozen=True, slots=True)
class EngineSettings:
    """Plate-level filters applied after OCR."""

    min_length: int = 4
    """Shorter reads are almost always stray text (stickers, badges), not plates."""
    max_length: int = 10
    overlap_iou: float = 0.3
    """Proposals overlapping more than this are the same plate; the best read wins."""
    second_plate_confidence: float = 0.95
    """A second (third...) plate in the same image must be read at least this confidently:
    the best read is the answer, and a weak extra is nearly always a sign, a sticker or a
    badge — each would become an "unknown vehicle" in Home Assistant. Tuned for the fused
    OCR (`FusedOCR`), whose confidences are lower where its models disagree: 0.95 instead of
    0.9 halved the false plates on both benchmark sets and lost no plate."""
    surround: tuple[float, float] = (0.25, 1.0)
    """Text centred within this margin (fractions of a kept plate's width, height) around a
    better plate is that plate's surround: a dealer's frame, the city line of a Brazilian
    plate, a state name. It is never a second car's plate, which can't be that close."""
    crop_variants: tuple[tuple[float, float, float], ...] = (
        (0.0, 0.0, 0.0),
        (-0.035, -0.105, -0.05),
        (0.05, 0.11, 0.075),
    )
    """The most promising proposals are read again from other crops (sideways, upward and
    downward growth as a fraction of the box's width/height; negative shrinks) and the best
    reading is kept: a box a few pixels off clips a character or takes in a frame's
    lettering, and another crop usually doesn't. The first variant is the detector's box."""
    refine_top: int = 2
    """How many proposals, best first, get the extra crops (each crop costs one OCR read)."""
    certain: float = 0.99
    """A best read that fits a format with every character at least this confident is final:
    no other crops are read. Other crops mend reads the OCR was unsure of; they can't improve
    a certain one, only add stray text to outrank it. On the benchmark every value from 0.98
    to 0.999 read the same plates (one more US plate than without), and more than half the
    images save one OCR batch (a fifth of their time)."""
    level_from: float = math.radians(2.0)
    """The best proposals whose text line is tilted at least this much (radians; only
    detectors that report a tilt, see `TiltedBox`) are also read from a levelled crop. A
    tilted plate read from its upright bounds gives the OCR slanted characters in a box
    taller than the plate; the levelled crop alone read 1 more plate on `br` and 3 fewer on
    `us` (the upright box's extra height helps some reads), both together 1 more on each."""
    edge_margin: float = 0.01
    """A read whose proposal comes closer than this to the frame's edge (a fraction of the
    frame's width or height) may be cut off by the frame, or be the camera's own overlay:
    the timestamp and camera name that CCTV cameras draw in the corners, which the OCR reads
    as confidently as a plate. Such a read never ends the search for a plate (see
    `convincing`) and is never reported beside a better one; it can still be the best read.
    On the benchmark: 2 more US plates, a third fewer false plates; a plate that really
    touches the edge costs every look. 0 turns this off."""
    convincing: float = 0.9
    """A format-valid read at least this confident ends the search; below it, a detector
    with several looks (`MultiLookDetector`) takes its next one. Higher finds a few more
    plates on hard images, at the cost of taking every look on more of them. With the
    weighted fused OCR (`FUSION_WEIGHTS`), 0.92 to 0.95 read 1 more US plate than 0.9 (one
    the first look read without its first letter, at 0.92), but at 0.95 with 7% more looks
    the slowest 5% of photos took a third longer (p95 +34%, A/B on both benchmark sets)."""
