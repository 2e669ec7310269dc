"""Typed view of one plate source's stored options (`options["sources"][source_id]`).

Three kinds besides watched cameras: an entity whose state is a plate, a Frigate camera heard
over MQTT, and a named action source fed by `anpr.report_plate`. Each has the visit settings
of a watched camera (presence hold time, cooldown, gate) and whether its reads may open the
gate at all (`open_gate`).
"""

from __future__ import annotations

from dataclasses import dataclass
from enum import StrEnum
from typing import TYPE_CHECKING, Any

from homeassistant.util import slugify

from ..const import (
    CONF_CONFIDENCE_ATTRIBUTE,
    CONF_COOLDOWN,
    CONF_FRIGATE_CAMERA,
    CONF_FRIGATE_URL,
    CONF_GATE,
    CONF_HOLD_TIME,
    CONF_MIN_CONFIDENCE,
    CONF_OPEN_GATE,
    CONF_PLATE_ATTRIBUTE,
    CONF_SOURCE_ENTITY,
    CONF_SOURCE_KIND,
    CONF_SOURCE_NAME,
    CONF_TOPIC_PREFIX,
    DEFAULT_COOLDOWN,
    DEFAULT_HOLD_TIME,
    DEFAULT_MIN_CONFIDENCE,
    DEFAULT_TOPIC_PREFIX,
)

if TYPE_CHECKING:
    from collections.abc import Mapping


class SourceKind(StrEnum):
    """What reports the plates."""

    ENTITY = "entity"
    FRIGATE = "frigate"
    ACTION = "action"


OPEN_GATE_DEFAULT: dict[SourceKind, bool] = {
    SourceKind.ENTITY: False,
    SourceKind.FRIGATE: True,
    SourceKind.ACTION: False,
}
"""Whether a new source may open the gate. Off for entities and actions: any integration,
template or automation can write any text there, so opening is the user's explicit choice.
Frigate's messages come from its own recognition, with a score, on its own topics."""


def source_id(kind: SourceKind, key: str) -> str:
    """Return a source's id: an entity's id, `frigate:<camera>` or `action:<slug of name>`.

    Entity ids and these never collide (`:` is not allowed in an entity id), so sources and
    watched cameras share one namespace: the `camera` of events and of `anpr.open_gate`.
    """
    if kind is SourceKind.ENTITY:
        return key
    if kind is SourceKind.ACTION:
        return f"action:{slugify(key)}"
    return f"frigate:{key}"


@dataclass(frozen=True, slots=True)
class SourceSettings:
    """One plate source and how its reads are used."""

    source_id: str
    kind: SourceKind
    entity_id: str | None = None
    """The entity whose state is a plate (entity sources)."""
    plate_attribute: str | None = None
    """The entity's attribute holding the plate; None: its state is the plate."""
    confidence_attribute: str | None = None
    """The entity's attribute holding the read's confidence, if it has one."""
    frigate_camera: str | None = None
    """Frigate's camera name, as in its configuration (Frigate sources)."""
    frigate_url: str | None = None
    """Frigate's address, for the plate's snapshot; None: no pictures."""
    topic_prefix: str = DEFAULT_TOPIC_PREFIX
    name: str | None = None
    """The name an automation gives `anpr.report_plate` (action sources)."""
    min_confidence: float = DEFAULT_MIN_CONFIDENCE
    """Reads with a lower confidence are ignored; a read without a confidence is kept."""
    hold_time: int = DEFAULT_HOLD_TIME
    cooldown: int = DEFAULT_COOLDOWN
    gate: str | None = None
    open_gate: bool = False
    """Whether this source's reads may open the gate at all (see `OPEN_GATE_DEFAULT`)."""

    @property
    def title(self) -> str:
        """The source's name as the user sees it (its device's name)."""
        if self.kind is SourceKind.FRIGATE:
            return f"Frigate {self.frigate_camera}"
        return self.name or self.entity_id or self.source_id

    @classmethod
    def from_options(cls, source: str, options: Mapping[str, Any]) -> SourceSettings:
        """Build from one source's stored options, defaulting what is missing."""
        kind = SourceKind(options[CONF_SOURCE_KIND])
        return cls(
            source_id=source,
            kind=kind,
            entity_id=options.get(CONF_SOURCE_ENTITY) or None,
            plate_attribute=options.get(CONF_PLATE_ATTRIBUTE) or None,
            confidence_attribute=options.get(CONF_CONFIDENCE_ATTRIBUTE) or None,
            frigate_camera=options.get(CONF_FRIGATE_CAMERA) or None,
            frigate_url=options.get(CONF_FRIGATE_URL) or None,
            topic_prefix=options.get(CONF_TOPIC_PREFIX) or DEFAULT_TOPIC_PREFIX,
            name=options.get(CONF_SOURCE_NAME) or None,
            min_confidence=float(options.get(CONF_MIN_CONFIDENCE, DEFAULT_MIN_CONFIDENCE)),
            hold_time=int(options.get(CONF_HOLD_TIME, DEFAULT_HOLD_TIME)),
            cooldown=int(options.get(CONF_COOLDOWN, DEFAULT_COOLDOWN)),
            gate=options.get(CONF_GATE) or None,
            open_gate=bool(options.get(CONF_OPEN_GATE, OPEN_GATE_DEFAULT[kind])),
        )
