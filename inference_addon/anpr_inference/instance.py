"""The service's stable identity: a random id kept in the data directory.

Home Assistant gives each config entry a unique id so the same service found twice (typed in
by hand, then announced by the Supervisor) is configured once; the id must therefore survive
restarts, upgrades and address changes, which only a value stored on disk does. It is random
rather than derived from the host or port, so two services on one machine still differ.
"""

from __future__ import annotations

import logging
import os
from pathlib import Path
import re
import tempfile
import uuid

_LOGGER = logging.getLogger(__name__)

FILE_NAME = "instance_id"
_VALID = re.compile(r"[0-9a-f]{32}")


def load_or_create_instance_id(data_dir: Path) -> str:
    """Return the id stored in `data_dir/instance_id`, creating it on first start.

    The file is written to a temporary file first and then linked into place, so a reader
    never sees a half-written id and two processes starting at once agree on one id (the
    second finds the first's file instead of overwriting it). A file that holds anything but
    32 hex digits is replaced, with a warning: the alternative, refusing to start, would keep
    the service down over a value nobody edits by hand.

    Raises OSError when the directory cannot be created or written.
    """
    path = data_dir / FILE_NAME
    existing = _read(path)
    if existing is not None:
        return existing
    data_dir.mkdir(parents=True, exist_ok=True)
    new_id = uuid.uuid4().hex
    fd, tmp_name = tempfile.mkstemp(prefix=f".{FILE_NAME}.", dir=data_dir)
    tmp = Path(tmp_name)
    try:
        with os.fdopen(fd, "w", encoding="ascii") as file:
            file.write(new_id + "\n")
            file.flush()
            os.fsync(file.fileno())
        try:
            os.link(tmp, path)  # atomic "create if absent", with the content already there
        except FileExistsError:
            # Either another process created it since we looked (use theirs) or the file
            # we found was malformed (replace it atomically).
            if (theirs := _read(path, quiet=True)) is not None:
                return theirs
            tmp.replace(path)
        except OSError:
            # The filesystem has no hard links (vfat, some network mounts): fall back to an
            # atomic rename, which only loses the tie-break between simultaneous first starts.
            tmp.replace(path)
    finally:
        tmp.unlink(missing_ok=True)
    _fsync_dir(data_dir)
    _LOGGER.info("Created instance id %s in %s", new_id, path)
    return new_id


def _read(path: Path, *, quiet: bool = False) -> str | None:
    """Return the valid id stored at `path`, or None when absent or malformed."""
    try:
        text = path.read_text(encoding="ascii").strip().lower()
    except FileNotFoundError:
        return None
    except (OSError, UnicodeDecodeError) as err:
        if quiet:
            return None
        _LOGGER.warning("Cannot read instance id from %s (%s); creating a new one", path, err)
        return None
    if _VALID.fullmatch(text):
        return text
    if not quiet:
        _LOGGER.warning("%s does not hold a valid instance id; creating a new one", path)
    return None


def _fsync_dir(directory: Path) -> None:
    """Make the new directory entry durable (best effort: not every platform allows it)."""
    try:
        fd = os.open(directory, os.O_RDONLY)
    except OSError:
        return
    try:
        os.fsync(fd)
    except OSError:
        pass
    finally:
        os.close(fd)
