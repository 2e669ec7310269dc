"""What the entities and the gate read of a plate source: a watched camera or another source.

Its own module so that `gate.py`, the entities and the runtime data can all name it without
importing one another.
"""

from __future__ import annotations

from typing import TYPE_CHECKING

if TYPE_CHECKING:
    from .sources.runtime import SourceRuntime
    from .watcher import CameraWatcher

type PlateSourceView = CameraWatcher | SourceRuntime
"""Whatever reports plates for a device's entities: a watched camera or another source."""
