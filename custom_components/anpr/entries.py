"""Registry entries as the matcher sees them, and which entries speak for a plate exactly.

`Candidate` is one registry plate or pattern with the caller's key; `Contender` an entry a
read is close to. `ExactIndex` answers, for any plate, which entries speak for it exactly:
the plate registered under it, and the patterns matching it less those that a narrower
matching entry of another key lies inside (`most_specific`: a plate beats a pattern that
matches it, a narrower pattern a broader one). The evidence rule asks it for every plausible
reading of an image; the matcher uses the same ordering. Pure Python.
"""

from __future__ import annotations

from dataclasses import dataclass
from fnmatch import fnmatchcase
from functools import lru_cache
from typing import TYPE_CHECKING

from .patterns import WILDCARDS, pattern_contains, validate_pattern

if TYPE_CHECKING:
    from collections.abc import Iterable


@dataclass(frozen=True, slots=True)
class Candidate:
    """One registered plate or wildcard pattern to match reads against."""

    plate: str
    """The registered plate or pattern as stored; it is normalised before comparing."""
    key: str
    """The caller's id for the registry entry. Candidates sharing a key are one entry (e.g.
    a vehicle with several plates); its distance is that of its closest plate."""
    blocked: bool = False
    """A blocked entry: reads within the generous `BLOCKED_REACH` are reported in
    `MatchResult.blocked`, whatever else they match."""


@dataclass(frozen=True, slots=True)
class Contender:
    """A registry entry within the loose threshold of a read."""

    key: str
    plate: str
    """The entry's plate or pattern, normalised (as compared)."""
    distance: float
    """Weighted edit distance to the read; 0 for a matching wildcard pattern."""
    wildcard: bool


class ExactIndex:
    """Which registry entries speak for a plate exactly; built once per registry version.

    A plate is spoken for by the entry registered under it and by every pattern matching it,
    less the patterns that a narrower entry of another key, also matching, lies inside (the
    matcher's "most specific entry" rule). One owner: that entry's plate; several: nobody can
    tell (overlapping patterns, or a blocked pattern over a plate).
    """

    def __init__(self, candidates: Iterable[Candidate]) -> None:
        """Index `candidates` (validated; `ValueError` for an invalid one)."""
        self._plates: dict[str, set[str]] = {}
        self._patterns: list[tuple[str, str]] = []
        for candidate in candidates:
            plate, wildcard = prepare_entry(candidate)
            if wildcard:
                self._patterns.append((candidate.key, plate))
            else:
                self._plates.setdefault(plate, set()).add(candidate.key)

    def owners(self, plate: str) -> frozenset[str]:
        """Return the keys of the entries that speak for the normalised `plate`."""
        matching = [(key, plate, False) for key in self._plates.get(plate, ())]
        matching += [
            (key, pattern, True) for key, pattern in self._patterns if fnmatchcase(plate, pattern)
        ]
        if len(matching) <= 1:
            return frozenset(key for key, _, _ in matching)
        near = [Contender(key, entry, 0.0, wildcard) for key, entry, wildcard in matching]
        return frozenset(entry.key for entry in most_specific(near))


def prepare_entry(candidate: Candidate) -> tuple[str, bool]:
    """Return a candidate's normalised plate and whether it is a pattern, or raise."""
    try:
        return prepare_plate(candidate.plate)
    except ValueError as err:
        raise ValueError(f"registry entry {candidate.key!r} is invalid: {err}") from err


@lru_cache(maxsize=4096)
def prepare_plate(plate: str) -> tuple[str, bool]:
    """Validate and normalise one registry plate once; registries are matched many times."""
    normalised = validate_pattern(plate)
    return normalised, any(character in WILDCARDS for character in normalised)


def most_specific(near: list[Contender]) -> list[Contender]:
    """Drop the patterns that a narrower entry, also matching the read exactly, lies inside.

    Only the read's own plate is ordered this way (entries at distance 0): the narrower entry
    is the registry's deliberate exception to the pattern for exactly those plates. A pattern
    is kept when the other entry is of the same key, or when neither lies strictly inside the
    other (overlapping or equivalent patterns), which leaves the read ambiguous.
    """
    exact = [entry for entry in near if entry.distance == 0]
    return [
        entry
        for entry in near
        if not entry.wildcard
        or not any(
            other.key != entry.key
            and pattern_contains(entry.plate, other.plate)
            and not pattern_contains(other.plate, entry.plate)
            for other in exact
        )
    ]
