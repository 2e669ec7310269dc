"""Frigate's MQTT messages about licence plates, parsed; no Home Assistant imports.

Frigate (0.16 and later) announces a recognised plate on two topics under its
`mqtt.topic_prefix` (`frigate` by default), read here from Frigate's documentation
(`docs/docs/integrations/mqtt.md`, `docs/docs/configuration/license_plate_recognition.md`)
and its code (blakeblackshear/frigate, `frigate/data_processing/common/license_plate/mixin.py`,
`frigate/track/tracked_object.py`, `frigate/track/object_processing.py`):

* `<prefix>/tracked_object_update`, one message per recognition of a plate on a tracked car:
  `{"type": "lpr", "id": "<event id>", "name": <known name or null>, "plate": "123ABC",
  "score": 0.95, "camera": "driveway_cam", "timestamp": ..., "plate_box": [...]}`. The same
  topic carries other `type`s (`description`, `face`, `classification`), ignored here.
* `<prefix>/events`, `{"type": "new"|"update"|"end", "before": {...}, "after": {...}}`, where
  `after` is the tracked object with `camera`, `id` and `recognized_license_plate`. The
  documentation shows it as a string with a separate `recognized_license_plate_score`; the
  code (`TrackedObject.to_dict` copies `obj_data`, where `set_object_attribute` stores
  `(plate, score)`) sends it as a `[plate, score]` pair. Both shapes are read.

A known plate's name (Frigate's `sub_label`) is not a plate and is not used: the plate itself is
on the tracked-object update either way. Anything that is not one of these shapes raises
`NotAPlate` with the reason, for a debug line; it never raises anything else.
"""

from __future__ import annotations

from dataclasses import dataclass
import json
from typing import Any

TRACKED_OBJECT_UPDATE = "tracked_object_update"
EVENTS = "events"
SNAPSHOT_PATH = "/api/events/{event_id}/snapshot.jpg"
"""Frigate's API path of a tracked object's snapshot (`frigate/api/media.py`,
`docs/docs/configuration/snapshots.md`); it serves objects still being tracked too."""


class NotAPlate(ValueError):  # noqa: N818 - names what the message is not
    """The MQTT message is not a Frigate plate recognition; the text says why."""


@dataclass(frozen=True, slots=True)
class FrigatePlate:
    """One plate Frigate recognised."""

    camera: str
    """Frigate's camera name (not a Home Assistant entity id)."""
    plate: str
    """The plate as Frigate wrote it (the junk filter comes after)."""
    score: float | None
    event_id: str | None
    """Frigate's tracked-object id, for its snapshot."""


def parse_message(topic: str, payload: str | bytes | bytearray, prefix: str) -> FrigatePlate:
    """Return the plate in a message on `topic`, or raise `NotAPlate` with the reason."""
    suffix = topic.removeprefix(f"{prefix}/")
    if suffix == TRACKED_OBJECT_UPDATE:
        return parse_tracked_object_update(payload)
    if suffix == EVENTS:
        return parse_event(payload)
    raise NotAPlate(f"topic {topic} is not one of Frigate's plate topics")


def parse_tracked_object_update(payload: str | bytes | bytearray) -> FrigatePlate:
    """Read a `tracked_object_update` message of `type: lpr`."""
    message = _object(_json(payload), "the message")
    if message.get("type") != "lpr":
        raise NotAPlate(f"a tracked object update of type {message.get('type')!r}, not lpr")
    return FrigatePlate(
        camera=_text(message, "camera"),
        plate=_text(message, "plate"),
        score=_score(message.get("score")),
        event_id=_optional_text(message, "id"),
    )


def parse_event(payload: str | bytes | bytearray) -> FrigatePlate:
    """Read the recognised plate of an `events` message's `after` object."""
    after = _object(_object(_json(payload), "the message").get("after"), "`after`")
    recognized = after.get("recognized_license_plate")
    score: Any = after.get("recognized_license_plate_score")
    if isinstance(recognized, list) and len(recognized) == 2:
        recognized, score = recognized
    if recognized is None:
        raise NotAPlate("an event without a recognised plate")
    if not isinstance(recognized, str):
        raise NotAPlate(f"recognized_license_plate is {type(recognized).__name__}, not text")
    return FrigatePlate(
        camera=_text(after, "camera"),
        plate=recognized,
        score=_score(score),
        event_id=_optional_text(after, "id"),
    )


def _json(payload: str | bytes | bytearray) -> object:
    try:
        return json.loads(payload)
    except (ValueError, TypeError) as err:  # UnicodeDecodeError is a ValueError
        raise NotAPlate(f"not JSON: {err}") from err


def _object(value: object, what: str) -> dict[str, Any]:
    if not isinstance(value, dict):
        raise NotAPlate(f"{what} is {type(value).__name__}, not an object")
    return value


def _text(message: dict[str, Any], key: str) -> str:
    value = message.get(key)
    if not isinstance(value, str) or not value:
        raise NotAPlate(f"no {key} text")
    return value


def _optional_text(message: dict[str, Any], key: str) -> str | None:
    value = message.get(key)
    return value if isinstance(value, str) and value else None


def _score(value: object) -> float | None:
    """Frigate's scores are 0-1; anything else is no score."""
    if isinstance(value, bool) or not isinstance(value, int | float):
        return None
    return float(value) if 0 <= value <= 1 else None
