"""The typed runtime data of a loaded entry, and the entry's type.

Its own module so that the parts of an entry never import it: they are given what they need
at construction (`__init__.py` wires them), and only the platforms, the actions and
diagnostics read `entry.runtime_data`. That keeps the import graph free of loops.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import TYPE_CHECKING

from homeassistant.config_entries import ConfigEntry

if TYPE_CHECKING:
    from .api import AnprClient
    from .coordinator import AnprHealthCoordinator
    from .gate import GateController
    from .history import VisitHistory
    from .registry import PlateRegistry
    from .settings import EntrySettings
    from .source_view import PlateSourceView
    from .sources.gate import SourceGate
    from .sources.runtime import SourceRuntime
    from .watcher import CameraWatcher


@dataclass(kw_only=True)
class AnprData:
    """Everything a loaded entry owns, kept in `entry.runtime_data`."""

    client: AnprClient
    coordinator: AnprHealthCoordinator
    settings: EntrySettings
    registry: PlateRegistry
    """The entry's registered plates (shared with the options flow and the actions)."""
    history: VisitHistory
    watchers: dict[str, CameraWatcher]
    """One watcher per watched camera, keyed by camera entity id."""
    gates: dict[str, GateController | SourceGate]
    """The gate control of each watched camera and plate source, keyed by its id."""
    sources: dict[str, SourceRuntime] = field(default_factory=dict)
    """Plate sources other than cameras (`sources/`), keyed by source id."""

    def all_sources(self) -> list[PlateSourceView]:
        """Return the watched cameras and the other plate sources: each has a device."""
        return [*self.watchers.values(), *self.sources.values()]


type AnprConfigEntry = ConfigEntry[AnprData]
