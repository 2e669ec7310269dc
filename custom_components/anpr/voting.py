"""Combine the reads of one burst of frames into one answer per vehicle.

A camera sees a passing car in several frames; OCR on any single frame can be wrong (motion
blur, a reflection, a bolt read as a letter). Voting with the per-character confidences lets
the frames outvote each other character by character, so one bad frame cannot win:

1. Reads are grouped per vehicle: a read joins the group whose plates it resembles (small edit
   distance), at most one read per frame per group.
2. Inside a group the reads first vote on the plate's length (weighted by confidence).
3. The reads of the winning length then vote position by position: the confidences of each
   candidate character are summed and the best sum wins.
4. The same reads give the vehicle's evidence for the access decision (`evidence.py`): their
   per-character alternatives averaged (`evidence.combine`), how many frames read exactly the
   voted plate, and whether any of them was flagged incomplete.

Pure Python with no Home Assistant imports, so the rules are easy to test on their own.
"""

from __future__ import annotations

from collections import defaultdict
from dataclasses import dataclass
from typing import TYPE_CHECKING

from .evidence import Alternatives, PlateEvidence, combine

if TYPE_CHECKING:
    from collections.abc import Sequence

    from .api import PlateRead


@dataclass(frozen=True, slots=True)
class VotedPlate:
    """One vehicle's plate as the burst agreed on it."""

    plate: str
    confidence: float
    char_confidences: tuple[float, ...]
    frames: int
    """How many frames saw this vehicle at all."""
    best: PlateRead
    """The single read that agrees with the vote and is most confident (for its crop)."""
    evidence: PlateEvidence
    """What the burst's reads say for the access decision (see the module docstring)."""


def edit_distance(a: str, b: str) -> int:
    """Levenshtein distance: insertions, deletions and substitutions each cost one."""
    if len(a) < len(b):
        a, b = b, a
    previous = list(range(len(b) + 1))
    for i, char_a in enumerate(a, start=1):
        current = [i]
        for j, char_b in enumerate(b, start=1):
            current.append(
                min(previous[j] + 1, current[j - 1] + 1, previous[j - 1] + (char_a != char_b))
            )
        previous = current
    return previous[-1]


def _allowed_distance(a: str, b: str) -> int:
    """How many edits two reads of the same plate may differ by (one in three characters)."""
    return max(1, min(len(a), len(b)) // 3)


def similar(a: str, b: str) -> bool:
    """Whether two reads plausibly show the same plate."""
    return edit_distance(a, b) <= _allowed_distance(a, b)


def vote(frames: Sequence[Sequence[PlateRead]]) -> list[VotedPlate]:
    """Return one voted plate per vehicle seen in a burst, most confident first.

    `frames` holds each frame's reads (best first, as the service sends them). Reads with an
    empty plate are ignored.
    """
    groups: list[list[PlateRead]] = []
    for reads in frames:
        taken: set[int] = set()
        for read in reads:
            if not read.normalized:
                continue
            index = _best_group(groups, read, taken)
            if index is None:
                groups.append([read])
                taken.add(len(groups) - 1)
            else:
                groups[index].append(read)
                taken.add(index)
    results = [_vote_group(group) for group in groups]
    results.sort(key=lambda result: (result.frames, result.confidence), reverse=True)
    return results


def _best_group(groups: list[list[PlateRead]], read: PlateRead, taken: set[int]) -> int | None:
    """Return the index of the group `read` belongs to, or None for a new vehicle."""
    best: tuple[int, int] | None = None
    for index, group in enumerate(groups):
        if index in taken:
            continue
        distances = [
            distance
            for other in group
            if (distance := edit_distance(read.normalized, other.normalized))
            <= _allowed_distance(read.normalized, other.normalized)
        ]
        if distances and (best is None or min(distances) < best[0]):
            best = (min(distances), index)
    return None if best is None else best[1]


def _vote_group(group: Sequence[PlateRead]) -> VotedPlate:
    """Vote on length, then on each character, inside one vehicle's reads."""
    length_weight: dict[int, float] = defaultdict(float)
    for read in group:
        length_weight[len(read.normalized)] += read.confidence
    # Ties go to the length read most often, then to the longer plate (a dropped character is
    # a more common OCR mistake than an invented one).
    length = max(
        length_weight,
        key=lambda n: (
            length_weight[n],
            sum(len(r.normalized) == n for r in group),
            n,
        ),
    )
    voters = [read for read in group if len(read.normalized) == length]
    chars: list[str] = []
    char_confidences: list[float] = []
    for position in range(length):
        scores: dict[str, float] = defaultdict(float)
        for read in voters:
            scores[read.normalized[position]] += read.char_confidences[position]
        winner = max(scores, key=lambda char: (scores[char], char))
        chars.append(winner)
        # Dissent lowers the confidence: a character every frame agrees on keeps its mean
        # confidence, one that half the frames read differently gets at most half.
        char_confidences.append(scores[winner] / len(voters))
    plate = "".join(chars)
    length_share = length_weight[length] / sum(length_weight.values())
    confidence = sum(char_confidences) / length * length_share
    best = max(
        voters,
        key=lambda read: (read.normalized == plate, read.crop is not None, read.confidence),
    )
    return VotedPlate(
        plate=plate,
        confidence=round(confidence, 4),
        char_confidences=tuple(round(c, 4) for c in char_confidences),
        frames=len(group),
        best=best,
        evidence=PlateEvidence(
            plate,
            combine([(read.normalized, alternatives_of(read)) for read in voters], plate),
            frames=sum(read.normalized == plate for read in voters),
            incomplete=any(read.incomplete for read in voters),
        ),
    )


def alternatives_of(read: PlateRead) -> Alternatives:
    """Return a read's alternatives as the evidence wants them: (character, probability)."""
    return tuple(tuple((alt.char, alt.p) for alt in position) for position in read.alternatives)
