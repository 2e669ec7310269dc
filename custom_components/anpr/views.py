"""HTTP view that serves the pictures of visits (`pictures.py`) to signed-in users.

The dashboard card and the Media panel show a visit's pictures through this one URL,
`/api/anpr/pictures/<entry_id>/<picture name>`. It needs Home Assistant's authentication
like any API: the card gets signed paths from the websocket API (an `<img>` cannot send a
token), the Media panel signs the paths `media_source.py` resolves to. Only pictures of kept
visits are served: a name the history no longer knows is a 404, even while its file still
exists (it is being deleted).
"""

from __future__ import annotations

from http import HTTPStatus
from typing import TYPE_CHECKING, Final

from aiohttp import web
from homeassistant.helpers.http import KEY_HASS, HomeAssistantView

from .const import DOMAIN
from .history import VisitHistory, async_get_history

if TYPE_CHECKING:
    from homeassistant.core import HomeAssistant

PICTURE_URL: Final = "/api/anpr/pictures/{entry_id}/{name}"


def picture_url(entry_id: str, name: str) -> str:
    """Return the (unsigned) URL of a visit picture."""
    return PICTURE_URL.format(entry_id=entry_id, name=name)


async def async_history_of(hass: HomeAssistant, entry_id: str) -> VisitHistory | None:
    """Return the history of an anpr entry; None when there is no such entry."""
    entry = hass.config_entries.async_get_entry(entry_id)
    if entry is None or entry.domain != DOMAIN:
        return None
    return await async_get_history(hass, entry_id)


class VisitPictureView(HomeAssistantView):
    """Serve one picture of a kept visit."""

    url = "/api/anpr/pictures/{entry_id}/{name:.+}"
    name = "api:anpr:pictures"
    requires_auth = True

    async def get(self, request: web.Request, entry_id: str, name: str) -> web.Response:
        """Return the JPEG, or 404 for an unknown entry, visit or picture."""
        hass: HomeAssistant = request.app[KEY_HASS]
        history = await async_history_of(hass, entry_id)
        if history is None or not any(name in visit.pictures for visit in history.visits):
            return web.Response(status=HTTPStatus.NOT_FOUND)
        if (data := await history.pictures.async_read(name)) is None:
            return web.Response(status=HTTPStatus.NOT_FOUND)
        return web.Response(
            body=data,
            content_type="image/jpeg",
            headers={"Cache-Control": "private, max-age=86400"},
        )
