"""Which registry entry a plate read names, how close it is, and which blocked plates it nears.

OCR misreads plates in predictable ways: it confuses characters that look alike in plate fonts
(``0``/``O``, ``1``/``I``, ``8``/``B`` ...), and it occasionally drops, adds or really
mistakes a character. This module measures that closeness with a weighted edit distance and
*names* the entry a read probably is, for notifications; it refuses to pick between two
entries a read could equally be, and it finds every blocked entry a read could be. Whether
the gate may *open* is not decided by distance: that needs the image's evidence
(`evidence.supports`, called by `access.classify`). Plate text and patterns are `patterns.py`.
Pure Python (no Home Assistant imports).

Distance
    `plate_distance` (`distance.py`) is a Levenshtein distance with weights: a substitution
    inside one of the `LOOKALIKE_GROUPS` costs `LOOKALIKE_COST` (0.5), every other
    substitution, insertion or deletion costs 1.0.

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
    or one look-alike confusion) is ``granted`` by the matcher: a sure *name*, and the only
    entry the evidence is then weighed for. Within ``loose`` (default `DEFAULT_LOOSE`, 1.5)
    the entry is only *named*: a notification may say whose car it probably is.

Ambiguity
    Every registry entry within ``loose`` of the read is a contender. The best contender wins
    only if every other contender is at least ``margin`` (default `DEFAULT_MARGIN`, 1.0: one
    real edit) farther from the read; otherwise the read is *ambiguous*: nobody is named,
    ``entry_key`` is None and ``contenders`` lists the entries it could be. An exact match
    beats near entries but not a look-alike entry (the read is as consistent with it); the
    most specific entry that matches the read *exactly* speaks for it: a plate beats a pattern
    that matches it, a narrower pattern a broader one (`pattern_contains`).

    >>> registry = [Candidate("AB10CDE", "alice"), Candidate("AB1OCDE", "bob")]
    >>> match_plate("AB10CDE", registry).reason
    <MatchReason.AMBIGUOUS: 'ambiguous'>
    >>> fleet = [Candidate("AYO*", "fleet"), Candidate("AYO9034", "alice")]
    >>> match_plate("AYO9034", fleet).entry_key, match_plate("AYO1234", fleet).entry_key
    ('alice', 'fleet')

Blocked plates
    Closeness to a blocked entry is generous, because failing safe there costs nothing but a
    shut gate: mark blocked entries ``Candidate(..., blocked=True)`` and ``result.blocked``
    lists every one the read could be, whatever else it matches: a blocked plate within
    `BLOCKED_REACH` (one real edit, one swap of two neighbouring characters, or two
    look-alikes), and a blocked pattern that matches the read, even where a narrower entry
    inside it matches too.

    >>> result = match_plate("FBZ9581", [Candidate("FZB9581", "mallory", blocked=True)])
    >>> [(entry.key, entry.distance) for entry in result.blocked]  # two letters swapped
    [('mallory', 1.0)]

Exact ownership
    `ExactIndex` answers, for any plate, which entries speak for it exactly (the plate itself,
    the most specific patterns matching it): the evidence rule asks it for every plausible
    reading of an image.

"""

from __future__ import annotations

from dataclasses import dataclass
from enum import StrEnum
from fnmatch import fnmatchcase
import math
from typing import TYPE_CHECKING, Final

from .distance import (
    INDEL_COST,
    LOOKALIKE_COST,
    LOOKALIKE_GROUPS,
    SUBSTITUTION_COST,
    TRANSPOSITION_COST,
    plate_distance,
    weighted_distance,
)
from .entries import Candidate, Contender, ExactIndex, most_specific, prepare_entry
from .patterns import (
    MAX_PLATE_LENGTH,
    MIN_PATTERN_LITERALS,
    WILDCARDS,
    matches_pattern,
    normalize_plate,
    pattern_contains,
    patterns_overlap,
    validate_pattern,
)

if TYPE_CHECKING:
    from collections.abc import Iterable

__all__ = [
    "INDEL_COST",
    "LOOKALIKE_COST",
    "LOOKALIKE_GROUPS",
    "MAX_PLATE_LENGTH",
    "MIN_PATTERN_LITERALS",
    "SUBSTITUTION_COST",
    "TRANSPOSITION_COST",
    "WILDCARDS",
    "Candidate",
    "Contender",
    "ExactIndex",
    "matches_pattern",
    "normalize_plate",
    "pattern_contains",
    "patterns_overlap",
    "plate_distance",
    "validate_pattern",
]
"""Besides this module's own names, what it re-exports from `distance.py` and `patterns.py`."""

DEFAULT_STRICT: Final = 0.5
"""Default largest distance that may grant access: the exact plate or one look-alike."""
DEFAULT_LOOSE: Final = 1.5
"""Default largest distance that may name a car: e.g. one real mistake and one look-alike."""
DEFAULT_MARGIN: Final = 1.0
"""Default lead, one real edit, the best entry needs over every other contender to be chosen."""
BLOCKED_REACH: Final = 1.0
"""Largest distance, counting a swap of neighbours as one edit, at which a read counts as a
blocked plate whatever else it matches: one real edit, one swap or two look-alikes."""


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
        (candidate.key, prepare_entry(candidate), candidate.blocked) for candidate in candidates
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

    contenders = _contenders(normalised, entries, loose)
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
        explanation = (
            f"The read {normalised} is ambiguous between {listed}: the closest is not "
            f"{margin:g} ahead of the others, so it names nobody."
        )
        return _ambiguous(normalised, explanation, contenders, blocked)

    return _named(normalised, best, contenders, blocked, (strict, loose))


def _contenders(
    read: str, entries: list[tuple[str, tuple[str, bool], bool]], loose: float
) -> tuple[Contender, ...]:
    """Return the entries within `loose` of the read, the most specific ones, closest first."""
    near: list[Contender] = []
    for key, (plate, wildcard), _ in entries:
        if wildcard:
            if fnmatchcase(read, plate):
                near.append(Contender(key, plate, 0.0, wildcard))
        elif (distance := weighted_distance(read, plate, cutoff=loose)) <= loose:
            near.append(Contender(key, plate, distance, wildcard))
    best_of_key: dict[str, Contender] = {}
    for entry in most_specific(near):
        previous = best_of_key.get(entry.key)
        if previous is None or entry.distance < previous.distance:
            best_of_key[entry.key] = entry
    return tuple(sorted(best_of_key.values(), key=lambda entry: (entry.distance, entry.key)))


def _named(
    normalised: str,
    best: Contender,
    contenders: tuple[Contender, ...],
    blocked: tuple[Contender, ...],
    thresholds: tuple[float, float],
) -> MatchResult:
    """Build the result of a read that names `best` (sure within ``strict``, else near)."""
    strict, loose = thresholds
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
            distance = weighted_distance(read, plate, transpositions=True)
        previous = reached.get(key)
        if distance <= BLOCKED_REACH and (previous is None or distance < previous.distance):
            reached[key] = Contender(key, plate, distance, wildcard)
    return tuple(sorted(reached.values(), key=lambda entry: (entry.distance, entry.key)))


def _ambiguous(
    read: str,
    explanation: str,
    contenders: tuple[Contender, ...],
    blocked: tuple[Contender, ...],
) -> MatchResult:
    """Build the result for a read that two or more entries are too close to tell apart."""
    return MatchResult(
        read=read,
        entry_key=None,
        matched_plate=None,
        distance=None,
        granted=False,
        named=False,
        ambiguous=True,
        reason=MatchReason.AMBIGUOUS,
        explanation=explanation,
        contenders=contenders,
        blocked=blocked,
    )


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
