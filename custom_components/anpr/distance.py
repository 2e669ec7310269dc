"""How far apart two plates are, for OCR: look-alike characters are a cheap confusion.

`plate_distance` is a Levenshtein distance with weights: a substitution inside one of the
`LOOKALIKE_GROUPS` costs `LOOKALIKE_COST` (0.5), every other substitution, insertion or
deletion costs 1.0; optionally a swap of neighbours costs one edit. The matcher (`matching.py`)
names entries and finds blocked neighbours with it; the registry refuses plates too close to
each other with it. It never decides on its own that a gate opens (`evidence.py` does).

Why our own dynamic programme: `rapidfuzz` weighs insertions, deletions and substitutions
uniformly per operation type, but cannot make a substitution cheaper for particular character
pairs, which is the whole point here. Plates have at most `MAX_PLATE_LENGTH` characters, so
the textbook O(n*m) programme below costs at most a few hundred steps per registry entry.
"""

from __future__ import annotations

import math
from typing import Final

from .patterns import normalize_plate

LOOKALIKE_GROUPS: Final[tuple[str, ...]] = ("0ODQ", "1ILT", "8B", "5S", "2Z", "6G")
"""Characters that plate OCR confuses with each other; the groups are disjoint."""

LOOKALIKE_COST: Final = 0.5
"""Cost of substituting a character by a look-alike from its group.

Half a real edit: one confusion of this kind is common OCR noise and must not stop a resident's
car (it stays within `DEFAULT_STRICT`), while two of them add up to a full edit, which is too
much doubt for opening a gate. Being a power of two, sums of costs are exact in floating point,
so comparisons with the thresholds never suffer rounding.
"""
SUBSTITUTION_COST: Final = 1.0
"""Cost of substituting a character by one that does not look like it: a real misread."""
INDEL_COST: Final = 1.0
"""Cost of inserting or deleting a character: as doubtful as a real substitution."""
TRANSPOSITION_COST: Final = 1.0
"""Cost of swapping two neighbouring characters, in the blocked reach only: one real misread
(OCR and people both swap neighbours) rather than the two substitutions Levenshtein counts."""


_GROUP_OF: Final[dict[str, int]] = {
    character: index for index, group in enumerate(LOOKALIKE_GROUPS) for character in group
}


def plate_distance(a: str, b: str, *, transpositions: bool = False) -> float:
    """Return the weighted edit distance between two plates, after normalising both.

    Substituting a look-alike costs `LOOKALIKE_COST`, anything else `SUBSTITUTION_COST` or
    `INDEL_COST`. The distance is symmetric, zero only for equal plates, and satisfies the
    triangle inequality, because the look-alike groups are disjoint (so "look-alike of" is
    transitive) and no substitution costs more than a deletion plus an insertion.

    With ``transpositions`` a swap of two neighbouring characters costs `TRANSPOSITION_COST`
    (the optimal string alignment distance; it need not satisfy the triangle inequality):
    this is the distance of the generous `BLOCKED_REACH`.

    >>> swapped = "FBZ9581"
    >>> plate_distance("FZB9581", swapped), plate_distance("FZB9581", swapped, transpositions=True)
    (2.0, 1.0)
    """
    return weighted_distance(normalize_plate(a), normalize_plate(b), transpositions=transpositions)


def weighted_distance(
    a: str, b: str, cutoff: float = math.inf, *, transpositions: bool = False
) -> float:
    """Weighted Levenshtein distance of two normalised plates, one DP row at a time.

    Once the distance is certainly above `cutoff` a lower bound above `cutoff` is returned
    instead, which is all a threshold comparison needs: every alignment crosses every row of
    the table, or with ``transpositions`` (a swap of neighbours, `TRANSPOSITION_COST`) jumps
    over at most one, and costs never go negative, so the distance is at least the smaller
    minimum of any two neighbouring rows.
    """
    if a == b:
        return 0.0
    if abs(len(a) - len(b)) * INDEL_COST > cutoff:
        return abs(len(a) - len(b)) * INDEL_COST
    before: list[float] = []
    previous = [column * INDEL_COST for column in range(len(b) + 1)]
    for row, char_a in enumerate(a, start=1):
        current = [row * INDEL_COST]
        group_a = _GROUP_OF.get(char_a)
        for column, char_b in enumerate(b, start=1):
            if char_a == char_b:
                substitution = 0.0
            elif group_a is not None and _GROUP_OF.get(char_b) == group_a:
                substitution = LOOKALIKE_COST
            else:
                substitution = SUBSTITUTION_COST
            cost = min(
                previous[column - 1] + substitution,
                previous[column] + INDEL_COST,
                current[column - 1] + INDEL_COST,
            )
            if (
                transpositions
                and row > 1
                and column > 1
                and char_a == b[column - 2]
                and a[row - 2] == char_b
                and char_a != char_b
            ):
                cost = min(cost, before[column - 2] + TRANSPOSITION_COST)
            current.append(cost)
        bound = min(*current, *previous) if transpositions else min(current)
        if bound > cutoff:
            return bound
        before, previous = previous, current
    return previous[-1]
