"""The access decision: what a plate read means for the home, and why.

Everything else in the integration asks `classify` and nothing else: the watchers for each
read, and the gate again at the moment it would open (the registry or a pass may have changed
since the read). The plate matcher (`matching.py`) says which registry entry a read is, and
how sure that is; this module adds what the entry's category and pass allow:

* **blocked**: the best candidate within the naming threshold is a blocked entry, the read
  is ambiguous and one of the entries it could be is blocked, or the read is within the
  matcher's generous blocked reach (one real edit or one swap of neighbouring characters from
  a blocked plate, or matched by a blocked pattern), whatever else it matches. Never granted;
  a near read of a blocked plate is still suspicious, and failing safe costs only a shut gate.
* **resident**: a unique match within the strict threshold (exact, one look-alike, or a
  wildcard pattern) **that the image's evidence supports** (`evidence.supports`: every
  plausible reading of the image is that entry, see `evidence.py`). Always granted.
* **visitor**: a unique strict match of a visitor entry, supported by the evidence in the same
  way. Granted only while its pass is valid (inside its window, entries left). A visitor whose
  pass expired or is used up, or who has no pass, is still reported as a visitor, by name, so
  the household is told who is at the gate, but `access_granted` is false: the car is known,
  the permission is not there.
* **unknown**: anything else. A read near a resident or visitor (beyond the strict threshold,
  or within it but without the evidence: another plausible reading is a different plate, the
  read is incomplete, a text-only read is not exact, a short plate lacks its second frame)
  names the probable owner but stays unknown: the category of a vehicle is only claimed when
  the read is certain enough to open the gate for it, so "resident" always means "may enter".
  An ambiguous read names nobody.

`reason` is one short sentence for notifications and the logbook; `decision` is the full
explanation (the matcher's sentence: which entry, which distance, which thresholds, plus the
verdict on category and pass). The matcher only says how sure the read is; the verdict, the
one place that speaks of access, ends every decision: "access granted." or "access denied.".

Every plate source asks the same question: a camera burst passes the voted `PlateEvidence`
(the alternatives averaged over its frames), a text-only source passes the plate text (or a
`PlateEvidence` without alternatives), which opens only on an exact read.
"""

from __future__ import annotations

from dataclasses import dataclass, replace
from typing import TYPE_CHECKING

from homeassistant.core import callback
from homeassistant.util import dt as dt_util

from .const import Category
from .evidence import PlateEvidence, Support, supports
from .matching import Contender, MatchReason, MatchResult, match_plate
from .patterns import normalize_plate

if TYPE_CHECKING:
    from collections.abc import Mapping
    from datetime import datetime

    from .registry import PlateRegistry, RegisteredPlate


@dataclass(frozen=True, slots=True)
class Classification:
    """The decision for one plate and why it was made."""

    category: Category
    owner: str | None = None
    """Who the vehicle belongs to (or probably belongs to), when the registry knows."""
    matched_plate: str | None = None
    """The registry's plate or pattern the read was matched to (may differ from a misread)."""
    reason: str = ""
    """A short human-readable explanation, shown in the logbook and the bus event."""
    access_granted: bool = False
    """Whether the vehicle may enter: the only thing a gate may be opened on."""
    decision: str = ""
    """The full explanation: matcher result, thresholds, category and pass."""
    match: MatchReason | None = None
    """How the read matched the registry (exact, look-alike, wildcard, near, ...)."""
    distance: float | None = None
    """Weighted edit distance between the read and `matched_plate`."""
    evidence: str | None = None
    """The evidence verdict (`evidence.Verdict`) for the named entry, when one was weighed."""


def _how(result: MatchResult) -> str:
    """Name the kind of match in a few words."""
    if result.reason is MatchReason.EXACT:
        return "exact match"
    if result.reason is MatchReason.WILDCARD:
        return "wildcard match"
    kind = "look-alike" if result.reason is MatchReason.LOOKALIKE else "near"
    return f"{kind} match, distance {result.distance:g}"


def as_evidence(read: str | PlateEvidence) -> PlateEvidence:
    """Return a read as evidence: plain text is a text-only read of one frame."""
    if isinstance(read, PlateEvidence):
        return read
    return PlateEvidence(normalize_plate(read))


@callback
def classify(
    registry: PlateRegistry, read: str | PlateEvidence, now: datetime | None = None
) -> Classification:
    """Decide what the read is, at `now` (for passes), using `registry`.

    `read` is the evidence of a read, or just its text (a text-only source: exact reads only).
    """
    now = now or dt_util.utcnow()
    evidence = as_evidence(read)
    plate = read if isinstance(read, str) else evidence.plate
    result = match_plate(evidence.plate, registry.candidates)
    entries = registry.plates

    if (suspect := _ambiguous_blocked(result, entries)) is not None:
        return suspect
    named = entries[result.entry_key] if result.entry_key is not None else None
    if named is not None and named.category is Category.BLOCKED:
        return _decided(
            result,
            named,
            (Category.BLOCKED, False),
            reason=f"Blocked plate {named.plate} ({named.name}), {_how(result)}: access denied",
            verdict=f"{named.plate} is blocked ({named.name}): access denied.",
        )
    if result.blocked:
        return _within_blocked_reach(result, entries[result.blocked[0].key], result.blocked[0])

    if result.ambiguous:
        could_be = " or ".join(
            f"{contender.plate} ({entries[contender.key].name})" for contender in result.contenders
        )
        return Classification(
            category=Category.UNKNOWN,
            reason=f"Ambiguous read {result.read}: could be {could_be}; access denied",
            decision=f"{result.explanation} Unknown vehicle: access denied.",
            match=result.reason,
        )

    if result.entry_key is None:
        return Classification(
            category=Category.UNKNOWN,
            reason=f"{result.read or plate} is not in the plate registry",
            decision=f"{result.explanation} Unknown vehicle: access denied.",
            match=result.reason,
        )

    return _classify_entry(registry, result, entries[result.entry_key], evidence, now)


def _ambiguous_blocked(
    result: MatchResult, entries: Mapping[str, RegisteredPlate]
) -> Classification | None:
    """Classify an ambiguous read that could be a blocked entry as that blocked car."""
    if not result.ambiguous or not (
        blocked := [
            contender
            for contender in result.contenders
            if entries[contender.key].category is Category.BLOCKED
        ]
    ):
        return None
    suspect = entries[blocked[0].key]
    return Classification(
        category=Category.BLOCKED,
        owner=suspect.name,
        matched_plate=suspect.plate,
        reason=(
            f"Ambiguous read {result.read} that could be the blocked plate "
            f"{suspect.plate} ({suspect.name}): access denied"
        ),
        decision=(
            f"{result.explanation} One of them, {suspect.plate}, is blocked: the "
            "read is treated as the blocked car, access denied."
        ),
        match=result.reason,
        distance=blocked[0].distance,
    )


def _classify_entry(
    registry: PlateRegistry,
    result: MatchResult,
    entry: RegisteredPlate,
    evidence: PlateEvidence,
    now: datetime,
) -> Classification:
    """Classify a read the matcher named `entry` for: weigh the evidence, then the category."""
    if not result.granted:
        return _decided(
            result,
            entry,
            (Category.UNKNOWN, False),
            reason=(
                f"Probably {entry.name}'s {entry.plate}, {_how(result)}: too uncertain, "
                "access denied"
            ),
            verdict=(
                f"The read is too far from {entry.plate} ({entry.name}, "
                f"{entry.category.value}) to be sure: unknown vehicle, access denied."
            ),
        )
    support = supports(
        evidence, entry.plate, lambda reading: registry.index.owners(reading) == {entry.plate}
    )
    if not support.supported:
        return _unsupported(result, entry, support)
    if entry.category is Category.RESIDENT:
        decided = _decided(
            result,
            entry,
            (Category.RESIDENT, True),
            reason=f"Resident {entry.name} ({entry.plate}), {_how(result)}: access granted",
            verdict=(
                f"{support.explanation} {entry.plate} belongs to the resident {entry.name}: "
                "access granted."
            ),
        )
    else:
        granted = entry.active(now)
        pass_text = entry.describe_pass(now)
        outcome = "access granted" if granted else "access denied"
        decided = _decided(
            result,
            entry,
            (Category.VISITOR, granted),
            reason=f"Visitor {entry.name} ({entry.plate}), {_how(result)}, {pass_text}: {outcome}",
            verdict=(
                f"{support.explanation} {entry.plate} is the visitor {entry.name}, who "
                f"{pass_text}: {outcome}."
            ),
        )
    return replace(decided, evidence=support.verdict.value)


def _unsupported(result: MatchResult, entry: RegisteredPlate, support: Support) -> Classification:
    """Classify a read close to an entry that the image's evidence does not support."""
    classification = _decided(
        result,
        entry,
        (Category.UNKNOWN, False),
        reason=(
            f"Probably {entry.name}'s {entry.plate}, {_how(result)}, but the image does not "
            "prove it: access denied"
        ),
        verdict=(
            f"{support.explanation} Not sure enough that this is {entry.plate} ({entry.name}, "
            f"{entry.category.value}): unknown vehicle, access denied."
        ),
    )
    return replace(classification, evidence=support.verdict.value)


def _within_blocked_reach(
    result: MatchResult, suspect: RegisteredPlate, reached: Contender
) -> Classification:
    """Classify a read that could be a blocked car although it matches something else better."""
    if reached.wildcard:
        how = f"matches the blocked pattern {suspect.plate} ({suspect.name})"
    else:
        how = (
            f"is within one character or one swap of the blocked plate {suspect.plate} "
            f"({suspect.name}), distance {reached.distance:g}"
        )
    return Classification(
        category=Category.BLOCKED,
        owner=suspect.name,
        matched_plate=suspect.plate,
        reason=f"The read {result.read} {how}: access denied",
        decision=(
            f"{result.explanation} But the read {how}, so it is treated as the blocked car, "
            "access denied."
        ),
        match=result.reason,
        distance=reached.distance,
    )


def _decided(
    result: MatchResult,
    entry: RegisteredPlate,
    outcome: tuple[Category, bool],
    *,
    reason: str,
    verdict: str,
) -> Classification:
    """Build the classification of a read matched to one registry entry.

    `outcome` is the category and whether access is granted.
    """
    category, granted = outcome
    return Classification(
        category=category,
        owner=entry.name,
        matched_plate=entry.plate,
        reason=reason,
        access_granted=granted,
        decision=f"{result.explanation} {verdict}",
        match=result.reason,
        distance=result.distance,
    )
