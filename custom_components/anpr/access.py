"""The access decision: what a plate read means for the home.

Everything else in the integration asks `classify` and nothing else, so the plate registry
(residents, visitors, blocked plates, fuzzy matching of misreads) can replace this one function
without touching the watchers, entities or events. Until the registry exists every plate is
`unknown`.
"""

from __future__ import annotations

from dataclasses import dataclass

from homeassistant.core import HomeAssistant, callback

from .const import Category


@dataclass(frozen=True, slots=True)
class Classification:
    """The decision for one plate and why it was made."""

    category: Category
    owner: str | None = None
    """Who the vehicle belongs to, when the registry knows."""
    matched_plate: str | None = None
    """The registry's plate the read was matched to (may differ from a misread)."""
    reason: str = ""
    """A short human-readable explanation, shown in the logbook and the bus event."""


@callback
def classify(hass: HomeAssistant, plate: str) -> Classification:
    """Decide what `plate` is. Without a plate registry nothing is known about any plate."""
    del hass  # the registry will be looked up through hass
    return Classification(
        category=Category.UNKNOWN,
        reason=f"{plate} is not in the plate registry",
    )
