"""Whether what the camera saw supports opening the gate for one registry entry.

The matcher (`matching.py`) names the entry a read is closest to; naming may be loose. Opening
may not: **a registered plate opens the gate only when the image supports that exact plate and
no other plausible reading of the image is a different plate.** A string distance cannot know
that (``AB12COE`` and ``AB12CDE`` are one look-alike apart and two different cars); the OCR's
own probabilities can, so this module decides on them.

The evidence (`PlateEvidence`)
    A read: the reported plate, and optionally, for each of its characters, the OCR's
    alternatives with their probabilities (the reported character first, as `/v1/recognize`
    gives them, averaged over the frames of a burst that agree on the length), how many frames
    read exactly this plate, and whether the service flagged the read as incomplete (cut by
    the frame, shorter than every format of the region). Any plate source can build one:
    a text-only source (a sensor, MQTT, an automation) gives the text and nothing else.

The rule (`supports`)
    1. A read flagged incomplete never opens.
    2. Each position's *plausible* characters are the reported one and every alternative with
       a probability of at least `PLAUSIBLE` (2%); when the listed alternatives leave
       `PLAUSIBLE` or more unaccounted for, characters nobody listed are plausible too and the
       read cannot be vouched for. The plausible readings are every combination of plausible
       characters (at most `MAX_READINGS`).
    3. The entry is supported when **every** plausible reading is that entry: the plate itself,
       or a plate its pattern matches with no narrower entry of someone else matching it. One
       plausible reading that is another plate, registered or not, refuses, and the refusal
       names it. So the registered plate is necessarily the best reading too.
    4. Without alternatives (an older service, a text-only source) nothing is known about other
       readings: only an exact read of the plate (or one its pattern matches) opens.
    5. A plate of 2 to 4 characters (`SHORT_PLATE`) opens only on an exact, complete read that
       at least `SHORT_PLATE_FRAMES` (2) frames agree on: short plates are what partial reads
       of longer plates look like.

Look-alike letters (O/D/Q, I/L/T, 8/B ...)
    No tolerance is given for them as such. A read ``AB12CDE`` opens for a registered
    ``AB12COE`` only if ``AB12COE`` is the only plausible reading, which it is not (the
    reported ``AB12CDE`` is plausible and a different plate): refused. Where the image is unsure
    between two letters (``O`` at 60%, ``D`` at 38%), both readings are plausible and the read
    opens for neither. A look-alike is thus only ever "granted" where the OCR's other letter is
    below 2%, i.e. the image is not really unsure. The same holds for a letter against a digit:
    the integration keeps no letter-for-digit tolerance of its own; the service's region format
    correction already writes the format's character into the reported plate, and when the OCR
    saw the other one with 2% or more, that reading stays plausible and refuses.

Why 2%
    On the real photos of ``openalpr-benchmarks`` (one OCR model, 332 plates read at their
    length), 16 characters of 12 plates were misread. The true character had 2% or more in 7
    of them (a refusal then names the true plate), 1-2% in 1, and under 1% or not among the
    three listed in 8 (swapped or shifted characters among them): the OCR is sometimes
    confidently wrong, and no threshold on its probabilities catches that (the README says
    so). A threshold of 1% would catch one more and refuse 7% more of the exact reads.

Pure Python, no Home Assistant imports: any plate source can call `supports`.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from enum import StrEnum
import itertools
import math
from typing import TYPE_CHECKING, Final

if TYPE_CHECKING:
    from collections.abc import Callable, Sequence

PLAUSIBLE: Final = 0.02
"""Probability from which another character at a position is a plausible reading."""
MAX_READINGS: Final = 64
"""Most plausible readings weighed; a read more unsure than that cannot be vouched for."""
SHORT_PLATE: Final = 4
"""Plates of at most this many characters need `SHORT_PLATE_FRAMES` exact reads to open."""
SHORT_PLATE_FRAMES: Final = 2
"""Frames that must read a short plate exactly before it opens the gate."""

Alternatives = tuple[tuple[tuple[str, float], ...], ...]
"""Per position of a read: (character, probability) pairs, the reported character first."""


@dataclass(frozen=True, slots=True)
class PlateEvidence:
    """One read and what is known about it: the input of every access decision."""

    plate: str
    """The reported plate, normalised (A-Z, 0-9)."""
    alternatives: Alternatives = field(default=(), repr=False)
    """The OCR's alternatives per position of `plate`, the reported character first; empty
    when the source gives none (then only an exact read may open)."""
    frames: int = 1
    """How many frames read exactly `plate` (1 for a single image or a text-only source)."""
    incomplete: bool = False
    """The service flagged the read as cut off or too short for the region: never opens."""

    @property
    def has_alternatives(self) -> bool:
        """Whether the per-position alternatives are usable (one per character, aligned)."""
        return len(self.alternatives) == len(self.plate) > 0 and all(
            options and options[0][0] == char
            for char, options in zip(self.plate, self.alternatives, strict=True)
        )


class Verdict(StrEnum):
    """Why evidence does or does not support an entry; stable machine-friendly codes."""

    SUPPORTED = "supported"
    """Every plausible reading is the entry."""
    INCOMPLETE = "incomplete"
    NOT_EXACT = "not_exact"
    """No alternatives, and the read is not the entry exactly."""
    OTHER_READING = "other_reading"
    """A plausible reading is a different plate."""
    UNSURE = "unsure"
    """Too many plausible readings, or characters nobody listed are plausible."""
    SHORT_PLATE = "short_plate"
    """A short plate without the frames that must agree on it."""


@dataclass(frozen=True, slots=True)
class Support:
    """The answer of `supports`: whether the gate may open for the entry, and why."""

    verdict: Verdict
    explanation: str
    """One sentence saying what the evidence showed."""
    other: str | None = None
    """The different plate the image could also be (`Verdict.OTHER_READING`)."""

    @property
    def supported(self) -> bool:
        """Whether the evidence supports opening for the entry."""
        return self.verdict is Verdict.SUPPORTED


def plausible_readings(evidence: PlateEvidence) -> list[tuple[str, float]] | None:
    """Return the plausible readings with their probabilities, likeliest first.

    None when the read cannot be vouched for: a position leaves `PLAUSIBLE` or more to
    characters the alternatives do not list, or there are more than `MAX_READINGS` readings.
    Without alternatives the reported plate is the only reading known (probability 1).
    """
    if not evidence.has_alternatives:
        return [(evidence.plate, 1.0)]
    positions: list[list[tuple[str, float]]] = []
    for options in evidence.alternatives:
        if 1.0 - sum(p for _, p in options) >= PLAUSIBLE:
            return None
        positions.append([options[0], *(opt for opt in options[1:] if opt[1] >= PLAUSIBLE)])
    if math.prod(len(options) for options in positions) > MAX_READINGS:
        return None
    readings = [
        ("".join(char for char, _ in combination), math.prod(p for _, p in combination))
        for combination in itertools.product(*positions)
    ]
    return sorted(readings, key=lambda reading: reading[1], reverse=True)


def supports(evidence: PlateEvidence, entry: str, is_entry: Callable[[str], bool]) -> Support:
    """Decide whether `evidence` supports opening for the registry entry `entry`.

    `entry` is the entry's plate or pattern (normalised), used in explanations;
    `is_entry(reading)` says whether a plate is that entry (the plate itself, or one its
    pattern speaks for). See the module docstring for the rule.
    """
    if (refusal := _refusal(evidence, entry, is_entry)) is not None:
        return refusal
    readings = plausible_readings(evidence)
    if readings is None:
        return Support(
            Verdict.UNSURE,
            f"The OCR was unsure of the read {evidence.plate}: characters it did not list, or "
            f"more than {MAX_READINGS} readings, are plausible.",
        )
    for reading, probability in readings:
        if not is_entry(reading):
            return _other_reading(reading, probability, entry)
    if not evidence.has_alternatives:
        return Support(Verdict.SUPPORTED, f"The read is exactly {entry}.")
    how = "" if len(readings) == 1 else f" (all {len(readings)} plausible readings)"
    return Support(Verdict.SUPPORTED, f"The image supports {entry}{how} and no other plate.")


def _refusal(
    evidence: PlateEvidence, entry: str, is_entry: Callable[[str], bool]
) -> Support | None:
    """Refuse what needs no weighing of readings: incomplete, not exact, a short plate."""
    if evidence.incomplete:
        return Support(
            Verdict.INCOMPLETE,
            f"The service flagged the read {evidence.plate} as incomplete (cut off or shorter "
            "than the region's plates), so it cannot vouch for any plate.",
        )
    if not is_entry(evidence.plate):
        if not evidence.has_alternatives:
            return Support(
                Verdict.NOT_EXACT,
                f"The source gave only the text {evidence.plate}, not what else each character "
                f"could be, so only an exact read of {entry} could open.",
            )
        return _other_reading(evidence.plate, None, entry)
    if len(evidence.plate) <= SHORT_PLATE and evidence.frames < SHORT_PLATE_FRAMES:
        return Support(
            Verdict.SHORT_PLATE,
            f"{evidence.plate} is a short plate, which opens only when {SHORT_PLATE_FRAMES} "
            f"frames read it exactly and completely; {evidence.frames} did.",
        )
    return None


def _other_reading(reading: str, probability: float | None, entry: str) -> Support:
    """Refuse because the image could as well be the different plate `reading`."""
    odds = "" if probability is None else f" ({probability:.0%})"
    return Support(
        Verdict.OTHER_READING,
        f"The image could also be {reading}{odds}, a different plate than {entry}.",
        other=reading,
    )


def combine(reads: Sequence[tuple[str, Alternatives]], plate: str) -> Alternatives:
    """Average the alternatives of several reads of one length into the voted `plate`'s.

    Each position's probabilities are summed over the reads and divided by their number, so a
    character one frame saw and another did not keeps half its weight; `plate`'s character
    comes first. Empty when any read lacks alternatives: the combined read is text-only then.
    """
    if not reads or any(len(alternatives) != len(plate) for _, alternatives in reads):
        return ()
    combined: list[tuple[tuple[str, float], ...]] = []
    for position, reported in enumerate(plate):
        sums: dict[str, float] = {}
        for _, alternatives in reads:
            for char, p in alternatives[position]:
                sums[char] = sums.get(char, 0.0) + p / len(reads)
        others = sorted((c for c in sums if c != reported), key=sums.__getitem__, reverse=True)
        combined.append(
            tuple((char, round(sums.get(char, 0.0), 4)) for char in (reported, *others))
        )
    return tuple(combined)
