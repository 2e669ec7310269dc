"""A rewritten model kept beside its source file, so that `fusion` rewrites it only once.

Rewriting the embedded detector costs about half a second of every start (onnx loads,
checks, rewrites, checks again and serializes it), for a result that only depends on the
source file and on the rewrite itself. `FusedCopy` keeps that result as two files beside
the source, `NAME.fused.onnx` and `NAME.fused.json`; the JSON records the rewrite's
version, the SHA-256 of the source and of the fused file, and the rewrite's report.

A copy is used only when all of it matches: a missing, unreadable, truncated or altered
file, another source or another rewrite version all make it a miss, and the caller rewrites
and stores it again. Each file is written to a temporary file in the same folder and renamed
over the old one (atomic on POSIX), the JSON last, so a reader sees a complete old or a
complete new copy, and an interrupted write leaves a mismatch, never a wrong model.
"""

from __future__ import annotations

from dataclasses import dataclass
import hashlib
import json
import os
from pathlib import Path
import tempfile
from typing import Final

REWRITE_VERSION: Final = 1
"""Version of the rewrite `fusion` does: raise it whenever the fused graph would differ, so
that every stored copy made by the older rewrite is rebuilt."""


class CopyMismatchError(Exception):
    """No usable fused copy is stored; the message says why (for a debug log)."""


@dataclass(frozen=True, slots=True)
class StoredCopy:
    """A fused copy that matches its source: the file to load and the rewrite's report."""

    path: Path
    report: str


class FusedCopy:
    """The fused copy of one source model, stored beside it."""

    def __init__(self, source: Path, *, version: int = REWRITE_VERSION) -> None:
        """Name the copy of `source` made by rewrite `version`; nothing is read yet."""
        self.source = source
        self.version = version
        self.model = source.with_name(f"{source.stem}.fused.onnx")
        self.record = source.with_name(f"{source.stem}.fused.json")
        self._source_sha256: str | None = None

    def source_sha256(self) -> str:
        """Return the source file's SHA-256 (read once); raises OSError if it can't be read."""
        if self._source_sha256 is None:
            self._source_sha256 = _sha256(self.source)
        return self._source_sha256

    def load(self) -> StoredCopy:
        """Return the stored copy if it matches; raise `CopyMismatchError` if not."""
        try:
            record = json.loads(self.record.read_text(encoding="utf-8"))
            wanted = {
                "rewrite_version": self.version,
                "source_sha256": self.source_sha256(),
                "fused_sha256": _sha256(self.model),
            }
        except (OSError, ValueError) as err:
            raise CopyMismatchError(f"no readable copy ({err})") from err
        if not isinstance(record, dict) or not isinstance(record.get("report"), str):
            raise CopyMismatchError(f"{self.record.name} is not a fused copy's record")
        for key, value in wanted.items():
            if record.get(key) != value:
                raise CopyMismatchError(f"its {key} is {record.get(key)!r}, not {value!r}")
        return StoredCopy(self.model, record["report"])

    def store(self, model: bytes, report: str) -> Path:
        """Write `model` (the rewrite of the source) and its record; return the model's path.

        Raises OSError when the folder can't be written (a read-only install).
        """
        record = {
            "rewrite_version": self.version,
            "source_sha256": self.source_sha256(),
            "fused_sha256": hashlib.sha256(model).hexdigest(),
            "report": report,
        }
        _write_atomically(self.model, model)
        _write_atomically(self.record, (json.dumps(record, indent=2) + "\n").encode())
        return self.model


def _sha256(path: Path) -> str:
    digest = hashlib.sha256()
    with path.open("rb") as file:
        for block in iter(lambda: file.read(1 << 20), b""):
            digest.update(block)
    return digest.hexdigest()


def _write_atomically(path: Path, data: bytes) -> None:
    """Write `data` to a temporary file beside `path`, flush it to disk, rename it over."""
    handle, temporary = tempfile.mkstemp(dir=path.parent, prefix=f".{path.name}.", suffix=".tmp")
    try:
        with os.fdopen(handle, "wb") as file:
            file.write(data)
            file.flush()
            os.fsync(file.fileno())
        Path(temporary).chmod(0o644)
        Path(temporary).replace(path)
    except BaseException:
        Path(temporary).unlink(missing_ok=True)
        raise
