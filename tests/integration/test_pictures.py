"""Pictures of visits: kept on disk, dropped with the visit, exported, in the Media panel."""

from __future__ import annotations

import csv
from datetime import UTC, datetime
import io
from pathlib import Path
from typing import TYPE_CHECKING

from homeassistant.components import media_source
from homeassistant.const import ATTR_ENTITY_ID
from homeassistant.setup import async_setup_component
from PIL import Image
import pytest

from custom_components.anpr.const import CONF_HISTORY_SIZE, DOMAIN
from custom_components.anpr.pictures import MAX_SIDE, PictureStore, downscale, picture_names

from .conftest import CAMERA
from .fakes import CROP_JPEG, FakeAnprService, plate_json, recognition_json

if TYPE_CHECKING:
    from homeassistant.core import HomeAssistant
    from pytest_homeassistant_custom_component.common import MockConfigEntry
    from pytest_homeassistant_custom_component.typing import ClientSessionGenerator


async def scan(hass: HomeAssistant) -> None:
    """Scan the test camera and wait until the visit and its pictures are kept."""
    await hass.services.async_call(DOMAIN, "scan", {ATTR_ENTITY_ID: CAMERA}, blocking=True)
    await hass.async_block_till_done()


def folder(hass: HomeAssistant, entry: MockConfigEntry) -> Path:
    """Return the entry's picture folder."""
    return Path(hass.config.path("anpr", "pictures", entry.entry_id))


async def test_visit_keeps_crop_and_bounded_snapshot(
    hass: HomeAssistant, loaded_entry: MockConfigEntry
) -> None:
    await scan(hass)
    [visit] = loaded_entry.runtime_data.history.visits
    assert visit.snapshot is not None
    assert visit.crop is not None
    base = folder(hass, loaded_entry)
    assert (base / visit.crop).read_bytes() == CROP_JPEG
    assert visit.snapshot.startswith("camera_driveway/")
    with Image.open(base / visit.snapshot) as snapshot:
        assert snapshot.format == "JPEG"
        assert max(snapshot.size) <= MAX_SIDE


async def test_pictures_go_with_their_visit(
    hass: HomeAssistant, config_entry: MockConfigEntry, camera: str, anpr_service: FakeAnprService
) -> None:
    config_entry.add_to_hass(hass)
    hass.config_entries.async_update_entry(
        config_entry, options={**config_entry.options, CONF_HISTORY_SIZE: 1}
    )
    assert await hass.config_entries.async_setup(config_entry.entry_id)
    await hass.async_block_till_done()
    await scan(hass)
    base = folder(hass, config_entry)
    [first] = config_entry.runtime_data.history.visits
    first_files = [base / name for name in first.pictures]
    assert all(path.is_file() for path in first_files)

    anpr_service.default_recognition = recognition_json(plate_json("XYZ9876"))
    await scan(hass)  # the history keeps one visit: the first goes, and its pictures
    assert not any(path.exists() for path in first_files)
    [second] = config_entry.runtime_data.history.visits
    assert all((base / name).is_file() for name in second.pictures)

    await hass.config_entries.async_unload(config_entry.entry_id)
    assert await hass.config_entries.async_remove(config_entry.entry_id)
    await hass.async_block_till_done()
    assert not base.exists()


async def test_text_only_visit_has_no_picture(
    hass: HomeAssistant, loaded_entry: MockConfigEntry, anpr_service: FakeAnprService
) -> None:
    """A read without a crop still keeps the frame; one without both keeps nothing."""
    history = loaded_entry.runtime_data.history
    anpr_service.default_recognition = recognition_json(plate_json("XYZ9876", crop=None))
    await scan(hass)
    [visit] = history.visits
    assert visit.crop is None
    assert visit.snapshot is not None


async def test_export_names_the_pictures(
    hass: HomeAssistant, loaded_entry: MockConfigEntry
) -> None:
    await scan(hass)
    response = await hass.services.async_call(
        DOMAIN, "export_history", {"format": "csv"}, blocking=True, return_response=True
    )
    assert response is not None
    text = await hass.async_add_executor_job(Path(str(response["path"])).read_text, "utf-8")
    [row] = list(csv.DictReader(io.StringIO(text)))
    [visit] = loaded_entry.runtime_data.history.visits
    prefix = f"anpr/pictures/{loaded_entry.entry_id}/"
    assert row["picture"] == prefix + str(visit.snapshot)
    assert row["plate_picture"] == prefix + str(visit.crop)
    assert await hass.async_add_executor_job(Path(hass.config.path(row["picture"])).is_file)


async def test_media_source_browses_cameras_newest_first(
    hass: HomeAssistant,
    loaded_entry: MockConfigEntry,
    anpr_service: FakeAnprService,
    hass_client: ClientSessionGenerator,
) -> None:
    assert await async_setup_component(hass, "media_source", {})
    await scan(hass)
    anpr_service.default_recognition = recognition_json(plate_json("XYZ9876"))
    await scan(hass)
    entry_id = loaded_entry.entry_id

    root = await media_source.async_browse_media(hass, f"media-source://{DOMAIN}")
    assert [child.title for child in root.children] == [loaded_entry.title]
    entry = await media_source.async_browse_media(hass, f"media-source://{DOMAIN}/{entry_id}")
    assert [child.title for child in entry.children] == ["Driveway"]
    visits = await media_source.async_browse_media(
        hass, f"media-source://{DOMAIN}/{entry_id}/{CAMERA}"
    )
    titles = [child.title for child in visits.children]
    assert [title.split()[-2] for title in titles] == ["XYZ9876", "AYO9034"]
    assert all(child.thumbnail for child in visits.children)

    resolved = await media_source.async_resolve_media(
        hass, visits.children[0].media_content_id, None
    )
    assert resolved.mime_type == "image/jpeg"
    response = await (await hass_client()).get(resolved.url)
    assert response.status == 200
    assert (await response.read()).startswith(b"\xff\xd8")

    for bad in (f"{entry_id}/{CAMERA}/nope", "nope/x/y"):
        with pytest.raises(media_source.Unresolvable):
            await media_source.async_resolve_media(hass, f"media-source://{DOMAIN}/{bad}", None)
    with pytest.raises(media_source.BrowseError):
        await media_source.async_browse_media(hass, f"media-source://{DOMAIN}/nope")


async def test_view_serves_only_pictures_of_kept_visits(
    hass: HomeAssistant, loaded_entry: MockConfigEntry, hass_client: ClientSessionGenerator
) -> None:
    await scan(hass)
    base = f"/api/anpr/pictures/{loaded_entry.entry_id}"
    stray = folder(hass, loaded_entry) / "camera_driveway" / "stray.jpg"
    stray.write_bytes(b"\xff\xd8\xff")
    client = await hass_client()
    for url in (
        f"{base}/camera_driveway/stray.jpg",
        f"{base}/../../../configuration.yaml",
        "/api/anpr/pictures/nope/camera_driveway/x.jpg",
    ):
        assert (await client.get(url)).status == 404, url


def test_picture_store_refuses_names_outside_its_folder(tmp_path: Path) -> None:
    hass = type("Hass", (), {})()
    hass.config = type("Config", (), {"path": lambda self, *p: str(tmp_path.joinpath(*p))})()
    store = PictureStore(hass, "entry")  # type: ignore[arg-type]
    for name in ("", "/etc/passwd.jpg", "../x.jpg", "a\\b.jpg", "a/b.png"):
        assert store.path(name) is None, name
    names = picture_names("camera.gate", datetime(2026, 1, 2, tzinfo=UTC), "AB-1", "f" * 32)
    assert names.snapshot == "camera_gate/20260102-000000-ab_1-ffffffff.jpg"
    assert store.path(names.crop) is not None
    assert downscale(b"not an image") is None
