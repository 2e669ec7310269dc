"""The stable instance id kept in the data directory."""

from __future__ import annotations

from concurrent.futures import ThreadPoolExecutor
import logging
import re
import threading
from typing import TYPE_CHECKING

import pytest

from anpr_inference.instance import FILE_NAME, load_or_create_instance_id

if TYPE_CHECKING:
    from pathlib import Path

HEX32 = re.compile(r"[0-9a-f]{32}")


def test_creates_id_and_directory(tmp_path: Path) -> None:
    data_dir = tmp_path / "deep" / "data"
    instance_id = load_or_create_instance_id(data_dir)
    assert HEX32.fullmatch(instance_id)
    assert (data_dir / FILE_NAME).read_text(encoding="ascii").strip() == instance_id
    assert [p.name for p in data_dir.iterdir()] == [FILE_NAME]  # no temporary file left


def test_id_survives_restarts(tmp_path: Path) -> None:
    first = load_or_create_instance_id(tmp_path)
    assert load_or_create_instance_id(tmp_path) == first
    assert load_or_create_instance_id(tmp_path) == first


def test_different_directories_get_different_ids(tmp_path: Path) -> None:
    assert load_or_create_instance_id(tmp_path / "a") != load_or_create_instance_id(tmp_path / "b")


def test_keeps_an_existing_id_in_any_case(tmp_path: Path) -> None:
    (tmp_path / FILE_NAME).write_text("  0123456789ABCDEF0123456789ABCDEF\n", encoding="ascii")
    assert load_or_create_instance_id(tmp_path) == "0123456789abcdef0123456789abcdef"


@pytest.mark.parametrize("content", [b"", b"not-an-id\n", b"0123", b"\xff\xfe garbage"])
def test_replaces_a_malformed_file(
    tmp_path: Path, content: bytes, caplog: pytest.LogCaptureFixture
) -> None:
    (tmp_path / FILE_NAME).write_bytes(content)
    with caplog.at_level(logging.WARNING, logger="anpr_inference.instance"):
        instance_id = load_or_create_instance_id(tmp_path)
    assert HEX32.fullmatch(instance_id)
    assert "instance id" in caplog.text
    assert load_or_create_instance_id(tmp_path) == instance_id
    assert sorted(p.name for p in tmp_path.iterdir()) == [FILE_NAME]


def test_concurrent_first_starts_agree(tmp_path: Path) -> None:
    barrier = threading.Barrier(8)

    def start() -> str:
        barrier.wait()
        return load_or_create_instance_id(tmp_path)

    with ThreadPoolExecutor(max_workers=8) as pool:
        ids = set(pool.map(lambda _: start(), range(8)))
    assert len(ids) == 1
    assert ids == {load_or_create_instance_id(tmp_path)}
    assert sorted(p.name for p in tmp_path.iterdir()) == [FILE_NAME]


def test_unusable_directory_raises_oserror(tmp_path: Path) -> None:
    blocker = tmp_path / "file"
    blocker.write_text("x", encoding="ascii")
    with pytest.raises(OSError, match="file"):
        load_or_create_instance_id(blocker / "data")
