"""The "Visitor passes" calendar: every visitor pass of the entry as a calendar event.

A visitor pass is a time window, and the calendar is where people look at and create time
windows in Home Assistant. The calendar is a view of the plate registry (`registry.py`), never
a second store: every event is a visitor entry's pass, and every change made in the calendar
goes through the registry's own functions, with their checks (plate normalisation, plates
too similar to another, a pass for a resident or blocked plate, an end in the past).

Events and passes
    The summary is "Grandma (XY98ZZZ)"; the description holds the pass's notes, the entries
    left and who created the pass. The event's uid is the entry's `uid`, which stays the same
    when the plate or the window changes. A pass whose start and end are both local midnight
    shows as an all-day event, and an all-day event covers its days in Home Assistant's time
    zone, up to the end of the last day. Expired passes stay in the calendar for as long as
    the registry keeps them (`PASS_PURGE_AFTER`).

Creating, editing, deleting
    A new event issues a pass (unlimited entries) for the plate found in its text:
    `parse_plate` says which forms are understood. Text without a plate is refused with a
    translated error, never dropped. A new event for a visitor whose pass has not ended yet
    is refused too (edit that event instead): a visitor has one pass at a time, and a new
    event must not silently move another. Editing an event edits the pass (plate, name,
    window, notes; the entries left stay); deleting it removes the visitor entry, as the
    purge does once a pass is over. Passes do not repeat: recurring events are refused.

Who created a pass
    The user of the action call (`calendar.create_event`), or of the calendar UI's websocket
    connection, is recorded by name in the pass (`created_by`).

The calendar stays available while the inference service is down: passes are the
registry's, and an automation reminding someone of a pass must not miss it because the
service was restarting.
"""

from __future__ import annotations

import datetime as dt
import re
from typing import TYPE_CHECKING, Any, Final

from homeassistant.components.calendar import (
    CalendarEntity,
    CalendarEntityDescription,
    CalendarEvent,
)
from homeassistant.components.calendar.const import (
    EVENT_DESCRIPTION,
    EVENT_END,
    EVENT_RRULE,
    EVENT_START,
    EVENT_SUMMARY,
    CalendarEntityFeature,
)
from homeassistant.components.websocket_api.connection import current_connection
from homeassistant.core import callback
from homeassistant.exceptions import ServiceValidationError
from homeassistant.util import dt as dt_util

from .const import DOMAIN, Category
from .entity import AnprServiceEntity
from .registry import normalise_plate_input
from .services import async_user_name

if TYPE_CHECKING:
    from collections.abc import Iterator

    from homeassistant.core import Context, HomeAssistant
    from homeassistant.helpers.entity_platform import AddConfigEntryEntitiesCallback

    from .coordinator import AnprHealthCoordinator
    from .registry import PlateRegistry, RegisteredPlate
    from .runtime import AnprConfigEntry

# The calendar only reads the registry; nothing is polled.
PARALLEL_UPDATES = 0

CALENDAR: Final = CalendarEntityDescription(key="visitor_passes", translation_key="visitor_passes")

_PARENTHESISED: Final = re.compile(r"\(([^()]*)\)")
_LABELLED: Final = re.compile(r"^\s*(?:licen[cs]e\s+)?plate\s*:\s*(?P<plate>\S.*?)\s*$", re.I)
_PASS_LINE: Final = re.compile(
    r"^(?:Unlimited entries|\d+ of \d+ entries left)(?:, created by .+)?\.$"
)
"""The line the calendar writes first in a description (read back, it is not a note)."""
_SEPARATORS: Final = " \t-,:;"


async def async_setup_entry(
    hass: HomeAssistant,
    entry: AnprConfigEntry,
    async_add_entities: AddConfigEntryEntitiesCallback,
) -> None:
    """Add the entry's visitor-pass calendar."""
    data = entry.runtime_data
    async_add_entities([AnprVisitorPassCalendar(data.coordinator, data.registry)])


# --- text to plate ------------------------------------------------------------------------


def _in_brackets(text: str, current: str | None) -> bool:
    """Whether bracketed text is taken for a plate: it has a digit, or is the pass's plate.

    Letters alone in brackets are a remark ("Grandma (mum's mum)"), except when they are the
    plate of the pass being edited: its own summary, "Gran (GRANDMA)", must read back.
    """
    if any(character.isdigit() for character in text):
        return True
    try:
        return normalise_plate_input(text) == current
    except ServiceValidationError:
        return False


def _bare_plate(word: str) -> bool:
    """Whether a word, outside brackets, is taken for a plate: letters and digits both.

    A word of letters only is a name ("Grandma"), one of digits only a number ("Room 12").
    """
    characters = [character for character in word if character.isalnum()]
    return any(c.isdigit() for c in characters) and any(c.isalpha() for c in characters)


def _clean(text: str) -> str:
    return " ".join(text.split()).strip(_SEPARATORS)


def _plate_in_summary(summary: str, current: str | None) -> tuple[str, str] | None:
    """Return the plate and the rest (the name) of a summary, or None."""
    # The last bracket with a plate: the calendar writes the plate last, after the name.
    for match in reversed(list(_PARENTHESISED.finditer(summary))):
        if _in_brackets(match.group(1), current):
            return match.group(1), summary[: match.start()] + summary[match.end() :]
    words = _PARENTHESISED.sub(" ", summary).split()
    if words and _bare_plate(words[-1]):
        head, _, tail = summary.rpartition(words[-1])
        return words[-1], head + tail
    return None


def _plate_in_description(description: str) -> str | None:
    """Return the plate of a description's "Plate: …" line or plate-only line, or None."""
    for line in description.splitlines():
        if match := _LABELLED.match(line):
            return match.group("plate")
        words = line.split()
        if len(words) == 1 and _bare_plate(words[0]):
            return words[0]
    return None


def parse_plate(
    summary: str, description: str | None, current: str | None = None
) -> tuple[str, str]:
    """Return the normalised plate and the visitor's name written in an event.

    Understood, in this order:

    * a plate in brackets in the summary, spaces and dashes allowed, with at least one
      digit: "Grandma (XY-98 ZZZ)"; the rest of the summary is the name; when an event is
      edited, its pass's plate (`current`) in brackets too, whatever it is made of;
    * the summary's last word, when it has letters and digits: "Grandma XY98ZZZ", or the
      plate alone, "XY98ZZZ" (then the plate is the name too);
    * in the description, a line "Plate: XY98 ZZZ" (any plate, letters-only too) or a line
      that is one word of letters and digits; the summary is then the name.

    Raises a translated `ServiceValidationError` when there is no plate, and the registry's
    own error when the plate is invalid (too long, say).
    """
    found = _plate_in_summary(summary, current)
    if found is None and description and (written := _plate_in_description(description)):
        found = written, summary
    if found is None:
        raise ServiceValidationError(
            translation_domain=DOMAIN,
            translation_key="calendar_no_plate",
            translation_placeholders={"summary": summary},
        )
    plate = normalise_plate_input(found[0])
    return plate, _clean(found[1]) or plate


def _notes(description: str | None) -> str | None:
    """Return the notes of an event's description: without the line the calendar wrote."""
    lines = [line for line in (description or "").splitlines() if not _PASS_LINE.match(line)]
    return "\n".join(lines).strip() or None


def _window(
    start: dt.date | dt.datetime, end: dt.date | dt.datetime
) -> tuple[dt.datetime, dt.datetime]:
    """Return an event's start and end as UTC times; dates are whole local days."""
    if isinstance(start, dt.datetime) and isinstance(end, dt.datetime):
        return dt_util.as_utc(dt_util.as_local(start)), dt_util.as_utc(dt_util.as_local(end))
    first = dt_util.start_of_local_day(start)
    # The end date is exclusive (as in iCalendar); a one-day event may give the same date.
    last = dt_util.start_of_local_day(max(end, start + dt.timedelta(days=1)))
    return dt_util.as_utc(first), dt_util.as_utc(last)


# --- pass to event ------------------------------------------------------------------------


def _is_midnight(value: dt.datetime) -> bool:
    return dt_util.as_local(value).time() == dt.time()


def pass_event(entry: RegisteredPlate) -> CalendarEvent:
    """Return a visitor entry's pass as a calendar event."""
    assert entry.valid_until is not None  # noqa: S101 - only passes are events
    start = entry.valid_from or entry.added or entry.valid_until
    end = entry.valid_until
    summary = entry.name if entry.name == entry.plate else f"{entry.name} ({entry.plate})"
    # One line first: the calendar UI shows a description as one paragraph.
    if entry.entries_left is None:
        line = "Unlimited entries"
    else:
        line = f"{entry.entries_left} of {entry.max_entries} entries left"
    if entry.created_by:
        line += f", created by {entry.created_by}"
    description = f"{line}.\n\n{entry.notes}" if entry.notes else f"{line}."
    event_start: dt.date | dt.datetime = dt_util.as_local(start)
    event_end: dt.date | dt.datetime = dt_util.as_local(end)
    if _is_midnight(start) and _is_midnight(end) and start < end:
        event_start = dt_util.as_local(start).date()
        event_end = dt_util.as_local(end).date()
    return CalendarEvent(
        start=event_start,
        end=event_end,
        summary=summary,
        description=description,
        uid=entry.uid,
    )


# --- the calendar -------------------------------------------------------------------------


class AnprVisitorPassCalendar(AnprServiceEntity, CalendarEntity):
    """The visitor passes of one entry, on the service's device."""

    entity_description: CalendarEntityDescription
    _attr_supported_features = (
        CalendarEntityFeature.CREATE_EVENT
        | CalendarEntityFeature.UPDATE_EVENT
        | CalendarEntityFeature.DELETE_EVENT
    )

    def __init__(self, coordinator: AnprHealthCoordinator, registry: PlateRegistry) -> None:
        """Show the passes of `registry`."""
        super().__init__(coordinator, CALENDAR)
        self._registry = registry
        self._call_context: Context | None = None

    @property
    def available(self) -> bool:
        """Always: the passes are the registry's, not the inference service's."""
        return True

    async def async_added_to_hass(self) -> None:
        """Follow the registry as well as the coordinator."""
        await super().async_added_to_hass()
        self.async_on_remove(self._registry.async_add_listener(self.async_write_ha_state))

    def _events(self) -> Iterator[CalendarEvent]:
        for entry in self._registry.plates.values():
            if entry.category is Category.VISITOR and entry.valid_until is not None:
                yield pass_event(entry)

    @property
    def event(self) -> CalendarEvent | None:
        """Return the pass in force now (the earliest begun), or else the next one."""
        now = dt_util.now()
        coming = [event for event in self._events() if event.end_datetime_local > now]
        return min(coming, key=lambda event: event.start_datetime_local, default=None)

    async def async_get_events(
        self,
        hass: HomeAssistant,
        start_date: dt.datetime,
        end_date: dt.datetime,
    ) -> list[CalendarEvent]:
        """Return the passes that overlap the range."""
        self._call_context = None
        return sorted(
            (
                event
                for event in self._events()
                if event.start_datetime_local < end_date and event.end_datetime_local > start_date
            ),
            key=lambda event: event.start_datetime_local,
        )

    # --- changes --------------------------------------------------------------------------

    @callback
    def async_set_context(self, context: Context) -> None:
        """Remember the context of an action call, to know who created a pass."""
        super().async_set_context(context)
        self._call_context = context

    async def _async_caller(self) -> str | None:
        """Return the name of who asked: the action's user, else the UI's (websocket)."""
        context, self._call_context = self._call_context, None
        if context is not None:
            user_id = context.user_id
        elif (connection := current_connection.get()) is not None:
            user_id = connection.user.id
        else:
            user_id = None
        return await async_user_name(self.hass, user_id)

    def _find(self, uid: str) -> RegisteredPlate:
        for entry in self._registry.plates.values():
            if entry.uid == uid and entry.valid_until is not None:
                return entry
        raise ServiceValidationError(
            translation_domain=DOMAIN, translation_key="calendar_pass_not_found"
        )

    @staticmethod
    def _refuse_recurrence(*recurrence: Any) -> None:
        if any(recurrence):
            raise ServiceValidationError(
                translation_domain=DOMAIN, translation_key="calendar_recurring"
            )

    async def async_create_event(self, **kwargs: Any) -> None:
        """Issue a pass for the plate written in the event."""
        created_by = await self._async_caller()
        self._refuse_recurrence(kwargs.get(EVENT_RRULE))
        description = kwargs.get(EVENT_DESCRIPTION)
        plate, name = parse_plate(kwargs[EVENT_SUMMARY], description)
        start, end = _window(kwargs[EVENT_START], kwargs[EVENT_END])
        now = dt_util.utcnow()
        if (
            (existing := self._registry.plates.get(plate)) is not None
            and existing.valid_until is not None
            and existing.valid_until > now
        ):
            raise ServiceValidationError(
                translation_domain=DOMAIN,
                translation_key="calendar_pass_exists",
                translation_placeholders={
                    "plate": plate,
                    "name": existing.name,
                    "end": dt_util.as_local(existing.valid_until).strftime("%Y-%m-%d %H:%M"),
                },
            )
        self._registry.async_set_pass(
            plate,
            name,
            start=start,
            end=end,
            notes=_notes(description),
            now=now,
            created_by=created_by,
        )

    async def async_update_event(
        self,
        uid: str,
        event: dict[str, Any],
        recurrence_id: str | None = None,
        recurrence_range: str | None = None,
    ) -> None:
        """Change the pass: plate, name, window and notes (the entries left stay)."""
        self._call_context = None
        self._refuse_recurrence(recurrence_id, recurrence_range, event.get(EVENT_RRULE))
        entry = self._find(uid)
        description = event.get(EVENT_DESCRIPTION)
        plate, name = parse_plate(event[EVENT_SUMMARY], description, entry.plate)
        start, end = _window(event[EVENT_START], event[EVENT_END])
        self._registry.async_update(
            entry.plate,
            new_plate=plate,
            name=name,
            category=Category.VISITOR,
            notes=_notes(description),
            valid_from=start,
            valid_until=end,
            entries_left=entry.entries_left,
        )

    async def async_delete_event(
        self,
        uid: str,
        recurrence_id: str | None = None,
        recurrence_range: str | None = None,
    ) -> None:
        """Remove the visitor with the pass, as the purge does when a pass is over."""
        self._call_context = None
        self._refuse_recurrence(recurrence_id, recurrence_range)
        self._registry.async_remove(self._find(uid).plate)
