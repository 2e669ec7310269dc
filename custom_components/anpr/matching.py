"""Decide whether a plate read matches a registered plate, safely enough to open a gate.

OCR misreads plates in predictable ways: it confuses characters that look alike in plate fonts
(``0``/``O``, ``1``/``I``, ``8``/``B`` ...), and it occasionally drops, adds or really
mistakes a character. The matcher tolerates the first kind a little and the second kind not at
all when access is at stake, and it refuses to pick between two registered plates that a read
could equally be. This module is pure Python (no Home Assistant imports) so it can be tested in
isolation and reused by anything that holds a plate registry.

Normalisation
    Reads and registered plates are compared after `normalize_plate`: Unicode NFKC first (so
    full-width or circled letters and digits become plain ones), then upper case, then only
    ``A-Z`` and ``0-9`` are kept, so spaces, dashes and dots do not matter. Other letters
    (accented, Cyrillic) are dropped, not transliterated: plates are Latin letters and digits.

    >>> normalize_plate("ab-12 cde")
    'AB12CDE'

Distance
    `plate_distance` is a Levenshtein distance with weights: a substitution inside one of the
    `LOOKALIKE_GROUPS` costs `LOOKALIKE_COST` (0.5), every other substitution, insertion or
    deletion costs 1.0.

    >>> plate_distance("AB12CDE", "AB12CDE")
    0.0
    >>> plate_distance("AB12CDE", "A812CDE")  # 8 for B: a look-alike
    0.5
    >>> plate_distance("AB12CDE", "A8I2CDE")  # two look-alikes add up to a full edit
    1.0
    >>> plate_distance("AB12CDE", "AB12CDF")  # F for E: a real mistake
    1.0

Thresholds
    A unique registry entry within ``strict`` (default `DEFAULT_STRICT`, 0.5: the exact plate
    or one look-alike confusion, no real edit) is *granted*: access may be given, once the
    caller has checked the entry's category. Within ``loose`` (default `DEFAULT_LOOSE`, 1.5:
    e.g. one real mistake plus one look-alike) the entry is only *named*: a notification may say
    whose car it probably is, but nothing opens.

Ambiguity
    Every registry entry within ``loose`` of the read is a contender. The best contender wins
    only if every other contender is at least ``margin`` (default `DEFAULT_MARGIN`, 1.0: one
    real edit) farther from the read; otherwise the read is *ambiguous*: nothing is granted,
    nobody is named, ``entry_key`` is None and ``contenders`` lists the entries it could be.
    Consequences, all deliberate:

    * an exact match beats *near* entries (a real edit or more away): a read equal to plate A
      and one real mistake away from plate B grants A;
    * an exact match does **not** beat a look-alike entry: a read equal to plate A and one
      look-alike away from plate B is ambiguous. The look-alike cost is low precisely because
      OCR makes that confusion often, so the read is as consistent with B (perhaps a blocked
      car) as with A; opening the gate on a coin toss is not acceptable. Registries should
      not hold two plates one look-alike apart; the explanation names both when they do;
    * a grant needs the naming decision to be unique as well, so a read half-way between two
      entries never opens the gate for either;
    * the most specific entry that matches the read *exactly* speaks for it (see Wildcards):
      a plate beats a pattern that matches it, a narrower pattern a broader one.

    >>> registry = [Candidate("AB10CDE", "alice"), Candidate("AB1OCDE", "bob")]
    >>> match_plate("AB10CDE", registry).reason
    <MatchReason.AMBIGUOUS: 'ambiguous'>

Wildcards
    A registered entry may be a simple pattern for a whole fleet: ``?`` is exactly one
    character, ``*`` any run of characters, including none. Literal characters are normalised
    like plates (``ab-??-cde`` is ``AB??CDE``). Patterns match *exactly*: no look-alike or edit
    tolerance, because a pattern already covers many plates and fuzziness on top would widen it
    in ways nobody can predict. A pattern needs at least `MIN_PATTERN_LITERALS` (3) literal
    characters so that ``*`` or ``???????`` cannot register every car; `validate_pattern`
    raises `ValueError` otherwise.

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

    A registry may hold a fleet pattern and plates or narrower patterns inside it: the read's
    own plate is decided by the most specific entry that matches it exactly, so ``AYO9034``
    (Alice) beats ``AYO*`` for the read AYO9034, and ``AZJ69*`` beats ``AZJ*`` for AZJ6912.
    A pattern that another matching entry lies inside is no contender at all (the narrower
    entry is the exception the registry made on purpose). Patterns that overlap without one
    lying inside the other (``AB?1*`` and ``A?C1*`` both match ABC1) cannot be ordered: a read
    both match is ambiguous, and the registry refuses to hold such a pair
    (`patterns_overlap` names a plate both match, `pattern_contains` tells nesting).

    >>> fleet = [Candidate("AYO*", "fleet"), Candidate("AYO9034", "alice")]
    >>> match_plate("AYO9034", fleet).entry_key, match_plate("AYO1234", fleet).entry_key
    ('alice', 'fleet')
    >>> pattern_contains("AZJ*", "AZJ69*"), pattern_contains("AZJ69*", "AZJ*")
    (True, False)
    >>> patterns_overlap("AB?1*", "A?C1*")
    'ABC1'
    >>> validate_pattern("A*")  # doctest: +ELLIPSIS
    Traceback (most recent call last):
    ...
    ValueError: pattern 'A*' has 1 literal character(s); a wildcard pattern needs at least 3 ...

How the caller decides (blocked plates)
    The matcher does not know categories: pass every registry entry (residents, visitors,
    blocked plates) as a `Candidate`, then

    * open only if ``result.granted`` and the category of ``result.entry_key`` allows entry
      (and any pass is valid);
    * treat the read as a blocked car, refuse and alert, if ``result.entry_key`` is a blocked
      entry even when only ``named`` (a near read of a blocked plate is still suspicious), if
      the read is ``ambiguous`` and any of ``result.contenders`` is blocked, or if
      ``result.blocked`` is not empty.

    Closeness to a blocked entry is generous, because failing safe there costs nothing but a
    shut gate: mark blocked entries ``Candidate(..., blocked=True)`` and ``result.blocked``
    lists every one the read could be, whatever else it matches: a blocked plate within
    `BLOCKED_REACH` (one real edit, i.e. a substitution, an insertion or a deletion, or one
    swap of two neighbouring characters, or two look-alikes), and a blocked pattern that
    matches the read, even where a narrower entry inside it matches too.

    >>> result = match_plate("FBZ9581", [Candidate("FZB9581", "mallory", blocked=True)])
    >>> [(entry.key, entry.distance) for entry in result.blocked]  # two letters swapped
    [('mallory', 1.0)]

Why our own dynamic programme: `rapidfuzz` (the well-kept fast library for edit distances)
weighs insertions, deletions and substitutions uniformly per operation type, but cannot make a
substitution cheaper for particular character pairs, which is the whole point here. Plates
have at most `MAX_PLATE_LENGTH` characters, so the textbook O(n*m) programme below costs at most
a few hundred steps per registry entry.
"""

from __future__ import annotations

from dataclasses import dataclass
from enum import StrEnum
from fnmatch import fnmatchcase
from functools import lru_cache
import math
import re
from typing import TYPE_CHECKING, Final
import unicodedata

if TYPE_CHECKING:
    from collections.abc import Iterable

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

DEFAULT_STRICT: Final = 0.5
"""Default largest distance that may grant access: the exact plate or one look-alike."""
DEFAULT_LOOSE: Final = 1.5
"""Default largest distance that may name a car: e.g. one real mistake and one look-alike."""
DEFAULT_MARGIN: Final = 1.0
"""Default lead, one real edit, the best entry needs over every other contender to be chosen."""
BLOCKED_REACH: Final = 1.0
"""Largest distance, counting a swap of neighbours as one edit, at which a read counts as a
blocked plate whatever else it matches: one real edit, one swap or two look-alikes."""

MIN_PATTERN_LITERALS: Final = 3
"""Literal characters a wildcard pattern needs, so a pattern cannot cover (nearly) every car."""
MAX_PLATE_LENGTH: Final = 16
"""Longest registered plate or pattern, and longest read considered a plate at all.

Real plates have at most about ten characters; the bound keeps garbage out of the registry and
keeps every distance computation small.
"""

WILDCARDS: Final = "?*"
_NOT_PLATE_CHARACTER: Final = re.compile(r"[^A-Z0-9]")
_NOT_PATTERN_CHARACTER: Final = re.compile(r"[^A-Z0-9?*]")
_STAR_RUN: Final = re.compile(r"\*{2,}")
_GROUP_OF: Final[dict[str, int]] = {
    character: index for index, group in enumerate(LOOKALIKE_GROUPS) for character in group
}


class MatchReason(StrEnum):
    """Why a read was or was not matched; the values are stable machine-friendly codes."""

    EXACT = "exact"
    """Granted: the read equals a registered plate."""
    LOOKALIKE = "lookalike"
    """Granted: within the strict threshold but not equal (by default: one look-alike)."""
    WILDCARD = "wildcard"
    """Granted: the read matches a registered wildcard pattern."""
    NEAR = "near"
    """Named only: within the loose threshold but beyond the strict one."""
    AMBIGUOUS = "ambiguous"
    """Nothing granted, nobody named: two or more entries are too close to tell apart."""
    NO_MATCH = "no_match"
    """Nothing granted, nobody named: no entry is within the loose threshold."""


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


@dataclass(frozen=True, slots=True)
class MatchResult:
    """The decision for one read, with everything needed to act on it and explain it."""

    read: str
    """The read, normalised."""
    entry_key: str | None
    """The chosen registry entry, set when `named`; None for no match or an ambiguous read."""
    matched_plate: str | None
    """The chosen entry's plate or pattern, normalised; None when `entry_key` is None."""
    distance: float | None
    """Distance from the read to `matched_plate`; None when `entry_key` is None."""
    granted: bool
    """Unique entry within the strict threshold: access may be granted, once the caller has
    checked the entry's category (blocked?) and pass validity."""
    named: bool
    """Unique entry within the loose threshold: the owner may be named in a notification."""
    ambiguous: bool
    """Several entries are too close to the read to choose one; see `contenders`."""
    reason: MatchReason
    explanation: str
    """One human sentence: which entry, at what distance, why granted or not."""
    contenders: tuple[Contender, ...] = ()
    """Every entry within the loose threshold, closest first (ties by key), except patterns
    that a narrower entry matching the read exactly lies inside. When a read is ambiguous
    these are the entries it could be, e.g. to alert when one of them is blocked."""
    blocked: tuple[Contender, ...] = ()
    """Every blocked candidate the read could be (see `BLOCKED_REACH`), closest first; their
    distances count a swap of neighbours as one edit. Not empty means: treat it as blocked."""


def normalize_plate(text: str) -> str:
    """Return `text` as comparable plate characters: NFKC, upper case, only A-Z and 0-9.

    NFKC comes first so compatibility forms (full-width, circled digits) turn into the plain
    characters they stand for before anything is filtered out.
    """
    return _NOT_PLATE_CHARACTER.sub("", unicodedata.normalize("NFKC", text).upper())


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
    return _weighted_distance(normalize_plate(a), normalize_plate(b), transpositions=transpositions)


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


def match_plate(
    read: str,
    candidates: Iterable[Candidate],
    *,
    strict: float = DEFAULT_STRICT,
    loose: float = DEFAULT_LOOSE,
    margin: float = DEFAULT_MARGIN,
) -> MatchResult:
    """Match one plate read against the registry and explain the decision.

    ``strict`` is the largest distance that may grant access, ``loose`` (>= ``strict``) the
    largest that may name a car, ``margin`` (> 0) the lead the best entry needs over every
    other entry within ``loose``; see the module docstring for the defaults and the reasons.
    Raises `ValueError` for invalid thresholds or an invalid registry entry (validate entries
    with `validate_pattern` when they are registered), so a corrupt registry fails closed.
    """
    _check_thresholds(strict, loose, margin)
    entries = [
        (candidate.key, _prepare_entry(candidate), candidate.blocked) for candidate in candidates
    ]
    normalised = normalize_plate(read)
    if not normalised:
        return _no_match(normalised, f"The read {read!r} contains no letters or digits.")
    if len(normalised) > MAX_PLATE_LENGTH:
        return _no_match(
            normalised,
            f"The read {normalised} has {len(normalised)} characters, more than any licence "
            f"plate ({MAX_PLATE_LENGTH}).",
        )

    near: list[Contender] = []
    for key, (plate, wildcard), _ in entries:
        if wildcard:
            if fnmatchcase(normalised, plate):
                near.append(Contender(key, plate, 0.0, wildcard))
        elif (distance := _weighted_distance(normalised, plate, cutoff=loose)) <= loose:
            near.append(Contender(key, plate, distance, wildcard))
    best_of_key: dict[str, Contender] = {}
    for entry in _most_specific(near):
        previous = best_of_key.get(entry.key)
        if previous is None or entry.distance < previous.distance:
            best_of_key[entry.key] = entry
    contenders = tuple(sorted(best_of_key.values(), key=lambda entry: (entry.distance, entry.key)))
    blocked = _blocked_reach(normalised, entries)
    if not contenders:
        which = (
            "the registry's only entry is not"
            if len(entries) == 1
            else f"none of the {len(entries)} registry entries is"
        )
        return _no_match(
            normalised,
            f"The read {normalised} matches nobody: {which} within the naming threshold {loose:g}.",
            blocked,
        )

    best = contenders[0]
    rivals = [entry for entry in contenders[1:] if entry.distance - best.distance < margin]
    if rivals:
        listed = ", ".join(_describe(entry) for entry in (best, *rivals))
        return MatchResult(
            read=normalised,
            entry_key=None,
            matched_plate=None,
            distance=None,
            granted=False,
            named=False,
            ambiguous=True,
            reason=MatchReason.AMBIGUOUS,
            explanation=(
                f"The read {normalised} is ambiguous between {listed}: the closest is not "
                f"{margin:g} ahead of the others, so it names nobody."
            ),
            contenders=contenders,
            blocked=blocked,
        )

    granted = best.distance <= strict
    if best.wildcard:
        reason = MatchReason.WILDCARD
        how = f"matches the wildcard pattern of entry {best.key!r} ({best.plate})"
    elif best.distance == 0:
        reason = MatchReason.EXACT
        how = f"equals the plate of entry {best.key!r} ({best.plate})"
    elif granted:
        reason = MatchReason.LOOKALIKE
        how = (
            f"is {best.distance:g} from the plate of entry {best.key!r} ({best.plate}), "
            f"within the strict threshold {strict:g}"
        )
    else:
        reason = MatchReason.NEAR
        how = (
            f"is {best.distance:g} from the plate of entry {best.key!r} ({best.plate}), "
            f"within the naming threshold {loose:g} but beyond the strict threshold {strict:g}"
        )
    # How sure, not what follows: access is the caller's verdict (category, pass).
    outcome = "a sure match" if granted else "close enough to name the owner, not to be sure"
    return MatchResult(
        read=normalised,
        entry_key=best.key,
        matched_plate=best.plate,
        distance=best.distance,
        granted=granted,
        named=True,
        ambiguous=False,
        reason=reason,
        explanation=f"The read {normalised} {how}: {outcome}.",
        contenders=contenders,
        blocked=blocked,
    )


def _check_thresholds(strict: float, loose: float, margin: float) -> None:
    """Raise `ValueError` unless 0 <= strict <= loose and margin > 0, all finite."""
    if not all(math.isfinite(value) for value in (strict, loose, margin)):
        raise ValueError("matching thresholds must be finite numbers")
    if not 0 <= strict <= loose:
        raise ValueError(f"need 0 <= strict <= loose, got strict={strict:g}, loose={loose:g}")
    if margin <= 0:
        raise ValueError(f"the ambiguity margin must be positive, got {margin:g}")


def _prepare_entry(candidate: Candidate) -> tuple[str, bool]:
    """Return a candidate's normalised plate and whether it is a pattern, or raise."""
    try:
        return _prepare_plate(candidate.plate)
    except ValueError as err:
        raise ValueError(f"registry entry {candidate.key!r} is invalid: {err}") from err


@lru_cache(maxsize=4096)
def _prepare_plate(plate: str) -> tuple[str, bool]:
    """Validate and normalise one registry plate once; registries are matched many times."""
    normalised = validate_pattern(plate)
    return normalised, any(character in WILDCARDS for character in normalised)


def _most_specific(near: list[Contender]) -> list[Contender]:
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


def _blocked_reach(
    read: str, entries: list[tuple[str, tuple[str, bool], bool]]
) -> tuple[Contender, ...]:
    """Return the blocked entries the read could be, closest first (see `BLOCKED_REACH`)."""
    reached: dict[str, Contender] = {}
    for key, (plate, wildcard), blocked in entries:
        if not blocked:
            continue
        if wildcard:
            distance = 0.0 if fnmatchcase(read, plate) else math.inf
        else:
            distance = _weighted_distance(read, plate, transpositions=True)
        previous = reached.get(key)
        if distance <= BLOCKED_REACH and (previous is None or distance < previous.distance):
            reached[key] = Contender(key, plate, distance, wildcard)
    return tuple(sorted(reached.values(), key=lambda entry: (entry.distance, entry.key)))


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


def _weighted_distance(
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


def _describe(entry: Contender) -> str:
    """Name an entry and its distance for an explanation."""
    kind = "pattern" if entry.wildcard else "plate"
    return f"{entry.key!r} ({kind} {entry.plate}, distance {entry.distance:g})"


def _no_match(read: str, explanation: str, blocked: tuple[Contender, ...] = ()) -> MatchResult:
    """Build the result for a read that matches nobody (it may still be near a blocked one)."""
    return MatchResult(
        read=read,
        entry_key=None,
        matched_plate=None,
        distance=None,
        granted=False,
        named=False,
        ambiguous=False,
        reason=MatchReason.NO_MATCH,
        explanation=explanation,
        blocked=blocked,
    )
