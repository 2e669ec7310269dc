r"""Plate text and fleet patterns: what a registry key is, and which plates a pattern covers.

Normalisation
    Reads and registered plates are compared after `normalize_plate`: Unicode NFKC first (so
    full-width or circled letters and digits become plain ones), then the Cyrillic letters that
    plates share with the Latin alphabet (the twelve that look like A B E K M H O P C T Y X)
    become their Latin twins, then upper case, then only ``A-Z`` and ``0-9`` are kept, so
    spaces, dashes and dots do not matter. What a person types into the registry goes through
    `clean_plate_input` instead, which refuses any other letter or digit (Cyrillic De, Greek,
    accented, ...) rather than dropping it: AB12CDE typed with Cyrillic A, Ve, Es and Ie is
    ``AB12CDE``, not ``12D``.

    >>> normalize_plate("ab-12 cde")
    'AB12CDE'
    >>> normalize_plate("\u0410\u041212\u0421D\u0415")  # Cyrillic A, Ve, Es, Ie
    'AB12CDE'

Wildcards
    A registered entry may be a simple pattern for a whole fleet: ``?`` is exactly one
    character, ``*`` any run of characters, including none. Literal characters are normalised
    like plates (``ab-??-cde`` is ``AB??CDE``). Patterns match *exactly*: no look-alike or edit
    tolerance, because a pattern already covers many plates and fuzziness on top would widen it
    in ways nobody can predict. A pattern needs at least `MIN_PATTERN_LITERALS` (3) literal
    characters so that ``*`` or ``???????`` cannot register every car; `validate_pattern`
    raises `ValueError` otherwise. What a person registers must also pass `pattern_match_rate`:
    a pattern that would match more than `MAX_PATTERN_RATE` (1 in 10,000) of random plates is
    refused (`check_pattern_breadth`).

    >>> matches_pattern("AB??CDE", "AB12CDE")
    True
    >>> matches_pattern("AB??CDE", "AB1CDE")  # ? is exactly one character
    False
    >>> matches_pattern("FLEET*", "FLEET1"), matches_pattern("FLEET*", "FLEET123")
    (True, True)
    >>> matches_pattern("FLEET*", "FLEET")  # * may be empty
    True
    >>> matches_pattern("FLEET*", "XFLEET1")  # the pattern is anchored at both ends
    False
    >>> matches_pattern("*123", "AB123"), matches_pattern("*123", "1234")
    (True, False)
    >>> matches_pattern("AB??CDE", "A812CDE")  # no look-alike tolerance on patterns
    False
    >>> validate_pattern("ab-??-cde")
    'AB??CDE'
    >>> pattern_contains("AZJ*", "AZJ69*"), pattern_contains("AZJ69*", "AZJ*")
    (True, False)
    >>> patterns_overlap("AB?1*", "A?C1*")
    'ABC1'
    >>> validate_pattern("A*")  # doctest: +ELLIPSIS
    Traceback (most recent call last):
    ...
    ValueError: pattern 'A*' has 1 literal character(s); a wildcard pattern needs at least 3 ...

How broad a pattern is
    `pattern_match_rate` is the share of random plates a pattern matches: for each plate
    length from `RATE_LENGTHS` (4 to 8 characters, what real plates have), the number of
    strings of that length over the 36 plate characters that the pattern matches (counted
    exactly, by walking the pattern's automaton), divided by 36 to the length; the largest
    share over those lengths. Real plates are not uniform (formats fix letters and digits),
    so this is an estimate of the order of magnitude, which is what the limit needs:
    ``AYO*`` matches 1 in 46,656 plates of any length, ``*1*2*3*`` about 1 in 900 of
    8-character ones.

    >>> round(1 / pattern_match_rate("AYO*"))
    46656
    >>> pattern_match_rate("*1*2*3*") > MAX_PATTERN_RATE
    True

Pure Python, no Home Assistant imports: the registry, the matcher and the tests share it.
"""

from __future__ import annotations

from fnmatch import fnmatchcase
from functools import lru_cache
import re
from typing import Final
import unicodedata

MIN_PATTERN_LITERALS: Final = 3
"""Literal characters a wildcard pattern needs, so a pattern cannot cover (nearly) every car."""
MIN_PLATE_LENGTH: Final = 2
"""Shortest plate that may be registered: one character would open for a fragment of any car."""
MAX_PLATE_LENGTH: Final = 16
"""Longest registered plate or pattern, and longest read considered a plate at all.

Real plates have at most about ten characters; the bound keeps garbage out of the registry and
keeps every distance computation small.
"""
MAX_PATTERN_RATE: Final = 1e-4
"""Largest share of random plates (1 in 10,000) a registered pattern may match."""
RATE_LENGTHS: Final = range(4, 9)
"""Plate lengths `pattern_match_rate` considers: what real plates have."""
PLATE_ALPHABET: Final = "0123456789ABCDEFGHIJKLMNOPQRSTUVWXYZ"

_CYRILLIC_TWINS: Final = "\u0410\u0412\u0415\u041a\u041c\u041d\u041e\u0420\u0421\u0422\u0423\u0425"
CYRILLIC_TO_LATIN: Final[dict[str, str]] = dict(
    zip(_CYRILLIC_TWINS + _CYRILLIC_TWINS.lower(), "ABEKMHOPCTYX" * 2, strict=True)
)
"""The Cyrillic letters plates use that look like Latin ones (Russian, Ukrainian, ... plates
use only these twelve), and the Latin letter each one is on a plate."""

WILDCARDS: Final = "?*"
_NOT_PLATE_CHARACTER: Final = re.compile(r"[^A-Z0-9]")
_NOT_PATTERN_CHARACTER: Final = re.compile(r"[^A-Z0-9?*]")
_STAR_RUN: Final = re.compile(r"\*{2,}")
_TRANSLITERATE: Final = str.maketrans(CYRILLIC_TO_LATIN)


class NonLatinPlateError(ValueError):
    """Typed plate input holds a letter or digit that no plate carries (not A-Z, 0-9)."""

    def __init__(self, text: str, character: str) -> None:
        """Name the offending character, so the error can show it."""
        super().__init__(f"{text!r} contains {character!r}, which is not a plate character")
        self.character = character


def _fold(text: str) -> str:
    """NFKC, then Cyrillic twins to Latin, then upper case."""
    return unicodedata.normalize("NFKC", text).translate(_TRANSLITERATE).upper()


def normalize_plate(text: str) -> str:
    """Return `text` as comparable plate characters: NFKC, Latin twins, only A-Z and 0-9.

    NFKC comes first so compatibility forms (full-width, circled digits) turn into the plain
    characters they stand for before anything is filtered out. Used for reads and stored
    entries; typed input goes through `clean_plate_input` first.
    """
    return _NOT_PLATE_CHARACTER.sub("", _fold(text))


def clean_plate_input(text: str) -> str:
    """Return typed plate input with Cyrillic twins transliterated; refuse other letters.

    Raises `NonLatinPlateError` for a letter or digit that is not A-Z or 0-9 after NFKC and
    transliteration (a Cyrillic Д, a Greek letter, an accented É ...): dropping it would
    register a different, shorter plate. Separators and wildcards stay for `validate_pattern`.
    """
    folded = _fold(text)
    for character in folded:
        if character.isalnum() and not (character.isascii() and character.isalnum()):
            raise NonLatinPlateError(text, character)
    return folded


def validate_pattern(pattern: str) -> str:
    """Return the normalised registry plate or wildcard pattern, or raise `ValueError`.

    A plain plate needs at least one character. A pattern (containing ``?`` or ``*``) needs
    `MIN_PATTERN_LITERALS` literal characters, so nobody registers every car by accident.
    Runs of ``*`` are collapsed, as they mean the same as one. Nothing may be longer than
    `MAX_PLATE_LENGTH` characters.
    """
    normalised = _STAR_RUN.sub(
        "*", _NOT_PATTERN_CHARACTER.sub("", unicodedata.normalize("NFKC", pattern).upper())
    )
    if not normalised:
        raise ValueError(f"plate {pattern!r} contains no letters or digits")
    if len(normalised) > MAX_PLATE_LENGTH:
        raise ValueError(
            f"plate {pattern!r} has {len(normalised)} characters; "
            f"a licence plate has at most {MAX_PLATE_LENGTH}"
        )
    literals = sum(character not in WILDCARDS for character in normalised)
    if literals < len(normalised) and literals < MIN_PATTERN_LITERALS:
        raise ValueError(
            f"pattern {pattern!r} has {literals} literal character(s); a wildcard pattern "
            f"needs at least {MIN_PATTERN_LITERALS} so that it cannot match almost every car"
        )
    return normalised


def matches_pattern(pattern: str, read: str) -> bool:
    """Return whether `read` matches the registry plate or wildcard `pattern` exactly.

    Both sides are normalised; `pattern` is validated (`ValueError` if invalid). ``?`` is one
    character, ``*`` any run including none; there is no look-alike tolerance.
    """
    return fnmatchcase(normalize_plate(read), validate_pattern(pattern))


def pattern_contains(broad: str, narrow: str) -> bool:
    """Return whether every plate the registry entry `narrow` matches, `broad` matches too.

    Both are plates or wildcard patterns (validated and normalised here; `ValueError` if
    invalid); a plate matches itself only. Decided exactly, over plates of at most
    `MAX_PLATE_LENGTH` characters.
    """
    return _glob_witness(validate_pattern(narrow), validate_pattern(broad), both=False) is None


def patterns_overlap(a: str, b: str) -> str | None:
    """Return a plate both registry entries match (the shortest), or None when none exists.

    Both are plates or wildcard patterns, validated and normalised here (`ValueError` if
    invalid); only plates of at most `MAX_PLATE_LENGTH` characters count.
    """
    return _glob_witness(validate_pattern(a), validate_pattern(b), both=True)


@lru_cache(maxsize=4096)
def _glob_witness(a: str, b: str, *, both: bool) -> str | None:
    """Return the shortest plate `a` matches that `b` matches too (`both`) or does not.

    `a` and `b` are normalised plates or patterns. Each is a small automaton over positions
    in it (``*`` may stay put or be skipped); walking both at once over the characters that
    matter (every literal of either, and one other character that stands for the rest) finds
    the shortest such plate breadth first, up to `MAX_PLATE_LENGTH` characters.
    """
    literals = sorted(set((a + b).replace("?", "").replace("*", "")))
    other = next(char for char in "0123456789ABCDEFGHIJKLMNOPQRSTUVWXYZ" if char not in literals)
    alphabet = [*literals, other]
    start = (_glob_closure(a, frozenset({0})), _glob_closure(b, frozenset({0})))
    layer: dict[tuple[frozenset[int], frozenset[int]], str] = {start: ""}
    seen = {start}
    for _ in range(MAX_PLATE_LENGTH):
        following: dict[tuple[frozenset[int], frozenset[int]], str] = {}
        for (in_a, in_b), prefix in layer.items():
            for char in alphabet:
                state = (_glob_step(a, in_a, char), _glob_step(b, in_b, char))
                if not state[0]:
                    continue
                if len(a) in state[0] and (len(b) in state[1]) is both:
                    return prefix + char
                if state in seen:
                    continue
                seen.add(state)
                following[state] = prefix + char
        layer = following
    return None


def _glob_closure(pattern: str, positions: frozenset[int]) -> frozenset[int]:
    """Add the positions reached by letting each ``*`` match nothing."""
    reached = set(positions)
    for start in positions:
        position = start
        while position < len(pattern) and pattern[position] == "*":
            position += 1
            reached.add(position)
    return frozenset(reached)


def _glob_step(pattern: str, positions: frozenset[int], char: str) -> frozenset[int]:
    """Return the positions after reading `char` from `positions` (empty: no match)."""
    following = set()
    for position in positions:
        if position == len(pattern):
            continue
        symbol = pattern[position]
        if symbol == "*":
            following.add(position)
        elif symbol in ("?", char):
            following.add(position + 1)
    return _glob_closure(pattern, frozenset(following))


@lru_cache(maxsize=1024)
def pattern_match_rate(pattern: str) -> float:
    """Return the largest share of random plates of `RATE_LENGTHS` the entry matches.

    `pattern` is a plate or wildcard pattern (validated here). See "How broad a pattern is".
    """
    normalised = validate_pattern(pattern)
    literals = sorted(set(normalised) - set(WILDCARDS))
    # Every character that is no literal behaves alike: one class, weighted by its size.
    classes = [(char, 1) for char in literals] + [("", len(PLATE_ALPHABET) - len(literals))]
    counts: dict[frozenset[int], int] = {_glob_closure(normalised, frozenset({0})): 1}
    rate = 0.0
    for length in range(1, max(RATE_LENGTHS) + 1):
        following: dict[frozenset[int], int] = {}
        for state, number in counts.items():
            for char, weight in classes:
                if weight and (step := _glob_step(normalised, state, char)):
                    following[step] = following.get(step, 0) + number * weight
        counts = following
        if length in RATE_LENGTHS:
            matched = sum(n for state, n in counts.items() if len(normalised) in state)
            rate = max(rate, matched / len(PLATE_ALPHABET) ** length)
    return rate
