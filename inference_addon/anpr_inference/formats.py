"""Plate formats per region: normalisation, "is this a plate?" and look-alike correction.

A generic OCR model reads plates from every country, so it has no idea that the third
character of a British plate must be a digit; it happily reads `AB1ZCDE`. Once we know the
region, the format tells us the class (letter or digit) of every position, and a character of
the wrong class can be swapped for its look-alike of the right class (`Z` -> `2`). With the
OCR's full probability row for the slot we can do better than a fixed table: take the most
probable character of the required class.

Every format is a fixed-length pattern of position classes (`L` letter, `D` digit, `A`
either). A format with optional parts (`uk_prefix` has one to three digits) is several
`PlateFormat` entries sharing one name, so the class of every position is always known.
"""

from __future__ import annotations

from dataclasses import dataclass, replace
from itertools import product
import string
from typing import TYPE_CHECKING, Any, Final
import unicodedata

import numpy as np
import numpy.typing as npt

from . import contract

if TYPE_CHECKING:
    from collections.abc import Sequence

REGIONS: Final = contract.REGIONS
"""The regions of the API contract, each with its formats below."""

LETTERS: Final = frozenset(string.ascii_uppercase)
DIGITS: Final = frozenset(string.digits)

# Look-alike tables for when the OCR gives no probabilities (or none worth using). They only
# hold pairs that are near-identical in plate typefaces (FE-Schrift, Charles Wright, the
# Mercosur font), because a wrong "correction" turns a right read into a wrong one:
# - 4/A and 7/T are left out: the open or closed triangle of 4 and the one-sided bar of 7 look
#   different enough that a model reading them is more likely right about a genuinely
#   different character than confused;
# - L is left out of letter->digit for the same reason (its foot is nothing like 1's flag);
# - D and Q map to 0 (rounded forms with a small extra stroke), but 0 maps back to O only.
# When the OCR supplies its probability row, that decides instead and can pick any character.
DIGIT_TO_LETTER: Final[dict[str, str]] = {
    "0": "O",
    "1": "I",
    "2": "Z",
    "5": "S",
    "6": "G",
    "8": "B",
}
LETTER_TO_DIGIT: Final[dict[str, str]] = {
    "O": "0",
    "D": "0",
    "Q": "0",
    "I": "1",
    "Z": "2",
    "S": "5",
    "G": "6",
    "B": "8",
}

# A table correction is inferred from the glyph's shape, not observed: the OCR was sure of the
# *shape* (hence the original confidence) but read it as the wrong character, so the
# corrected character keeps most of that confidence, not all of it. 0.8 keeps a single
# correction on a confident read above common acceptance thresholds (0.5-0.7) while ranking it
# below an uncorrected read of the same confidence.
TABLE_CORRECTION_PENALTY: Final = 0.8

# Below this probability the OCR has no real opinion about the in-class characters (a softmax
# over 37 symbols puts ~0.027 on each when it knows nothing), so its best in-class pick is
# noise and the look-alike table decides instead.
MIN_CLASS_PROBABILITY: Final = 0.02

# Characters a region's plates don't carry, mapped to the one they are printed like. Most US
# states leave the letter O out of their serial formats and many draw O and 0 from one glyph,
# so an O read on a US plate is taken as a zero. Vanity plates are the rare exception; the
# integration's matcher treats O and 0 as look-alikes either way, so a gate still matches.
REGION_READING_RULES: Final[dict[str, dict[str, str]]] = {"us": {"O": "0"}}

_CLASSES: Final = frozenset("LDA")


@dataclass(frozen=True, slots=True)
class PlateFormat:
    """One fixed-length plate layout: `pattern` has a class per position.

    `L` needs a letter A-Z, `D` a digit 0-9, `A` accepts either and is never corrected.
    """

    name: str
    region: str
    pattern: str

    def __post_init__(self) -> None:
        """Reject patterns with unknown position classes early (they are module constants)."""
        if not self.pattern or not set(self.pattern) <= _CLASSES:
            raise ValueError(f"format {self.name}: pattern must use only L, D, A")

    @property
    def is_generic(self) -> bool:
        """True for catch-all formats that accept any character anywhere."""
        return set(self.pattern) == {"A"}

    def fits(self, text: str) -> bool:
        """Whether normalised `text` has exactly this layout, without any correction."""
        return len(text) == len(self.pattern) and all(
            _in_class(char, cls) for char, cls in zip(text, self.pattern, strict=True)
        )


@dataclass(frozen=True, slots=True)
class FormatMatch:
    """A plate text that fits a format, possibly after look-alike corrections.

    `char_confidences` has one entry per character of `text`.
    """

    text: str
    format: str
    region: str
    corrections: int
    char_confidences: tuple[float, ...]


def _in_class(char: str, cls: str) -> bool:
    if cls == "L":
        return char in LETTERS
    if cls == "D":
        return char in DIGITS
    return char in LETTERS or char in DIGITS


def _family(
    name: str, region: str, *runs: tuple[str, Sequence[int]], max_len: int = 99
) -> list[PlateFormat]:
    """Every pattern made of the given runs: `("D", [1, 2])` is one or two digits.

    Patterns come out in the order of the run lengths given, which is their preference order.
    """
    patterns = (
        "".join(cls * n for (cls, _), n in zip(runs, lengths, strict=True))
        for lengths in product(*(choices for _, choices in runs))
    )
    return [PlateFormat(name, region, p) for p in dict.fromkeys(patterns) if len(p) <= max_len]


def _generic(name: str, region: str, lengths: range) -> list[PlateFormat]:
    return [PlateFormat(name, region, "A" * n) for n in lengths]


# Declaration order matters: it breaks the remaining ties, so within a region the most
# common current format comes first and catch-alls come last.
_FORMATS: Final[dict[str, tuple[PlateFormat, ...]]] = {
    "br": (
        # Mercosur plates (since 2018, a letter in fifth place) and the grey ones they replace.
        PlateFormat("br_mercosur", "br", "LLLDLDD"),
        PlateFormat("br_old", "br", "LLLDDDD"),
    ),
    # The EU has no common layout: each country (and often each vehicle class) has its own,
    # many mixing letters and digits freely (DE `M AB 1234`, FR `AB-123-CD`, NL sidecodes), so
    # no position has a known class and correcting would only break right reads.
    "eu": tuple(_generic("eu_generic", "eu", range(4, 11))),
    # State, 1-2 district digits, 1-3 series letters, a 4-digit number. The Bharat (BH) series
    # and older layouts without a series are rare enough to be left out.
    "in": tuple(
        _family("in_standard", "in", ("L", [2]), ("D", [2, 1]), ("L", [2, 1, 3]), ("D", [4]))
    ),
    "nz": (
        PlateFormat("nz_current", "nz", "LLLDDD"),
        PlateFormat("nz_legacy", "nz", "LLDDDD"),
    ),
    "uk": (
        PlateFormat("uk_current", "uk", "LLDDLLL"),
        # 1983-2001: year letter, 1-3 digits, 3 letters.
        *_family("uk_prefix", "uk", ("L", [1]), ("D", [3, 2, 1]), ("L", [3])),
        # 1963-1983: 3 letters, 1-3 digits, year letter.
        *_family("uk_suffix", "uk", ("L", [3]), ("D", [3, 2, 1]), ("L", [1])),
        # Before 1963 (and Northern Ireland today): letters and digits, 7 characters at most.
        *_family("uk_dateless", "uk", ("L", [3, 2, 1, 4]), ("D", [3, 4, 2, 1]), max_len=7),
        *_family("uk_dateless", "uk", ("D", [3, 4, 2, 1]), ("L", [3, 2, 1]), max_len=7),
    ),
    # Fifty states plus vanity plates: no position has a class that holds nationwide.
    "us": tuple(_generic("us_generic", "us", range(2, 9))),
}

# Matching without a region looks at these in order: specific layouts of every region (in
# REGIONS order) before the catch-alls, so `ABC1234` is `br_old`, not `eu_generic`.
_ALL_FORMATS: Final[tuple[PlateFormat, ...]] = tuple(
    [f for r in REGIONS for f in _FORMATS[r] if not f.is_generic]
    + [f for r in REGIONS for f in _FORMATS[r] if f.is_generic]
)

GENERIC_FORMATS: Final[frozenset[str]] = frozenset(f.name for f in _ALL_FORMATS if f.is_generic)
"""Names of the catch-all formats: a match on one says little about plausibility."""


def reading_rules(region: str | None) -> dict[str, str]:
    """Return the region's reading rules (`REGION_READING_RULES`); none without a region."""
    return REGION_READING_RULES.get(_check_region(region), {}) if region is not None else {}


def _check_region(region: str) -> str:
    key = region.strip().lower()
    if key not in _FORMATS:
        raise ValueError(f"unknown plate region {region!r}; valid regions: {', '.join(REGIONS)}")
    return key


def formats_for(region: str) -> tuple[PlateFormat, ...]:
    """Return the formats of one region, in preference order."""
    return _FORMATS[_check_region(region)]


def _normalize_indexed(text: str) -> tuple[str, list[int]]:
    """Normalise and remember which input character each output character came from.

    NFKC is applied one character at a time so every output character traces back to exactly
    one input character (full-width letters, circled digits and ligatures expand in place); that is
    what keeps per-character confidences aligned. Anything that is not ASCII A-Z or 0-9 after
    NFKC is dropped: spaces, dashes, dots, the OCR's `_` padding, other scripts, accented
    letters (a separate combining accent goes, its base letter stays).
    """
    chars: list[str] = []
    sources: list[int] = []
    for index, raw in enumerate(text):
        for char in unicodedata.normalize("NFKC", raw):
            if char.isascii() and char.isalnum():
                chars.append(char.upper())
                sources.append(index)
    return "".join(chars), sources


def normalize_plate(text: str) -> str:
    """Upper-case A-Z and 0-9 only, after NFKC: `" ab-12.cd_"` -> `"AB12CD"`."""
    return _normalize_indexed(text)[0]


@dataclass(frozen=True, slots=True)
class _Reading:
    """The normalised text with its per-character evidence."""

    text: str
    confidences: tuple[float, ...]
    probs: npt.NDArray[np.floating[Any]] | None
    alphabet: str | None


def _reading(
    text: str,
    char_confidences: Sequence[float] | None,
    char_probs: npt.NDArray[np.floating[Any]] | None,
    alphabet: str | None,
) -> _Reading:
    norm, sources = _normalize_indexed(text)
    if char_probs is not None:
        if alphabet is None:
            raise ValueError("char_probs needs the alphabet its columns refer to")
        probs = np.asarray(char_probs, dtype=np.float64)
        if probs.ndim != 2 or probs.shape != (len(text), len(alphabet)):
            raise ValueError(
                f"char_probs must have shape ({len(text)}, {len(alphabet)}) "
                f"(characters of the text, symbols of the alphabet), got {probs.shape}"
            )
        rows = probs[sources] if sources else probs[:0]
    else:
        rows = None
    if char_confidences is not None:
        if len(char_confidences) != len(text):
            raise ValueError(
                f"char_confidences has {len(char_confidences)} entries for "
                f"{len(text)} characters of text"
            )
        confidences = tuple(float(char_confidences[i]) for i in sources)
    elif rows is not None and alphabet is not None:
        # The probability of the character as read (fallback: the row's best) is the OCR's
        # confidence in it.
        upper = alphabet.upper()
        confidences = tuple(
            float(row[upper.index(c)]) if c in upper else float(row.max())
            for c, row in zip(norm, rows, strict=True)
        )
    else:
        # No evidence either way: treat every character as certain.
        confidences = (1.0,) * len(norm)
    return _Reading(norm, confidences, rows, alphabet)


def _correct(reading: _Reading, index: int, cls: str) -> tuple[str, float] | None:
    """Best character of class `cls` for position `index`, with its confidence, or None."""
    if reading.probs is not None and reading.alphabet is not None:
        wanted = LETTERS if cls == "L" else DIGITS
        row = reading.probs[index]
        best: tuple[float, str] | None = None
        for column, symbol in enumerate(reading.alphabet.upper()):
            if symbol in wanted and (best is None or row[column] > best[0]):
                best = (float(row[column]), symbol)
        if best is not None and best[0] >= MIN_CLASS_PROBABILITY:
            return best[1], best[0]
    table = DIGIT_TO_LETTER if cls == "L" else LETTER_TO_DIGIT
    replacement = table.get(reading.text[index])
    if replacement is None:
        return None
    return replacement, reading.confidences[index] * TABLE_CORRECTION_PENALTY


def _apply(reading: _Reading, fmt: PlateFormat) -> tuple[FormatMatch, float] | None:
    """Fit `reading` to `fmt`; also return the summed original confidence of changed chars."""
    chars = list(reading.text)
    confidences = list(reading.confidences)
    corrections = 0
    changed_confidence = 0.0
    for index, (char, cls) in enumerate(zip(reading.text, fmt.pattern, strict=True)):
        if _in_class(char, cls):
            continue
        fixed = _correct(reading, index, cls)
        if fixed is None:
            return None
        chars[index], confidences[index] = fixed
        corrections += 1
        changed_confidence += reading.confidences[index]
    match = FormatMatch(
        text="".join(chars),
        format=fmt.name,
        region=fmt.region,
        corrections=corrections,
        char_confidences=tuple(confidences),
    )
    return match, changed_confidence


def match_format(
    text: str,
    region: str | None = None,
    *,
    char_confidences: Sequence[float] | None = None,
    char_probs: npt.NDArray[np.floating[Any]] | None = None,
    alphabet: str | None = None,
) -> FormatMatch | None:
    """Fit an OCR read to a plate format.

    `char_confidences` (one per character of `text`) and `char_probs` (one row per character
    of `text`, one column per symbol of `alphabet`) are realigned to the normalised text.

    Without a region nothing is corrected: the result is the first format the normalised text
    fits exactly, trying every region's specific formats (in `REGIONS` order, then each
    region's preference order) before the generic catch-alls; None when none fits.

    With a region, the region's reading rules apply first (`REGION_READING_RULES`: on US
    plates O is read as 0); then every format of that region with the text's length is tried,
    correcting
    characters of the wrong class to their most likely (or look-alike) character of the right
    class. The fewest corrections win; on a tie, the format that changes the characters the
    OCR was least sure of; then the region's preference order. None when no format can be
    made to fit.
    """
    key = _check_region(region) if region is not None else None
    reading = _reading(text, char_confidences, char_probs, alphabet)
    if not reading.text:
        return None
    ruled = 0
    if rules := reading_rules(key):
        ruled = sum(ch in rules for ch in reading.text)
        reading = replace(reading, text="".join(rules.get(ch, ch) for ch in reading.text))
    if key is None:
        for fmt in _ALL_FORMATS:
            if fmt.fits(reading.text):
                return FormatMatch(reading.text, fmt.name, fmt.region, 0, reading.confidences)
        return None
    best: tuple[int, float, int, FormatMatch] | None = None
    for order, fmt in enumerate(_FORMATS[key]):
        if len(fmt.pattern) != len(reading.text):
            continue
        fitted = _apply(reading, fmt)
        if fitted is None:
            continue
        match, changed_confidence = fitted
        candidate = (match.corrections, changed_confidence, order, match)
        if best is None or candidate[:3] < best[:3]:
            best = candidate
    if best is None:
        return None
    # Characters changed by the region's reading rules are corrections too.
    return replace(best[3], corrections=best[3].corrections + ruled) if ruled else best[3]
