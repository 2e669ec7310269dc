"""The gate of a plate source: a camera's gate checks, behind the source's permission.

A source whose "allowed to open the gate" option is off (the default for entities and actions)
names vehicles and notifies, but `anpr.open_gate` refuses to open for its reads, saying why.
`force: true` (a person at the gate, from a notification) still opens: it does not rely on the
read. Every other check is the camera's (`gate.GateController`), on the source's visits.
"""

from __future__ import annotations

from typing import TYPE_CHECKING

from homeassistant.exceptions import ServiceValidationError

from ..const import DOMAIN
from ..matching import MatchReason

if TYPE_CHECKING:
    from homeassistant.core import Context

    from ..detection import Detection
    from ..gate import GateController, GateOpening
    from .runtime import SourceRuntime

EXACT_READS = frozenset({MatchReason.EXACT, MatchReason.WILDCARD})
"""How a text read may match to open: the very characters of an entry (or of a pattern)."""


def text_read_may_open(detection: Detection | None) -> bool:
    """Return whether a text read is exact enough to open: the one place that decides it.

    A text read has no evidence per character, so a look-alike or near read never opens, even
    where the classification (made for a camera's read) would let it in. Once the access
    decision classifies text-only reads itself (exact only), this only agrees with it.
    """
    if detection is None or not detection.classification.access_granted:
        return True  # nothing granted: the gate's own checks refuse, saying why
    return detection.classification.match in EXACT_READS


class SourceGate:
    """Opens a source's gate if the source may open it, through the camera's checks."""

    def __init__(self, source: SourceRuntime, controller: GateController) -> None:
        """Guard `controller` (built on `source`) with the source's permission."""
        self.source = source
        self.controller = controller

    async def async_open(
        self, *, plate: str | None = None, force: bool = False, context: Context | None = None
    ) -> GateOpening:
        """Open the gate for the source's latest visit, or refuse and say why."""
        if not force and not self.source.settings.open_gate:
            raise ServiceValidationError(
                translation_domain=DOMAIN,
                translation_key="source_may_not_open",
                translation_placeholders={"source": self.source.entity_id},
            )
        if not force and not text_read_may_open(self.source.last_detection):
            assert self.source.last_detection is not None  # noqa: S101 - see the function
            raise ServiceValidationError(
                translation_domain=DOMAIN,
                translation_key="text_read_not_exact",
                translation_placeholders={
                    "source": self.source.entity_id,
                    "plate": self.source.last_detection.plate,
                },
            )
        return await self.controller.async_open(plate=plate, force=force, context=context)
