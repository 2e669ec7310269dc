"""A plate read reported by a source other than a watched camera, and the junk filter.

Sources report text only: a sensor's state, Frigate's MQTT message, an action's field. Nothing
in that text says how sure each character is, so a read is kept only when it can be a plate at
all (`clean_plate`), and what it may open is decided by `decision.py`.
"""

from __future__ import annotations

from dataclasses import dataclass, field
import re
from typing import TYPE_CHECKING
import unicodedata

if TYPE_CHECKING:
    from datetime import datetime

MAX_PLATE_LENGTH = 12
"""Longest plate text accepted. The longest plates in use have 10 characters (with spaces,
Brazil's `ABC 1D23` is 8, the UK's `AB12 CDE` 8); 12 leaves room for separators, while a
sentence, a JSON blob or an error message put into a sensor's state is refused."""

_SEPARATORS = re.compile(r"[\s\-.·_]+")
_PLATE = re.compile(r"[A-Z0-9]+")


@dataclass(frozen=True, slots=True)
class PlateRead:
    """One read from a source: the plate's text, and what else the source said about it."""

    plate: str
    """The plate's characters, upper case, A-Z and 0-9 only (see `clean_plate`)."""
    time: datetime
    confidence: float | None = None
    """The source's own confidence (0-1), when it gives one; never per character."""
    image: bytes | None = field(default=None, repr=False)
    """A picture of the plate or vehicle, for notifications (JPEG, PNG or WebP)."""


def clean_plate(text: object) -> str | None:
    """Return the plate in `text` (upper case, separators removed), or None if it is junk.

    Junk: not a string, empty, longer than `MAX_PLATE_LENGTH`, or holding characters other
    than Latin letters, digits and separators (spaces, dashes, dots). A non-Latin plate is
    refused rather than stripped: a Cyrillic plate stripped to its digits is another plate.
    NFKC first, so full-width characters count as the plain ones they stand for.
    """
    if not isinstance(text, str):
        return None
    written = unicodedata.normalize("NFKC", text).strip().upper()
    if not written or len(written) > MAX_PLATE_LENGTH:
        return None
    plate = _SEPARATORS.sub("", written)
    if not plate or not _PLATE.fullmatch(plate):
        return None
    return plate


def clean_confidence(value: object) -> float | None:
    """Return a confidence in 0-1 from what a source gave (a number, or a percentage).

    Sensors write confidences as 0-1 or as percentages; 1 < value <= 100 is read as a
    percentage. Anything else (text, negative, over 100) is no confidence at all.
    """
    if isinstance(value, bool):
        return None
    try:
        number = float(value)  # type: ignore[arg-type]
    except (TypeError, ValueError):
        return None
    if not 0 <= number <= 100:
        return None
    return number / 100 if number > 1 else number
