"""The card is served by the integration and loaded on dashboards unless turned off."""

from __future__ import annotations

from typing import TYPE_CHECKING
from unittest.mock import patch

from custom_components.anpr import frontend
from custom_components.anpr.const import CONF_DASHBOARD_CARD

if TYPE_CHECKING:
    from pathlib import Path

    from homeassistant.core import HomeAssistant
    from pytest_homeassistant_custom_component.common import MockConfigEntry
    from pytest_homeassistant_custom_component.typing import ClientSessionGenerator


async def test_card_is_served_and_registered_unless_turned_off(
    hass: HomeAssistant,
    config_entry: MockConfigEntry,
    camera: str,
    hass_client: ClientSessionGenerator,
) -> None:
    # The frontend package is not installed in the test environment: its module list is
    # where the card is added (the browser test loads it in a real frontend).
    hass.config.components.add("frontend")
    with (
        patch.object(frontend, "add_extra_js_url") as add,
        patch.object(frontend, "remove_extra_js_url") as remove,
    ):
        config_entry.add_to_hass(hass)
        assert await hass.config_entries.async_setup(config_entry.entry_id)
        await hass.async_block_till_done()
        [(_, url)] = [call.args for call in add.call_args_list]
        assert url == f"/anpr_frontend/{frontend.fingerprint()}/anpr-card.js"

        client = await hass_client()
        for name in ("anpr-card.js", "anpr-card-editor.js", "strings.js"):
            response = await client.get(url.replace("anpr-card.js", name))
            assert response.status == 200, name
            assert "javascript" in response.content_type
        assert "customElements.define" in await (await client.get(url)).text()
        latest = await client.get("/anpr_frontend/latest/anpr-card.js")
        assert latest.status == 200

        hass.config_entries.async_update_entry(
            config_entry, options={**config_entry.options, CONF_DASHBOARD_CARD: False}
        )
        await hass.async_block_till_done()  # an options change reloads the entry
        remove.assert_called_once_with(hass, url)
        hass.config_entries.async_update_entry(
            config_entry, options={**config_entry.options, CONF_DASHBOARD_CARD: True}
        )
        await hass.async_block_till_done()
        assert add.call_count == 2
        await hass.config_entries.async_unload(config_entry.entry_id)


def test_fingerprint_follows_the_files(tmp_path: Path) -> None:
    folder = tmp_path
    (folder / "a.js").write_text("one", "utf-8")
    first = frontend.fingerprint(folder)
    (folder / "a.js").write_text("two", "utf-8")
    assert frontend.fingerprint(folder) != first
