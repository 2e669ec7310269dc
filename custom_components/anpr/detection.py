"""A detection: one vehicle a plate source saw, after voting and classification.

Its own module because every output reads it (the bus event, the event entity, the sensors,
the `anpr.scan` response, the history, the gate) and every plate source makes it (the camera
watcher today; text-only sources later), so none of them has to import another to know its
shape. `as_dict` is the one place a detection becomes data; each output picks its keys.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any

from .const import (
    ATTR_ACCESS_GRANTED,
    ATTR_CAMERA,
    ATTR_CATEGORY,
    ATTR_CONFIDENCE,
    ATTR_DECISION,
    ATTR_DISTANCE,
    ATTR_FRAMES,
    ATTR_MATCH,
    ATTR_MATCHED_PLATE,
    ATTR_OWNER,
    ATTR_PLATE,
    ATTR_REASON,
    ATTR_TIME,
)

if TYPE_CHECKING:
    from collections.abc import Iterable
    from datetime import datetime

    from .access import Classification
    from .const import Category


@dataclass(frozen=True, slots=True)
class Detection:
    """One vehicle a scan saw at one camera, after voting and classification."""

    camera: str
    """The entity that saw it (a camera today)."""
    plate: str
    confidence: float
    char_confidences: tuple[float, ...]
    classification: Classification
    time: datetime
    frames: int
    """How many frames of the burst showed this vehicle."""
    new_visit: bool
    """True for the first sighting of a visit (its event fires), False for a repeat."""
    visit_id: int
    """Identifies the visit (a gate opens once per visit; its history record is marked)."""
    crop: bytes | None = field(default=None, repr=False)

    @property
    def category(self) -> Category:
        """The access decision's category."""
        return self.classification.category

    def as_dict(self, keys: Iterable[str], *, skip_empty: bool = False) -> dict[str, Any]:
        """Return the detection as data: the values of `keys`, in that order.

        The one mapping from a detection to the attribute names outputs use (`const.ATTR_*`);
        `skip_empty` leaves out keys without a value (None or empty: the event entity's
        optional attributes).
        """
        classification = self.classification
        values: dict[str, Any] = {
            ATTR_CAMERA: self.camera,
            ATTR_PLATE: self.plate,
            ATTR_CONFIDENCE: self.confidence,
            ATTR_TIME: self.time.isoformat(),
            ATTR_CATEGORY: classification.category.value,
            ATTR_OWNER: classification.owner,
            ATTR_MATCHED_PLATE: classification.matched_plate,
            ATTR_REASON: classification.reason,
            ATTR_FRAMES: self.frames,
            ATTR_ACCESS_GRANTED: classification.access_granted,
            ATTR_DECISION: classification.decision,
            ATTR_MATCH: classification.match.value if classification.match else None,
            ATTR_DISTANCE: classification.distance,
        }
        return {key: values[key] for key in keys if values[key] or not skip_empty}
