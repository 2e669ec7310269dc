"""Pictures of visits: kept on disk, dropped with the visit, exported, in the Media panel."""

from __future__ import annotations

import csv
from dataclasses import replace
from datetime import UTC, datetime
import io
from pathlib import Path
from typing import TYPE_CHECKING

from homeassistant.components import media_source
from homeassistant.components.media_player.errors import BrowseError
from homeassistant.const import ATTR_ENTITY_ID
from homeassistant.setup import async_setup_component
from PIL import Image
import pytest

from custom_components.anpr.const import CONF_HISTORY_SIZE, DOMAIN
from custom_components.anpr.pictures import (
    MAX_CROP_BYTES,
    MAX_SIDE,
    MAX_SNAPSHOT_BYTES,
    PictureStore,
    downscale,
    picture_names,
)

from .conftest import CAMERA, photo
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
    assert [title.split()[0] for title in titles] == ["XYZ9876", "AYO9034"]
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
    with pytest.raises(BrowseError):
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


async def test_two_plates_in_one_scan_with_room_for_one(
    hass: HomeAssistant, config_entry: MockConfigEntry, camera: str, anpr_service: FakeAnprService
) -> None:
    """The visit dropped while its pictures were written leaves no files behind."""
    config_entry.add_to_hass(hass)
    hass.config_entries.async_update_entry(
        config_entry, options={**config_entry.options, CONF_HISTORY_SIZE: 1}
    )
    assert await hass.config_entries.async_setup(config_entry.entry_id)
    await hass.async_block_till_done()
    anpr_service.default_recognition = recognition_json(
        plate_json("AYO9034"), plate_json("XYZ9876", box=(10, 10, 100, 40))
    )
    await scan(hass)
    [kept] = config_entry.runtime_data.history.visits
    files = await hass.async_add_executor_job(
        lambda: sorted(p.name for p in folder(hass, config_entry).rglob("*.jpg"))
    )
    assert files == sorted(Path(name).name for name in kept.pictures)
    await hass.config_entries.async_unload(config_entry.entry_id)


async def test_text_only_detection_is_announced_at_once(
    hass: HomeAssistant, loaded_entry: MockConfigEntry
) -> None:
    """A source without pictures (a plate given as text) is kept and announced as is."""
    await scan(hass)
    history = loaded_entry.runtime_data.history
    last = loaded_entry.runtime_data.watchers[CAMERA].last_detection
    assert last is not None
    detection = replace(last, crop=None, snapshot=None, visit_id=10**6)
    heard = []
    remove = history.async_add_listener(heard.append)
    history.async_record(detection)
    remove()
    assert heard[0].pictures == ()


async def test_picture_store_failures_are_logged_not_raised(
    hass: HomeAssistant, caplog: pytest.LogCaptureFixture
) -> None:
    store = PictureStore(hass, "entry")
    names = picture_names(CAMERA, datetime(2026, 1, 2, tzinfo=UTC), "AB1", "e" * 32)
    image = await hass.async_add_executor_job(photo_bytes)
    # Too big to be a crop, too big to decode: nothing is kept.
    assert await store.async_save(
        names, b"x" * (MAX_SNAPSHOT_BYTES + 1), b"x" * (MAX_CROP_BYTES + 1)
    ) == (None, None)
    # The camera's folder cannot be made (a file is in the way): a warning, no picture.
    await hass.async_add_executor_job(_block_folder, store.folder)
    assert await store.async_save(names, image, CROP_JPEG) == (None, None)
    assert "Cannot keep the visit picture" in caplog.text
    assert await store.async_read(names.crop) is None
    assert await store.async_read("../escape.jpg") is None
    # Deleting through a file where a folder should be fails quietly too.
    await store.async_delete([names.crop, "../escape.jpg"])
    assert "Cannot delete the visit picture" in caplog.text


def photo_bytes() -> bytes:
    """Return a real car photo."""
    return photo("br", "AYO9034").read_bytes()


def _block_folder(folder: Path) -> None:
    folder.mkdir(parents=True)
    (folder / "camera_driveway").write_bytes(b"a file where the camera's folder should be")
