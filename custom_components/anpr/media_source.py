"""The Media panel's view of visit pictures: one folder per entry and camera, newest first.

Built on the history, not on the folder's files: the panel shows exactly the visits the
history keeps (what retention dropped is gone here too), titled with time and plate, and
visits without a picture (plates that came as text) are left out. Identifiers are
`<entry_id>`, `<entry_id>/<camera>` and `<entry_id>/<camera>/<visit_id>`; a visit resolves to
its snapshot, or its plate crop when it has no snapshot.
"""

from __future__ import annotations

from typing import TYPE_CHECKING

from homeassistant.components.media_player.const import MediaClass
from homeassistant.components.media_player.errors import BrowseError
from homeassistant.components.media_source import (
    BrowseMediaSource,
    MediaSource,
    MediaSourceItem,
    PlayMedia,
    Unresolvable,
)
from homeassistant.util import dt as dt_util

from .const import DOMAIN
from .views import async_history_of, picture_url

if TYPE_CHECKING:
    from homeassistant.core import HomeAssistant

    from .history import Visit, VisitHistory

MIME_JPEG = "image/jpeg"


async def async_get_media_source(hass: HomeAssistant) -> MediaSource:
    """Return the anpr media source (found by the media_source integration)."""
    return VisitMediaSource(hass)


class VisitMediaSource(MediaSource):
    """Pictures of the visits kept by each anpr entry."""

    name = "ANPR visits"

    def __init__(self, hass: HomeAssistant) -> None:
        """Browse the visits of `hass`'s anpr entries."""
        super().__init__(DOMAIN)
        self.hass = hass

    async def async_resolve_media(self, item: MediaSourceItem) -> PlayMedia:
        """Return the URL of a visit's picture."""
        entry_id, _, rest = item.identifier.partition("/")
        _camera, _, visit_id = rest.partition("/")
        history = await async_history_of(self.hass, entry_id)
        visit = history.get(visit_id) if history and visit_id else None
        if visit is None or not visit.pictures:
            raise Unresolvable(f"No picture of the visit {item.identifier}")
        return PlayMedia(picture_url(entry_id, visit.pictures[0]), MIME_JPEG)

    async def async_browse_media(self, item: MediaSourceItem) -> BrowseMediaSource:
        """Return the entries, an entry's cameras or a camera's visits."""
        if not item.identifier:
            return self._entries()
        entry_id, _, camera = item.identifier.partition("/")
        history = await async_history_of(self.hass, entry_id)
        if history is None:
            raise BrowseError(f"Unknown anpr entry {entry_id}")
        if not camera:
            return self._cameras(entry_id, history)
        if "/" in camera:
            raise BrowseError(f"{item.identifier} is a picture, not a folder")
        return self._visits(entry_id, camera, history)

    def _entries(self) -> BrowseMediaSource:
        children = [
            _folder(entry.entry_id, entry.title)
            for entry in self.hass.config_entries.async_entries(DOMAIN)
        ]
        return _folder(None, self.name or DOMAIN, children)

    def _cameras(self, entry_id: str, history: VisitHistory) -> BrowseMediaSource:
        cameras = sorted({visit.camera for visit in history.visits if visit.pictures})
        entry = self.hass.config_entries.async_get_entry(entry_id)
        children = [
            _folder(f"{entry_id}/{camera}", self._camera_name(camera)) for camera in cameras
        ]
        return _folder(entry_id, entry.title if entry else entry_id, children)

    def _visits(self, entry_id: str, camera: str, history: VisitHistory) -> BrowseMediaSource:
        visits = [v for v in reversed(history.visits) if v.camera == camera and v.pictures]
        children = [_picture(entry_id, visit) for visit in visits]
        return _folder(f"{entry_id}/{camera}", self._camera_name(camera), children)

    def _camera_name(self, camera: str) -> str:
        state = self.hass.states.get(camera)
        return state.name if state else camera


def _folder(
    identifier: str | None, title: str, children: list[BrowseMediaSource] | None = None
) -> BrowseMediaSource:
    return BrowseMediaSource(
        domain=DOMAIN,
        identifier=identifier,
        media_class=MediaClass.DIRECTORY,
        media_content_type="",
        title=title,
        can_play=False,
        can_expand=True,
        children=children or [],
        children_media_class=MediaClass.DIRECTORY if identifier is None else MediaClass.IMAGE,
    )


def _picture(entry_id: str, visit: Visit) -> BrowseMediaSource:
    time = dt_util.as_local(visit.time).strftime("%Y-%m-%d %H:%M")
    return BrowseMediaSource(
        domain=DOMAIN,
        identifier=f"{entry_id}/{visit.camera}/{visit.id}",
        media_class=MediaClass.IMAGE,
        media_content_type=MIME_JPEG,
        # The plate first: the Media panel cuts long titles short.
        title=f"{visit.plate} · {time} · {visit.category.value}",
        can_play=True,
        can_expand=False,
        thumbnail=picture_url(entry_id, visit.pictures[0]),  # the frame, else the crop
    )
