"""Serving the dashboard card (`frontend/anpr-card.js`) and loading it on every dashboard.

The card is plain JavaScript modules (standard web components, no build step), served by the
integration itself under a URL that carries a fingerprint of the files: a new release (or any
edit) gets a new URL, so browsers never run a stale card, while an unchanged card is cached.

It is registered as a frontend module (`frontend.add_extra_js_url`), so `custom:anpr-card`
works without adding a dashboard resource by hand, unless every anpr entry turned that off
(the "Load the dashboard card" option of the entry's settings; a user who adds the resource
himself, or wants no card code loaded at all, turns it off). Whether any entry wants it is
worked out again whenever an entry is set up (an options change reloads the entry).
"""

from __future__ import annotations

import hashlib
from pathlib import Path
from typing import Final

from homeassistant.components.frontend import add_extra_js_url, remove_extra_js_url
from homeassistant.components.http import StaticPathConfig
from homeassistant.core import HomeAssistant, callback
from homeassistant.util.hass_dict import HassKey

from .const import CONF_DASHBOARD_CARD, DOMAIN, LOGGER

FOLDER: Final = Path(__file__).parent / "frontend"
URL_BASE: Final = "/anpr_frontend"
CARD: Final = "anpr-card.js"

DATA_CARD_URL: HassKey[CardRegistration] = HassKey(f"{DOMAIN}_card")


class CardRegistration:
    """Where the card is served, and whether it is loaded on dashboards now."""

    def __init__(self, url: str) -> None:
        """Remember the card's versioned URL."""
        self.url = url
        self.loaded = False


def fingerprint(folder: Path = FOLDER) -> str:
    """Return a short hash of the card's files (runs in the executor: it reads them)."""
    digest = hashlib.sha256()
    for path in sorted(folder.rglob("*")):
        if path.is_file():
            digest.update(path.relative_to(folder).as_posix().encode())
            digest.update(path.read_bytes())
    return digest.hexdigest()[:12]


async def async_setup_frontend(hass: HomeAssistant) -> None:
    """Serve the card's files (once) and load it on dashboards if an entry wants it."""
    if DATA_CARD_URL in hass.data:
        return
    version = await hass.async_add_executor_job(fingerprint)
    path = f"{URL_BASE}/{version}"
    await hass.http.async_register_static_paths(
        [
            StaticPathConfig(path, str(FOLDER), cache_headers=True),
            # For a dashboard resource added by hand: a URL that survives updates.
            StaticPathConfig(f"{URL_BASE}/latest", str(FOLDER), cache_headers=False),
        ]
    )
    hass.data[DATA_CARD_URL] = CardRegistration(f"{path}/{CARD}")
    async_update_card(hass)


@callback
def async_update_card(hass: HomeAssistant) -> None:
    """Load the card on dashboards unless every anpr entry turned it off."""
    if (card := hass.data.get(DATA_CARD_URL)) is None or "frontend" not in hass.config.components:
        return
    wanted = any(
        entry.options.get(CONF_DASHBOARD_CARD, True)
        for entry in hass.config_entries.async_entries(DOMAIN)
    )
    if wanted and not card.loaded:
        add_extra_js_url(hass, card.url)
        LOGGER.debug("The dashboard card is loaded from %s", card.url)
    elif card.loaded and not wanted:
        remove_extra_js_url(hass, card.url)
    card.loaded = wanted
