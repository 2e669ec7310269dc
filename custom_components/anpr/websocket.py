"""Websocket API of the dashboard card: visits, the plate registry and visitor passes.

Commands (every one names its config entry by `entry_id`):

* `anpr/visits/list`: the kept visits, newest first, filtered by camera, category and time,
  a page at a time (`limit`, and `before`: the id of the last visit of the previous page).
* `anpr/visits/subscribe`: each new visit (once its pictures are written) and each visit that
  changed (its gate was opened), as events.
* `anpr/plates/list`: the registry, each entry with when its plate was last seen;
  `anpr/plates/subscribe`: an event whenever the registry changed (an action, the options
  flow, another card, a pass used or purged).
* `anpr/plates/add`, `anpr/plates/update`, `anpr/plates/remove`, `anpr/passes/add`: change the
  registry (admin only).

Why a websocket API and not the actions: a card needs paging, filters, pictures and a live
feed, which actions cannot give. Changes still go through the registry's public methods, so
the card gets exactly the validation, and the translated errors, of the actions and the
options flow. Every message is checked with voluptuous here (not by the websocket layer,
whose errors are untranslated English): bad input gets a translated `invalid_input` error
naming the field. Pictures are handed out as paths signed for the connection's user, because
an `<img>` cannot send a token.
"""

from __future__ import annotations

from datetime import datetime, timedelta
from functools import wraps
from typing import TYPE_CHECKING, Any, Final

from homeassistant.components import websocket_api
from homeassistant.components.http.auth import async_sign_path
from homeassistant.components.websocket_api.connection import ActiveConnection
from homeassistant.components.websocket_api.const import (
    ERR_HOME_ASSISTANT_ERROR,
    ERR_INVALID_FORMAT,
)
from homeassistant.components.websocket_api.decorators import async_response, websocket_command
from homeassistant.components.websocket_api.messages import event_message
from homeassistant.core import HomeAssistant, callback
from homeassistant.exceptions import HomeAssistantError, ServiceValidationError, Unauthorized
from homeassistant.helpers import config_validation as cv
from homeassistant.util import dt as dt_util
import voluptuous as vol

from .const import DOMAIN, REGISTERED_CATEGORIES, Category
from .registry import async_get_registry
from .services import async_user_name, pass_window
from .views import async_history_of, picture_url

if TYPE_CHECKING:
    from collections.abc import Awaitable, Callable

    from .history import Visit, VisitHistory
    from .registry import PlateRegistry

type _Handler = Callable[[HomeAssistant, ActiveConnection, dict[str, Any]], Awaitable[None]]

SIGNED_FOR: Final = timedelta(hours=24)
"""How long a picture URL handed to the card stays valid."""
MAX_PAGE: Final = 200

_CATEGORIES = [category.value for category in Category]
_REGISTERED = [category.value for category in REGISTERED_CATEGORIES]
_ENTRY: Final[dict[vol.Marker, Any]] = {vol.Required("entry_id"): cv.string}
_TEXT = vol.Any(None, cv.string)


def _command(
    command: str, schema: dict[vol.Marker, Any], *, admin: bool = False
) -> Callable[[_Handler], Any]:
    """Make `command` from a handler: check `admin`, validate, translate every refusal.

    The websocket layer only checks the type (extra keys pass); the message is validated here
    so that a bad field gets a translated error.
    """
    checked = vol.Schema({**_ENTRY, **schema})

    def decorate(handler: _Handler) -> Any:
        @wraps(handler)
        async def run(
            hass: HomeAssistant, connection: ActiveConnection, msg: dict[str, Any]
        ) -> None:
            if admin and not connection.user.is_admin:
                raise Unauthorized
            data = {key: value for key, value in msg.items() if key not in ("id", "type")}
            try:
                await handler(hass, connection, {"id": msg["id"], **checked(data)})
            except vol.Invalid as err:
                _send_translated(connection, msg["id"], _invalid_input(err))
            except ServiceValidationError as err:
                _send_translated(connection, msg["id"], err)

        return websocket_command(
            vol.All(vol.Schema({vol.Required("type"): command}, extra=vol.ALLOW_EXTRA))
        )(async_response(run))

    return decorate


def _invalid_input(err: vol.Invalid) -> ServiceValidationError:
    field = ".".join(str(part) for part in err.path) or "message"
    return ServiceValidationError(
        translation_domain=DOMAIN,
        translation_key="invalid_input",
        translation_placeholders={"field": field, "error": err.error_message or str(err)},
    )


def _send_translated(connection: ActiveConnection, msg_id: int, err: HomeAssistantError) -> None:
    """Send an expected refusal with its translation (logged at debug, not as an error)."""
    connection.send_error(
        msg_id,
        ERR_INVALID_FORMAT if err.translation_key == "invalid_input" else ERR_HOME_ASSISTANT_ERROR,
        str(err),
        translation_key=err.translation_key,
        translation_domain=err.translation_domain,
        translation_placeholders=err.translation_placeholders,
    )


async def _history(hass: HomeAssistant, entry_id: str) -> VisitHistory:
    if (history := await async_history_of(hass, entry_id)) is None:
        raise ServiceValidationError(
            translation_domain=DOMAIN,
            translation_key="entry_not_found",
            translation_placeholders={"entry_id": entry_id},
        )
    return history


async def _registry(hass: HomeAssistant, entry_id: str) -> PlateRegistry:
    await _history(hass, entry_id)  # the same check: an anpr entry
    return await async_get_registry(hass, entry_id)


def visit_as_dict(
    hass: HomeAssistant, connection: ActiveConnection, entry_id: str, visit: Visit
) -> dict[str, Any]:
    """Return a visit as the card gets it: the record, the camera's name, signed pictures."""

    def signed(name: str | None) -> str | None:
        if name is None:
            return None
        return async_sign_path(
            hass,
            picture_url(entry_id, name),
            SIGNED_FOR,
            refresh_token_id=connection.refresh_token_id,
        )

    state = hass.states.get(visit.camera)
    return {
        **visit.to_storage(),
        "camera_name": state.name if state else visit.camera,
        "snapshot": signed(visit.snapshot),
        "crop": signed(visit.crop),
    }


def _matches(visit: Visit, data: dict[str, Any]) -> bool:
    start: datetime | None = data.get("start")
    end: datetime | None = data.get("end")
    return (
        data.get("camera") in (None, visit.camera)
        and data.get("category") in (None, visit.category)
        and (start is None or visit.time >= dt_util.as_utc(start))
        and (end is None or visit.time < dt_util.as_utc(end))
    )


@_command(
    "anpr/visits/list",
    {
        vol.Optional("camera"): cv.entity_id,
        vol.Optional("category"): vol.In(_CATEGORIES),
        vol.Optional("start"): cv.datetime,
        vol.Optional("end"): cv.datetime,
        vol.Optional("before"): cv.string,
        vol.Optional("limit", default=50): vol.All(vol.Coerce(int), vol.Range(1, MAX_PAGE)),
    },
)
async def ws_list_visits(
    hass: HomeAssistant, connection: ActiveConnection, msg: dict[str, Any]
) -> None:
    """Send a page of visits, newest first, and whether older ones exist."""
    history = await _history(hass, msg["entry_id"])
    newest_first = list(reversed(history.visits))
    if (before := msg.get("before")) is not None:
        position = next((i for i, v in enumerate(newest_first) if v.id == before), None)
        if position is None:
            raise ServiceValidationError(
                translation_domain=DOMAIN,
                translation_key="unknown_visit",
                translation_placeholders={"visit": before},
            )
        newest_first = newest_first[position + 1 :]
    matching = [visit for visit in newest_first if _matches(visit, msg)]
    page = matching[: msg["limit"]]
    connection.send_result(
        msg["id"],
        {
            "visits": [visit_as_dict(hass, connection, msg["entry_id"], v) for v in page],
            "more": len(matching) > len(page),
        },
    )


@_command("anpr/visits/subscribe", {})
async def ws_subscribe_visits(
    hass: HomeAssistant, connection: ActiveConnection, msg: dict[str, Any]
) -> None:
    """Send each new or changed visit of the entry until the card unsubscribes."""
    entry_id: str = msg["entry_id"]
    history = await _history(hass, entry_id)

    @callback
    def forward(visit: Visit) -> None:
        event = {"visit": visit_as_dict(hass, connection, entry_id, visit)}
        connection.send_message(event_message(msg["id"], event))

    connection.subscriptions[msg["id"]] = history.async_add_listener(forward)
    connection.send_result(msg["id"])


@_command("anpr/plates/subscribe", {})
async def ws_subscribe_plates(
    hass: HomeAssistant, connection: ActiveConnection, msg: dict[str, Any]
) -> None:
    """Tell the card each time the registry changed, whoever changed it (then it lists)."""
    registry = await _registry(hass, msg["entry_id"])

    @callback
    def forward() -> None:
        connection.send_message(event_message(msg["id"], {"changed": True}))

    connection.subscriptions[msg["id"]] = registry.async_add_listener(forward)
    connection.send_result(msg["id"])


@_command("anpr/plates/list", {})
async def ws_list_plates(
    hass: HomeAssistant, connection: ActiveConnection, msg: dict[str, Any]
) -> None:
    """Send every registry entry with when a car matched it last."""
    registry = await _registry(hass, msg["entry_id"])
    history = await _history(hass, msg["entry_id"])
    last_seen: dict[str, datetime] = {}
    for visit in history.visits:  # oldest first: the newest wins
        if visit.matched_plate:
            last_seen[visit.matched_plate] = visit.time
    now = dt_util.utcnow()
    plates = [
        {
            **entry.as_dict(now),
            "uid": entry.uid,
            "created_by": entry.created_by,
            "last_seen": seen.isoformat() if (seen := last_seen.get(entry.plate)) else None,
        }
        for entry in sorted(registry.plates.values(), key=lambda entry: entry.plate)
    ]
    connection.send_result(msg["id"], {"plates": plates})


@_command(
    "anpr/plates/add",
    {
        vol.Required("plate"): cv.string,
        vol.Required("name"): cv.string,
        vol.Optional("category", default=Category.RESIDENT.value): vol.In(_REGISTERED),
        vol.Optional("notes"): _TEXT,
    },
    admin=True,
)
async def ws_add_plate(
    hass: HomeAssistant, connection: ActiveConnection, msg: dict[str, Any]
) -> None:
    """Register a plate (or pattern) as the `anpr.add_plate` action does."""
    registry = await _registry(hass, msg["entry_id"])
    entry = registry.async_add(
        msg["plate"], msg["name"], Category(msg["category"]), msg.get("notes")
    )
    connection.send_result(msg["id"], {"plate": entry.as_dict(dt_util.utcnow())})


@_command(
    "anpr/plates/update",
    {
        vol.Required("plate"): cv.string,
        vol.Optional("new_plate"): cv.string,
        vol.Optional("name"): cv.string,
        vol.Optional("category"): vol.In(_REGISTERED),
        vol.Optional("notes"): _TEXT,
        vol.Optional("valid_from"): vol.Any(None, cv.datetime),
        vol.Optional("valid_until"): vol.Any(None, cv.datetime),
        vol.Optional("entries_left"): vol.Any(None, vol.All(vol.Coerce(int), vol.Range(min=0))),
    },
    admin=True,
)
async def ws_update_plate(
    hass: HomeAssistant, connection: ActiveConnection, msg: dict[str, Any]
) -> None:
    """Change an entry; fields left out keep their value (as the options flow's edit form)."""
    registry = await _registry(hass, msg["entry_id"])
    current = registry.find(msg["plate"])

    def field(key: str, value: Any) -> Any:
        return msg.get(key, value)

    def utc(value: datetime | None) -> datetime | None:
        return dt_util.as_utc(value) if value is not None else None

    entry = registry.async_update(
        current.plate,
        new_plate=field("new_plate", current.plate),
        name=field("name", current.name),
        category=Category(field("category", current.category)),
        notes=field("notes", current.notes),
        valid_from=utc(field("valid_from", current.valid_from)),
        valid_until=utc(field("valid_until", current.valid_until)),
        entries_left=field("entries_left", current.entries_left),
    )
    connection.send_result(msg["id"], {"plate": entry.as_dict(dt_util.utcnow())})


@_command("anpr/plates/remove", {vol.Required("plate"): cv.string}, admin=True)
async def ws_remove_plate(
    hass: HomeAssistant, connection: ActiveConnection, msg: dict[str, Any]
) -> None:
    """Forget a registry entry."""
    registry = await _registry(hass, msg["entry_id"])
    registry.async_remove(msg["plate"])
    connection.send_result(msg["id"])


@_command(
    "anpr/passes/add",
    {
        vol.Required("plate"): cv.string,
        vol.Required("name"): cv.string,
        vol.Optional("start"): cv.datetime,
        vol.Optional("end"): cv.datetime,
        vol.Optional("duration"): cv.time_period,
        vol.Optional("max_entries"): vol.Any(None, vol.All(vol.Coerce(int), vol.Range(min=1))),
        vol.Optional("notes"): _TEXT,
    },
    admin=True,
)
async def ws_add_pass(
    hass: HomeAssistant, connection: ActiveConnection, msg: dict[str, Any]
) -> None:
    """Issue a visitor pass as the `anpr.add_visitor_pass` action does."""
    registry = await _registry(hass, msg["entry_id"])
    now = dt_util.utcnow()
    start, end = pass_window(msg, now)
    entry = registry.async_set_pass(
        msg["plate"],
        msg["name"],
        start=start,
        end=end,
        max_entries=msg.get("max_entries"),
        notes=msg.get("notes"),
        now=now,
        created_by=await async_user_name(hass, connection.user.id),
    )
    connection.send_result(msg["id"], {"plate": entry.as_dict(now)})


COMMANDS: Final = (
    ws_list_visits,
    ws_subscribe_visits,
    ws_subscribe_plates,
    ws_list_plates,
    ws_add_plate,
    ws_update_plate,
    ws_remove_plate,
    ws_add_pass,
)


@callback
def async_setup_websocket(hass: HomeAssistant) -> None:
    """Register the card's commands (once, for all entries)."""
    for command in COMMANDS:
        websocket_api.async_register_command(hass, command)
