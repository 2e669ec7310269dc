"""Visit history of one config entry: what came to which camera, and what was decided.

Each new visit (the first sighting of a vehicle at a camera, see `visits.py`) is one record:
time, camera, plate, confidence, category, owner, matched registry plate, whether access was
granted and why, and whether the gate was opened for it (and if a person forced it).

Plates are personal data, so nothing is kept longer than the entry's retention settings allow
(per category: strangers' plates the shortest, blocked ones the longest, as evidence) and
never more than the newest N records. The history is purged when it is loaded, when a record
is added (the count) and every `HOUSEKEEPING_INTERVAL` (the ages).

Stored per entry in `.storage/anpr.history.<entry_id>` with `Store.async_delay_save`: a busy
driveway adds records in bursts, which are written together after `SAVE_DELAY` (and on
shutdown), not one file write per car. Writes are atomic and durable (`atomic_writes`), as
for the registry: writes are rare enough that the flush to disk costs nothing, and a Pi that
loses power mid-write keeps its previous history instead of an empty, corrupt file.

Like the plate registry, the history lives beside the entry (in `hass.data`) so an export
works while the entry is not loaded, and it is deleted with the entry.
"""

from __future__ import annotations

import asyncio
import csv
from dataclasses import dataclass
import json
from pathlib import Path
from typing import TYPE_CHECKING, Any, Final, Literal, TypedDict

from homeassistant.core import HomeAssistant, callback
from homeassistant.helpers.storage import Store
from homeassistant.util import dt as dt_util, slugify
from homeassistant.util.hass_dict import HassKey

from .const import DOMAIN, LOGGER, Category
from .entry_data import async_get_entry_data, async_remove_entry_data
from .settings import HistorySettings

if TYPE_CHECKING:
    from collections.abc import Iterable, Mapping
    from datetime import datetime

    from .detection import Detection

STORAGE_VERSION: Final = 1
SAVE_DELAY: Final = 30.0
"""Seconds new records wait before they are written, so a burst of visits is one write."""
EXPORT_FOLDER: Final = ("anpr", "exports")
"""Where exports are written, under the Home Assistant configuration folder."""
FIELDS: Final = (
    "time",
    "camera",
    "plate",
    "confidence",
    "category",
    "owner",
    "matched_plate",
    "access_granted",
    "reason",
    "gate_opened",
    "forced",
)
"""The columns of an export, in order (also the keys of each JSON record)."""

type ExportFormat = Literal["csv", "json"]

DATA_HISTORIES: HassKey[dict[str, VisitHistory]] = HassKey(f"{DOMAIN}_histories")


class VisitData(TypedDict):
    """One visit as stored."""

    time: str
    camera: str
    plate: str
    confidence: float
    category: str
    owner: str | None
    matched_plate: str | None
    access_granted: bool
    reason: str
    gate_opened: str | None
    forced: bool


class HistoryData(TypedDict):
    """The stored document."""

    visits: list[VisitData]


@dataclass(slots=True, kw_only=True)
class Visit:
    """One vehicle visit at one camera."""

    time: datetime
    camera: str
    plate: str
    confidence: float
    category: Category
    owner: str | None
    matched_plate: str | None
    access_granted: bool
    reason: str
    gate_opened: datetime | None = None
    forced: bool = False

    def to_storage(self) -> VisitData:
        """Return the visit as stored (times in UTC)."""
        return {
            "time": self.time.isoformat(),
            "camera": self.camera,
            "plate": self.plate,
            "confidence": self.confidence,
            "category": self.category.value,
            "owner": self.owner,
            "matched_plate": self.matched_plate,
            "access_granted": self.access_granted,
            "reason": self.reason,
            "gate_opened": self.gate_opened.isoformat() if self.gate_opened else None,
            "forced": self.forced,
        }

    def to_export(self) -> dict[str, Any]:
        """Return the visit as exported: times in the home's time zone, for people."""
        return {
            **self.to_storage(),
            "time": dt_util.as_local(self.time).isoformat(),
            "gate_opened": dt_util.as_local(self.gate_opened).isoformat()
            if self.gate_opened
            else None,
        }

    @classmethod
    def from_storage(cls, data: Mapping[str, Any]) -> Visit:
        """Rebuild a stored visit; raises `KeyError`/`TypeError`/`ValueError` if corrupt."""
        time = dt_util.parse_datetime(data["time"])
        opened = data.get("gate_opened")
        gate_opened = dt_util.parse_datetime(opened) if opened else None
        if time is None or (opened and gate_opened is None):
            raise ValueError("invalid time")
        return cls(
            time=dt_util.as_utc(time),
            camera=str(data["camera"]),
            plate=str(data["plate"]),
            confidence=float(data["confidence"]),
            category=Category(data["category"]),
            owner=data.get("owner"),
            matched_plate=data.get("matched_plate"),
            access_granted=bool(data.get("access_granted", False)),
            reason=str(data.get("reason", "")),
            gate_opened=dt_util.as_utc(gate_opened) if gate_opened else None,
            forced=bool(data.get("forced", False)),
        )


class VisitHistory:
    """The recent visits of one config entry, persisted in a `Store`."""

    def __init__(self, hass: HomeAssistant, entry_id: str) -> None:
        """Prepare the history of `entry_id`; call `async_load` before use."""
        self.hass = hass
        self.entry_id = entry_id
        self.settings = HistorySettings()
        self._store: Store[HistoryData] = Store(
            hass, STORAGE_VERSION, f"{DOMAIN}.history.{entry_id}", private=True, atomic_writes=True
        )
        self._visits: list[Visit] = []
        self._open: dict[tuple[str, int], Visit] = {}
        """This run's visits by (camera, visit id), to mark the gate opened on them."""
        self._loaded = False
        self._lock = asyncio.Lock()

    @property
    def visits(self) -> list[Visit]:
        """The kept visits, oldest first."""
        return self._visits

    async def async_load(self) -> None:
        """Load the stored visits once; corrupt records are logged and dropped."""
        async with self._lock:
            if self._loaded:
                return
            data = await self._store.async_load()
            for stored in data["visits"] if data else []:
                try:
                    self._visits.append(Visit.from_storage(stored))
                except (KeyError, TypeError, ValueError) as err:
                    LOGGER.error("Ignoring a corrupt visit history record %s: %s", stored, err)
            self._visits.sort(key=lambda visit: visit.time)
            self._loaded = True

    @callback
    def async_configure(self, settings: HistorySettings) -> None:
        """Apply the entry's retention settings and purge what they no longer allow."""
        self.settings = settings
        self.async_purge(dt_util.utcnow())

    def _data_to_save(self) -> HistoryData:
        return {"visits": [visit.to_storage() for visit in self._visits]}

    @callback
    def _async_schedule_save(self) -> None:
        self._store.async_delay_save(self._data_to_save, SAVE_DELAY)

    @callback
    def async_record(self, detection: Detection) -> None:
        """Keep a new visit (a visit listener of the camera watchers)."""
        classification = detection.classification
        visit = Visit(
            time=detection.time,
            camera=detection.camera,
            plate=detection.plate,
            confidence=detection.confidence,
            category=classification.category,
            owner=classification.owner,
            matched_plate=classification.matched_plate,
            access_granted=classification.access_granted,
            reason=classification.reason,
        )
        self._visits.append(visit)
        self._open[(detection.camera, detection.visit_id)] = visit
        if len(self._visits) > self.settings.size:
            self._drop(self._visits[: len(self._visits) - self.settings.size])
        self._async_schedule_save()

    @callback
    def async_mark_gate_opened(
        self, camera: str, visit_id: int, time: datetime, *, forced: bool
    ) -> None:
        """Note on a visit that the gate was opened for it (`forced`: by a person)."""
        if (visit := self._open.get((camera, visit_id))) is None:
            return
        visit.gate_opened = time
        visit.forced = forced
        self._async_schedule_save()

    @callback
    def async_purge(self, now: datetime) -> int:
        """Drop visits older than their category's retention, then beyond the count."""
        expired = [
            visit
            for visit in self._visits
            if now - visit.time > self.settings.retention(visit.category)
        ]
        kept = len(self._visits) - len(expired)
        if kept > self.settings.size:
            expired_ids = {id(visit) for visit in expired}
            survivors = [visit for visit in self._visits if id(visit) not in expired_ids]
            expired += survivors[: kept - self.settings.size]
        if expired:
            self._drop(expired)
            LOGGER.debug("Purged %d visits from the history of %s", len(expired), self.entry_id)
            self._async_schedule_save()
        return len(expired)

    def _drop(self, visits: Iterable[Visit]) -> None:
        gone = {id(visit) for visit in visits}
        self._visits = [visit for visit in self._visits if id(visit) not in gone]
        self._open = {key: visit for key, visit in self._open.items() if id(visit) not in gone}

    async def async_export(self, export_format: ExportFormat, title: str) -> tuple[Path, int]:
        """Write the history to a new file under `<config>/anpr/exports`; return path, count."""
        rows = [visit.to_export() for visit in self._visits]
        now = dt_util.now()
        folder = Path(self.hass.config.path(*EXPORT_FOLDER))
        stem = f"anpr-history-{slugify(title) or self.entry_id}-{now:%Y%m%d-%H%M%S}"
        document = {"entry": title, "exported_at": now.isoformat(), "visits": rows}
        path = await self.hass.async_add_executor_job(
            _write_export, folder, stem, export_format, document
        )
        LOGGER.info("Exported %d visits to %s", len(rows), path)
        return path, len(rows)

    async def async_remove_store(self) -> None:
        """Delete the stored history (the entry is being removed)."""
        await self._store.async_remove()


def _write_export(
    folder: Path, stem: str, export_format: ExportFormat, document: dict[str, Any]
) -> Path:
    """Write an export into a new file (never over an older one); runs in the executor."""
    folder.mkdir(parents=True, exist_ok=True)
    attempt = 1
    while True:
        path = folder / f"{stem}{'' if attempt == 1 else f'-{attempt}'}.{export_format}"
        try:
            with path.open("x", encoding="utf-8", newline="") as file:
                if export_format == "json":
                    json.dump(document, file, indent=2, ensure_ascii=False)
                else:
                    writer = csv.DictWriter(file, fieldnames=FIELDS)
                    writer.writeheader()
                    writer.writerows(document["visits"])
        except FileExistsError:
            attempt += 1
            continue
        return path


async def async_get_history(hass: HomeAssistant, entry_id: str) -> VisitHistory:
    """Return the loaded history of `entry_id`, loading it on first use."""
    return await async_get_entry_data(hass, DATA_HISTORIES, entry_id, VisitHistory)


async def async_remove_history(hass: HomeAssistant, entry_id: str) -> None:
    """Delete the history of a removed entry, stored or in memory."""
    await async_remove_entry_data(hass, DATA_HISTORIES, entry_id, VisitHistory)
