"""Benchmark metrics (pure): how one image's reads compare with its labels, and sums.

The definitions of every metric are in the `bench` module's docstring.
"""

from __future__ import annotations

from collections import Counter
from dataclasses import dataclass
import math
from typing import TYPE_CHECKING, Any, Final

import numpy as np

if TYPE_CHECKING:
    from collections.abc import Sequence

    from anpr_inference.results import Box, PlateRead

    from .datasets import LabelledPlate

IOU_THRESHOLD: Final = 0.5


@dataclass(frozen=True, slots=True)
class Prediction:
    """What the metrics need of a reported plate."""

    text: str
    box: Box
    confidence: float = 0.0

    @classmethod
    def from_read(cls, plate: PlateRead) -> Prediction:
        """Take the engine's normalised (format-corrected) text."""
        return cls(plate.normalized, plate.box, plate.confidence)


def align(expected: str, read: str) -> tuple[int, tuple[tuple[str, str], ...]]:
    """Levenshtein distance and the substitutions of one optimal alignment.

    Backtracking prefers the diagonal, so `B` read as `8` shows as a substitution rather than a
    deletion plus an insertion of equal cost. rapidfuzz's `Levenshtein.editops` breaks such
    ties the other way (`ZKWJFRR` read as `Z3KJFRR`: no substitution instead of K→3, W→K;
    3.5% of plates with one or two random edits differed), which would change the reported
    confusions, so this stays.
    """
    rows, cols = len(expected) + 1, len(read) + 1
    dist = [[0] * cols for _ in range(rows)]
    for i in range(rows):
        dist[i][0] = i
    for j in range(cols):
        dist[0][j] = j
    for i in range(1, rows):
        for j in range(1, cols):
            cost = 0 if expected[i - 1] == read[j - 1] else 1
            dist[i][j] = min(dist[i - 1][j] + 1, dist[i][j - 1] + 1, dist[i - 1][j - 1] + cost)
    substitutions: list[tuple[str, str]] = []
    i, j = rows - 1, cols - 1
    while i > 0 or j > 0:
        if i > 0 and j > 0:
            cost = 0 if expected[i - 1] == read[j - 1] else 1
            if dist[i][j] == dist[i - 1][j - 1] + cost:
                if cost:
                    substitutions.append((expected[i - 1], read[j - 1]))
                i, j = i - 1, j - 1
                continue
        if i > 0 and dist[i][j] == dist[i - 1][j] + 1:
            i -= 1
        else:
            j -= 1
    return dist[-1][-1], tuple(reversed(substitutions))


@dataclass(frozen=True, slots=True)
class ImageScore:
    """How the reports of one image compare with its labels (counts, to be summed)."""

    labelled: int
    read_correctly: int
    detected: int
    reported: int
    false_plates: int
    characters: int
    edit_distance: int
    confusions: tuple[tuple[str, str], ...] = ()

    @property
    def correct(self) -> bool:
        """Every labelled plate was read exactly (and an unlabelled image reported nothing)."""
        return self.read_correctly == self.labelled and (self.labelled > 0 or not self.reported)


def score_image(
    truth: Sequence[LabelledPlate],
    predictions: Sequence[Prediction],
    *,
    iou_threshold: float = IOU_THRESHOLD,
) -> ImageScore:
    """Score one image's reported plates (best first) against its labels."""
    top = Counter(p.text for p in predictions[: len(truth)])
    wanted = Counter(t.text for t in truth)
    read_correctly = sum(min(n, top[text]) for text, n in wanted.items())

    detected = 0
    characters = 0
    edit_distance = 0
    confusions: list[tuple[str, str]] = []
    for label in truth:
        overlaps = [(p.box.iou(label.box), p) for p in predictions]
        if any(iou >= iou_threshold for iou, _ in overlaps):
            detected += 1
        read = next((p.text for p in predictions if p.text == label.text), None)
        if read is None:
            best = max(overlaps, key=lambda item: item[0], default=None)
            if best is not None and best[0] >= iou_threshold:
                read = best[1].text
            else:
                # A box much larger or smaller than the label (a loose detection, a tight
                # text line) still shows what the OCR made of this plate.
                read = next((p.text for iou, p in overlaps if iou > 0), "")
        distance, substitutions = align(label.text, read)
        characters += len(label.text)
        edit_distance += min(distance, len(label.text))
        confusions.extend(substitutions)

    false_plates = sum(
        1
        for p in predictions
        if not any(p.text == t.text or p.box.iou(t.box) >= iou_threshold for t in truth)
    )
    return ImageScore(
        labelled=len(truth),
        read_correctly=read_correctly,
        detected=detected,
        reported=len(predictions),
        false_plates=false_plates,
        characters=characters,
        edit_distance=edit_distance,
        confusions=tuple(confusions),
    )


def percentile(values: Sequence[float], q: float) -> float | None:
    """Return the q-th percentile (0-100), interpolating linearly between ranks; None if empty."""
    if not 0 <= q <= 100:
        raise ValueError(f"percentile must be within 0-100, got {q}")
    if not values:
        return None
    return float(np.percentile(np.asarray(values, dtype=np.float64), q, method="linear"))


def _ratio(numerator: float, denominator: float) -> float | None:
    return numerator / denominator if denominator else None


@dataclass(frozen=True, slots=True)
class Summary:
    """Metrics of a set of images (a folder, or everything)."""

    images: int
    unlabelled_images: int
    errors: int
    labelled_plates: int
    reported_plates: int
    plate_accuracy: float | None
    character_accuracy: float | None
    detection_recall: float | None
    false_plates_per_image: float | None
    latency_p50: float | None
    latency_p95: float | None
    latency_max: float | None
    latency_mean: float | None
    sequential_ips: float | None
    concurrent_ips: float | None
    confusions: tuple[tuple[str, str, int], ...]

    def as_dict(self) -> dict[str, Any]:
        """JSON form (see the module docstring)."""
        return {
            "images": self.images,
            "unlabelled_images": self.unlabelled_images,
            "errors": self.errors,
            "labelled_plates": self.labelled_plates,
            "reported_plates": self.reported_plates,
            "plate_accuracy": _round(self.plate_accuracy, 4),
            "character_accuracy": _round(self.character_accuracy, 4),
            "detection_recall": _round(self.detection_recall, 4),
            "false_plates_per_image": _round(self.false_plates_per_image, 4),
            "latency_ms": {
                "p50": _round(self.latency_p50, 1),
                "p95": _round(self.latency_p95, 1),
                "max": _round(self.latency_max, 1),
                "mean": _round(self.latency_mean, 1),
            },
            "images_per_second": {
                "sequential": _round(self.sequential_ips, 2),
                "concurrent": _round(self.concurrent_ips, 2),
            },
            "confusions": [
                {"expected": exp, "read": got, "count": n} for exp, got, n in self.confusions
            ],
        }


def _round(value: float | None, digits: int) -> float | None:
    return None if value is None else round(value, digits)


def summarize(
    scores: Sequence[ImageScore],
    latencies_ms: Sequence[float],
    *,
    unlabelled: int = 0,
    errors: int = 0,
    concurrent_seconds: float | None = None,
    concurrent_images: int = 0,
) -> Summary:
    """Sum per-image scores into rates; `latencies_ms` holds the successful images' times."""
    labelled = sum(s.labelled for s in scores)
    characters = sum(s.characters for s in scores)
    confusions = Counter(pair for s in scores for pair in s.confusions)
    total_ms = math.fsum(latencies_ms)
    return Summary(
        images=len(scores),
        unlabelled_images=unlabelled,
        errors=errors,
        labelled_plates=labelled,
        reported_plates=sum(s.reported for s in scores),
        plate_accuracy=_ratio(sum(s.read_correctly for s in scores), labelled),
        character_accuracy=(
            1 - sum(s.edit_distance for s in scores) / characters if characters else None
        ),
        detection_recall=_ratio(sum(s.detected for s in scores), labelled),
        false_plates_per_image=_ratio(sum(s.false_plates for s in scores), len(scores)),
        latency_p50=percentile(latencies_ms, 50),
        latency_p95=percentile(latencies_ms, 95),
        latency_max=max(latencies_ms, default=None),
        latency_mean=_ratio(total_ms, len(latencies_ms)),
        sequential_ips=_ratio(len(latencies_ms) * 1000, total_ms),
        concurrent_ips=(
            _ratio(concurrent_images, concurrent_seconds) if concurrent_seconds else None
        ),
        confusions=tuple(
            (exp, got, n)
            for (exp, got), n in sorted(confusions.items(), key=lambda kv: (-kv[1], kv[0]))
        ),
    )
