"""Building and starting an entry's plate sources (`__init__.py` calls these two).

Each source gets a `SourceRuntime` (visits, presence, events), a gate behind its permission
(`SourceGate`), and the part that hears its reads: an `EntitySource`, a `FrigateSource`, or
nothing for an action source (`anpr.report_plate` reaches its runtime directly).
"""

from __future__ import annotations

from dataclasses import replace
from typing import TYPE_CHECKING, Any

from homeassistant.core import HomeAssistant, callback
from homeassistant.helpers.aiohttp_client import async_get_clientsession
from homeassistant.helpers.start import async_at_started

from ..gate import GateController, GateDeps
from .entity_source import EntitySource
from .frigate_source import FrigateSource
from .gate import SourceGate
from .issues import async_source_entity_back
from .runtime import SourceRuntime
from .settings import SourceKind

if TYPE_CHECKING:
    from collections.abc import Callable, Coroutine, Mapping

    from ..history import VisitHistory
    from .settings import SourceSettings


class NoServiceNeeded:
    """The health a source's gate checks: always fine, a text source needs no service."""

    last_update_success = True

    def async_set_update_error(self, err: Exception) -> None:
        """Nothing to mark: sources never call the service."""

    async def async_request_refresh(self) -> None:
        """Nothing to check."""


@callback
def async_build_sources(
    hass: HomeAssistant,
    entry_id: str,
    settings: Mapping[str, SourceSettings],
    gate_deps: GateDeps,
) -> tuple[dict[str, SourceRuntime], dict[str, SourceGate]]:
    """Return the runtime and the gate of each configured source, by source id."""
    sources = {
        key: SourceRuntime(hass, entry_id, source, gate_deps.registry)
        for key, source in settings.items()
    }
    # Text reads need no inference service: its outage does not shut a source's gate.
    deps = replace(gate_deps, health=NoServiceNeeded())
    gates = {
        key: SourceGate(source, GateController(hass, source, deps))
        for key, source in sources.items()
    }
    return sources, gates


@callback
def async_start_sources(
    hass: HomeAssistant,
    entry_id: str,
    sources: Mapping[str, SourceRuntime],
    history: VisitHistory,
    create_task: Callable[[Coroutine[Any, Any, None], str], object],
) -> Callable[[], None]:
    """Start hearing every source's reads; return what stops them all."""
    stops: list[Callable[[], None]] = []
    for source in sources.values():
        stops.append(source.async_add_visit_listener(history.async_record))
        stops.append(source.async_stop)
        kind = source.settings.kind
        if kind is SourceKind.ENTITY:
            stops.extend(_async_start_entity_source(hass, entry_id, source))
        elif kind is SourceKind.FRIGATE:
            frigate = FrigateSource(hass, source, async_get_clientsession(hass), create_task)
            create_task(frigate.async_start(), f"anpr frigate {source.entity_id}")

    @callback
    def _async_stop() -> None:
        """Stop in reverse order."""
        while stops:
            stops.pop()()

    return _async_stop


@callback
def _async_start_entity_source(
    hass: HomeAssistant, entry_id: str, source: SourceRuntime
) -> list[Callable[[], None]]:
    """Follow an entity source; check its entity once Home Assistant has started."""
    reader = EntitySource(hass, entry_id, source)
    reader.async_start()

    @callback
    def _async_started(_hass: HomeAssistant) -> None:
        reader.async_check()

    @callback
    def _async_clear_issue() -> None:
        async_source_entity_back(hass, entry_id, reader.entity_id)

    return [async_at_started(hass, _async_started), _async_clear_issue]
