"""Pictures of visits on disk: the plate crop and a downscaled snapshot of each visit.

Why files and not the history's `Store`: a JSON document rewritten on every visit cannot carry
hundreds of JPEGs, while files are written once and deleted once. They live under the
configuration folder (`<config>/anpr/pictures/<entry_id>/<camera>/`), so a backup of Home
Assistant includes them, and they go with the visit: the history deletes a visit's pictures
when its retention rules drop the visit (`history.py`), and the whole folder with the entry.

A snapshot is bounded (`MAX_SIDE` pixels on its longer side, JPEG at `QUALITY`): a 4K camera
frame would otherwise cost a megabyte per car. A crop is a few kilobytes as the service sent
it; one over `MAX_CROP_BYTES` is not kept. A visit may have no picture at all (a plate that
came as text from another reader): everything here then simply has nothing to do.

Names are made here and only here (`picture_names`), relative to the entry's folder, and every
path handed out is checked to lie inside it (`PictureStore.path`), so a name from a request or
a stored record can never reach another file.
"""

from __future__ import annotations

from dataclasses import dataclass
import io
from pathlib import Path
import shutil
from typing import TYPE_CHECKING, Final

from homeassistant.util import slugify
from PIL import Image, UnidentifiedImageError

from .const import LOGGER

if TYPE_CHECKING:
    from collections.abc import Iterable
    from datetime import datetime

    from homeassistant.core import HomeAssistant

PICTURE_FOLDER: Final = ("anpr", "pictures")
"""Where pictures are kept, under the Home Assistant configuration folder."""
MAX_SIDE: Final = 1280
"""Longest side, in pixels, of a kept snapshot."""
QUALITY: Final = 80
"""JPEG quality of a kept snapshot."""
MAX_CROP_BYTES: Final = 256 * 1024
"""Largest plate crop kept (a crop is a few kilobytes; more is not a crop)."""
MAX_SNAPSHOT_BYTES: Final = 32 * 1024 * 1024
"""Largest frame downscaled (bigger input is refused, not decoded)."""


@dataclass(frozen=True, slots=True)
class PictureNames:
    """The file names of one visit's pictures, relative to the entry's folder."""

    snapshot: str
    crop: str


def picture_names(camera: str, time: datetime, plate: str, visit_id: str) -> PictureNames:
    """Return where a visit's pictures go: a folder per camera, sortable by time."""
    stem = f"{slugify(camera)}/{time:%Y%m%d-%H%M%S}-{slugify(plate) or 'plate'}-{visit_id[:8]}"
    return PictureNames(snapshot=f"{stem}.jpg", crop=f"{stem}-plate.jpg")


def downscale(image: bytes) -> bytes | None:
    """Return `image` as a JPEG no larger than `MAX_SIDE`; None if it is not an image."""
    if len(image) > MAX_SNAPSHOT_BYTES:
        return None
    try:
        with Image.open(io.BytesIO(image)) as picture:
            picture.thumbnail((MAX_SIDE, MAX_SIDE))
            output = io.BytesIO()
            picture.convert("RGB").save(output, "JPEG", quality=QUALITY, optimize=True)
    except (OSError, UnidentifiedImageError, Image.DecompressionBombError, ValueError):
        return None
    return output.getvalue()


class PictureStore:
    """The picture files of one config entry."""

    def __init__(self, hass: HomeAssistant, entry_id: str) -> None:
        """Keep the pictures of `entry_id` under the configuration folder."""
        self.hass = hass
        self.folder = Path(hass.config.path(*PICTURE_FOLDER, entry_id))

    def path(self, name: str) -> Path | None:
        """Return the file of a picture name, or None for a name outside the folder."""
        if not name or name.startswith("/") or "\\" in name:
            return None
        path = (self.folder / name).resolve()
        if not path.is_relative_to(self.folder.resolve()) or path.suffix != ".jpg":
            return None
        return path

    def relative_to_config(self, name: str) -> str:
        """Return a picture's path relative to the configuration folder (for exports)."""
        return str((self.folder / name).relative_to(Path(self.hass.config.config_dir)))

    async def async_save(
        self, names: PictureNames, snapshot: bytes | None, crop: bytes | None
    ) -> tuple[str | None, str | None]:
        """Write a visit's pictures; return the names of those kept (snapshot, crop)."""
        return await self.hass.async_add_executor_job(self._save, names, snapshot, crop)

    def _save(
        self, names: PictureNames, snapshot: bytes | None, crop: bytes | None
    ) -> tuple[str | None, str | None]:
        kept_snapshot = kept_crop = None
        if snapshot is not None and (small := downscale(snapshot)) is not None:
            kept_snapshot = self._write(names.snapshot, small)
        if crop is not None and len(crop) <= MAX_CROP_BYTES:
            kept_crop = self._write(names.crop, crop)
        return kept_snapshot, kept_crop

    def _write(self, name: str, data: bytes) -> str | None:
        if (path := self.path(name)) is None:
            return None
        try:
            path.parent.mkdir(parents=True, exist_ok=True)
            path.write_bytes(data)
        except OSError as err:
            LOGGER.warning("Cannot keep the visit picture %s: %s", path, err)
            return None
        return name

    async def async_delete(self, names: Iterable[str]) -> None:
        """Delete pictures (their visits were dropped); missing files are fine."""
        if paths := [path for name in names if (path := self.path(name)) is not None]:
            await self.hass.async_add_executor_job(_unlink, paths)

    async def async_read(self, name: str) -> bytes | None:
        """Return a picture's bytes, or None when there is no such picture."""
        if (path := self.path(name)) is None:
            return None
        return await self.hass.async_add_executor_job(_read, path)

    async def async_remove_all(self) -> None:
        """Delete the entry's whole picture folder (the entry is being removed)."""
        await self.hass.async_add_executor_job(
            lambda: shutil.rmtree(self.folder, ignore_errors=True)
        )


def _unlink(paths: list[Path]) -> None:
    for path in paths:
        try:
            path.unlink(missing_ok=True)
        except OSError as err:
            LOGGER.warning("Cannot delete the visit picture %s: %s", path, err)


def _read(path: Path) -> bytes | None:
    try:
        return path.read_bytes()
    except OSError:
        return None
