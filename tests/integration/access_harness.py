"""A community registry and synthetic camera reads for the access harness (issue 17).

The registry: residents in UK, FR, ES, DE, US and BR formats and vanity plates, fleet
patterns, visitors in every pass state, blocked plates; every entry goes through the real
registry's rules (a refused one is skipped and another drawn).

The reads: each is a burst of `FRAMES` frames of `PlateRead`s, as the service sends them,
voted by the real `voting.vote` and decided by the real `access.classify`. How the OCR
behaves is the model, stated here because the harness can only be as honest as it:

* ``clean``: the OCR reads the car's plate right and is sure: the runner-up characters stay
  below `evidence.PLAUSIBLE` at every position;
* ``confused``: the OCR reports a *registered* plate (the worst case for a different car), but
  the image keeps the car's true character at the positions it got wrong with 2% to 45%;
* ``text``: a text-only source (no alternatives) reports the car's plate.

A read that is confidently wrong (the true character under 2%) cannot be told from a read of
the registered car by anything in the image; the real-photo check (`test_access_photos.py`)
measures how often the OCR does that.
"""

from __future__ import annotations

from dataclasses import dataclass
import string
from typing import TYPE_CHECKING

from custom_components.anpr.api import Box, CharAlternative, PlateRead
from custom_components.anpr.distance import LOOKALIKE_GROUPS

if TYPE_CHECKING:
    from collections.abc import Callable
    import random

FRAMES = 3
LETTERS = string.ascii_uppercase
DIGITS = string.digits
MODES = ("clean", "confused", "text")

FORMATS: dict[str, Callable[[random.Random], str]] = {
    "uk": lambda r: _draw(r, "LLDDLLL"),
    "fr": lambda r: _draw(r, "LLDDDLL"),
    "es": lambda r: _draw(r, "DDDDLLL"),
    "de": lambda r: _draw(r, "L" * r.randint(1, 3) + "L" * r.randint(1, 2) + "D" * r.randint(2, 4)),
    "us": lambda r: _draw(r, "DLLLDDD"),
    "br": lambda r: _draw(r, r.choice(("LLLDLDD", "LLLDDDD"))),
}
"""Resident plate formats: L a letter, D a digit."""
FIXED_CLASS = {"uk": "LLDDLLL", "fr": "LLDDDLL", "es": "DDDDLLL", "us": "DLLLDDD"}
"""Formats where each position is a letter or a digit, so a letter-for-digit swap is invalid."""
VANITY = ("KING", "BOBS", "TESLA", "MOMSCAR", "GOLF1", "SUNNY", "JO", "A1", "ZED", "RUN4FUN")
FLEETS = ("DHL*", "UPS9???", "TAXI*", "AMB??1", "POST7*")
LOOKALIKE_OF = {char: group.replace(char, "") for group in LOOKALIKE_GROUPS for char in group}
LETTER_FOR_DIGIT = {
    "O": "0",
    "D": "0",
    "Q": "0",
    "I": "1",
    "L": "1",
    "T": "7",
    "B": "8",
    "S": "5",
    "Z": "2",
    "G": "6",
}
DIGIT_FOR_LETTER = {"0": "O", "1": "I", "7": "T", "8": "B", "5": "S", "2": "Z", "6": "G"}


def _draw(r: random.Random, layout: str) -> str:
    return "".join(r.choice(LETTERS if slot == "L" else DIGITS) for slot in layout)


@dataclass(frozen=True, slots=True)
class Read:
    """One synthetic read: what the car's plate is, what the OCR reports, and how."""

    klass: str
    true_plate: str
    reported: str
    mode: str
    different: bool
    """The car is not the registered one the read is closest to (a false accept if opened)."""
    expect_grant: bool = False
    incomplete: bool = False
    frames: int = FRAMES


def frames_of(read: Read, r: random.Random) -> list[list[PlateRead]]:
    """Return the burst's frames as the service would answer them."""
    frames = []
    for _ in range(read.frames):
        alternatives: tuple[tuple[CharAlternative, ...], ...] = ()
        if read.mode != "text":
            alternatives = tuple(
                _position(reported, truth, read.mode, r)
                for reported, truth in zip(read.reported, _aligned(read), strict=True)
            )
        frames.append(
            [
                PlateRead(
                    text=read.reported,
                    normalized=read.reported,
                    confidence=0.95,
                    char_confidences=(0.95,) * len(read.reported),
                    detection_confidence=0.9,
                    box=Box(500, 400, 700, 460),
                    alternatives=alternatives,
                    incomplete=read.incomplete,
                )
            ]
        )
    return frames


def _aligned(read: Read) -> str:
    """Return the true character under each reported one (the reported one where lengths differ)."""
    if len(read.true_plate) == len(read.reported):
        return read.true_plate
    return read.reported


def _position(
    reported: str, truth: str, mode: str, r: random.Random
) -> tuple[CharAlternative, ...]:
    if mode == "confused" and truth != reported:
        q = r.uniform(0.02, 0.45)
        return (CharAlternative(reported, 1.0 - q - 0.001), CharAlternative(truth, q))
    noise = r.uniform(0.0, 0.015)
    other = r.choice(LOOKALIKE_OF.get(reported) or DIGITS)
    return (CharAlternative(reported, 1.0 - noise - 0.001), CharAlternative(other, noise))


def resident_plates(r: random.Random, count: int) -> list[tuple[str, str]]:
    """Return (plate, format) pairs: vanity plates, then plates of the formats in turn."""
    plates = [(plate, "vanity") for plate in VANITY]
    regions = list(FORMATS)
    while len(plates) < count * 2:
        region = regions[len(plates) % len(regions)]
        plates.append((FORMATS[region](r), region))
    return plates


def random_plate(r: random.Random) -> str:
    return FORMATS[r.choice(list(FORMATS))](r)


def lookalike(plate: str, r: random.Random) -> str | None:
    """Replace one letter by a look-alike letter (O/D/Q, I/L/T)."""
    spots = [i for i, c in enumerate(plate) if c in "ODQILT"]
    if not spots:
        return None
    i = r.choice(spots)
    other = r.choice([o for o in LOOKALIKE_OF[plate[i]] if o.isalpha()])
    return plate[:i] + other + plate[i + 1 :]


def letter_digit_swap(plate: str, region: str, r: random.Random) -> tuple[str, bool] | None:
    """Replace a letter by its digit twin or back; say whether the result fits the format."""
    spots = [i for i, c in enumerate(plate) if c in LETTER_FOR_DIGIT or c in DIGIT_FOR_LETTER]
    if not spots:
        return None
    i = r.choice(spots)
    c = plate[i]
    twin = LETTER_FOR_DIGIT.get(c) or DIGIT_FOR_LETTER[c]
    layout = FIXED_CLASS.get(region)
    valid = layout is None  # vanity, DE and BR plates: a letter or a digit may stand there
    if region == "br":
        valid = i == 4  # Mercosur letter or old-style digit
    return plate[:i] + twin + plate[i + 1 :], valid


def substitution(plate: str, r: random.Random) -> str:
    i = r.randrange(len(plate))
    pool = LETTERS if plate[i].isalpha() else DIGITS
    group = next((g for g in LOOKALIKE_GROUPS if plate[i] in g), plate[i])
    return plate[:i] + r.choice([c for c in pool if c not in group]) + plate[i + 1 :]


def insertion(plate: str, r: random.Random) -> str:
    i = r.randrange(len(plate) + 1)
    return plate[:i] + r.choice(LETTERS + DIGITS) + plate[i:]


def deletion(plate: str, r: random.Random) -> str:
    i = r.randrange(len(plate))
    return plate[:i] + plate[i + 1 :]


def adjacent_swap(plate: str, r: random.Random) -> str | None:
    spots = [i for i in range(len(plate) - 1) if plate[i] != plate[i + 1]]
    if not spots:
        return None
    i = r.choice(spots)
    return plate[:i] + plate[i + 1] + plate[i] + plate[i + 2 :]


def fragment(plate: str, r: random.Random) -> str:
    """Return a partial read: a prefix or suffix of 2 to 4 characters."""
    length = r.randint(2, min(4, len(plate) - 1))
    return plate[:length] if r.random() < 0.5 else plate[-length:]
