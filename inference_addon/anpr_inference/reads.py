"""From one OCR read of one crop to a candidate plate, and from the chosen candidate to a report.

A read is checked against the requested region's plate formats (correcting look-alike
characters where the format is certain); the reported plate carries its per-character
alternatives and the flags that say it may be cut off.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import TYPE_CHECKING

from .formats import (
    DIGITS,
    LETTERS,
    formats_for,
    match_format,
    normalize_plate,
    reading_rules,
)
from .ocr import OcrRead, mean_confidence
from .results import PlateRead

if TYPE_CHECKING:
    from collections.abc import Mapping

    from open_image_models.detection.core.base import DetectionResult

    from .results import Box


@dataclass(slots=True)
class Candidate:
    """One crop's read, as a possible plate: its (format-corrected) text and where it lies."""

    read: OcrRead
    text: str
    confidences: tuple[float, ...]
    fmt: str | None
    region: str | None
    box: Box
    proposal: DetectionResult
    """The detector's proposal this crop was cut around."""

    @property
    def detection_confidence(self) -> float:
        """The detector's confidence in the proposal."""
        return float(self.proposal.confidence)

    @property
    def confidence(self) -> float:
        """Whole-plate confidence of the (corrected) characters."""
        return mean_confidence(self.confidences)


def score(c: Candidate) -> float:
    """Rank candidates.

    A read that fits a plate format is far more likely a plate than stray text of the same
    confidence.
    """
    return c.confidence * (1.0 if c.fmt is not None else 0.85)


def candidate(
    read: OcrRead,
    box: Box,
    proposal: DetectionResult,
    region: str | None,
    lengths: tuple[int, int],
) -> Candidate | None:
    """Make `read` a candidate, fitted to `region`'s formats; None outside `lengths` (min, max)."""
    text = normalize_plate(read.text)
    if len(text) != len(read.text):
        # The OCR produced characters outside A-Z0-9 (text-line OCR): per-character
        # data no longer lines up, so keep only the line-level confidence.
        read = OcrRead(text, tuple(read.confidence for _ in text))
    if not lengths[0] <= len(text) <= lengths[1]:
        return None
    match = match_format(
        text,
        region,
        char_confidences=read.char_confidences,
        char_probs=read.char_probs,
        alphabet=read.alphabet,
    )
    if match is None:
        return Candidate(read, text, read.char_confidences, None, None, box, proposal)
    return Candidate(
        read, match.text, match.char_confidences, match.format, match.region, box, proposal
    )


def plate_read(
    cand: Candidate, region: str | None, *, at_edge: bool, crop_jpeg: bytes | None
) -> PlateRead:
    """Report `cand`: with its alternatives, and `incomplete` when it may lack characters."""
    # The region's reading rules were applied only where a format matched (`candidate`).
    rules = reading_rules(region) if cand.fmt is not None else {}
    return PlateRead(
        alternatives=alternatives(cand.text, cand.read, rules),
        at_edge=at_edge,
        incomplete=at_edge or shorter_than_formats(cand.text, region),
        text=cand.read.text,
        normalized=cand.text,
        confidence=cand.confidence,
        char_confidences=cand.confidences,
        detection_confidence=cand.detection_confidence,
        box=cand.box,
        format=cand.fmt,
        region=cand.region,
        crop_jpeg=crop_jpeg,
    )


ALTERNATIVES = 3
"""How many characters `PlateRead.alternatives` lists per position."""


def alternatives(
    text: str, read: OcrRead, rules: Mapping[str, str]
) -> tuple[tuple[tuple[str, float], ...], ...]:
    """Each position of `text` (the reported plate): its character, then the likeliest others.

    Probabilities are the OCR's own (`read`'s rows, which align with `text` when their lengths
    agree). The reported character always comes first, so the list never contradicts the
    plate; it can be less probable than the next where the region's format corrected it (a
    digit where the OCR saw a letter): that character's certainty came from the format, not
    the image, and a reader of the list can see so. Characters the region's reading `rules`
    take as one (US: O is read as 0) are one entry with their summed probability, as they are
    one character on those plates. The padding symbol is left out: the probability the list
    leaves unaccounted for is on other characters or on no character at that position.
    Empty when the OCR gives no probabilities.
    """
    probs, alphabet = read.char_probs, read.alphabet
    if probs is None or alphabet is None or len(probs) != len(text):
        return ()
    symbols = [rules.get(s, s) for s in alphabet.upper()]
    positions = []
    for reported, row in zip(text, probs, strict=True):
        merged: dict[str, float] = {}
        for symbol, p in zip(symbols, row, strict=True):
            if symbol in LETTERS or symbol in DIGITS:
                merged[symbol] = merged.get(symbol, 0.0) + float(p)
        others = sorted((c for c in merged if c != reported), key=merged.__getitem__, reverse=True)
        positions.append(
            tuple(
                (char, min(1.0, merged.get(char, 0.0)))
                for char in (reported, *others[: ALTERNATIVES - 1])
            )
        )
    return tuple(positions)


def shorter_than_formats(text: str, region: str | None) -> bool:
    """Whether `text` is shorter than every plate format of `region` (a partial read).

    Only says something for regions whose plates all have more characters than the shortest
    read kept (`EngineSettings.min_length`, 4): `br` 7, `in` 8, `nz` 6. `eu`, `uk` and `us`
    have formats of 4 characters or fewer and never flag.
    """
    if region is None:
        return False
    return len(text) < min(len(f.pattern) for f in formats_for(region))
