"""The `anpr-inference load` command: simulated cameras against a real service.

The command's own figures (throughput, latency, memory) are measured on a quiet machine, not
here; these tests check that it drives a service the way it says, counts every outcome where
it belongs, stays bounded, and starts and stops the service it measures. One test runs the
whole command with the real models; the rest drive an in-process app with a fake engine.
"""

from __future__ import annotations

import io
import json
import os
import socket
import sys
import threading
from typing import TYPE_CHECKING, Any

from PIL import Image
import pytest
from yarl import URL

from anpr_inference.cli import main, make_parser
from anpr_inference.config import ServiceConfig
from anpr_inference.server import create_app
from anpr_inference_tools.loaddrive import (
    LoadError,
    Photo,
    drive,
    load_photos,
    read_proc_status,
    rss_probe,
)
from anpr_inference_tools.loadreport import LoadSettings, MemoryReport, report_text
from anpr_inference_tools.loadservice import service_environment

from .test_server import API_KEY, INSTANCE_ID, FakeEngine

if TYPE_CHECKING:
    from pathlib import Path

    from aiohttp.test_utils import TestServer

REPORT_KEYS = {
    "version",
    "target",
    "settings",
    "duration_s",
    "offered_per_second",
    "throughput_per_second",
    "requests",
    "latency_ms",
    "errors",
    "health",
    "slow_clients",
    "memory",
}
REQUEST_KEYS = {"scheduled", "sent", "answered", "rejected", "failed", "dropped", "unfinished"}


def small_jpeg() -> bytes:
    """Return a tiny real JPEG (what the fake engine gets does not matter, decoding does)."""
    buffer = io.BytesIO()
    Image.new("RGB", (64, 48), (10, 200, 10)).save(buffer, "JPEG")
    return buffer.getvalue()


PHOTO = Photo("car.jpg", small_jpeg(), "image/jpeg")


def assert_consistent(document: dict[str, Any]) -> None:
    """Every scheduled frame is accounted for exactly once."""
    assert set(document) == REPORT_KEYS
    requests = document["requests"]
    assert set(requests) == REQUEST_KEYS
    assert requests["scheduled"] == requests["sent"] + requests["dropped"]
    assert requests["sent"] == (
        requests["answered"] + requests["rejected"] + requests["failed"] + requests["unfinished"]
    )
    assert requests["failed"] == sum(document["errors"].values())
    assert set(document["latency_ms"]) == {"p50", "p95", "p99", "max", "mean"}
    assert set(document["health"]) == {"polls", "failures", "worst_ms", "p50_ms"}


async def start_app(aiohttp_server: Any, tmp_path: Path, engine: Any, **settings: Any) -> URL:
    """Serve the real app with `engine` on 127.0.0.1; return its base URL."""
    config = ServiceConfig(data_dir=tmp_path, **settings)
    server: TestServer = await aiohttp_server(create_app(config, engine, instance_id=INSTANCE_ID))
    return URL(str(server.make_url("/")))


# --- the whole command, real service -------------------------------------------------------


def test_load_command_starts_a_real_service_and_reports(
    models_dir: Path, dataset_dir: Path, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    code = main(
        [
            "load",
            "--cameras",
            "2",
            "--fps",
            "2",
            "--seconds",
            "2",
            "--max-images",
            "4",
            "--detector",
            "embedded",
            "--ocr-path",
            str(models_dir / "cct_xs_v1_global.onnx"),
            "--data-dir",
            str(tmp_path / "data"),
            "--model-dir",
            str(tmp_path / "models"),
            "--no-download",
            "--json",
            str(dataset_dir / "br"),
        ]
    )
    out = capsys.readouterr().out
    assert code == 0, out
    document = json.loads(out)
    assert_consistent(document)
    assert document["version"] == 1
    target = document["target"]
    assert target["started"] is True
    assert target["exit_code"] == 0  # stopped gracefully
    assert URL(target["url"]).host == "127.0.0.1"
    assert document["settings"] == {
        "cameras": 2,
        "fps": 2.0,
        "seconds": 2.0,
        "max_outstanding": 4,
        "timeout": 30.0,
        "drain_timeout": 30.0,
        "images": 4,
        "slow_clients": 0,
        "slow_interval": 1.0,
    }
    assert document["slow_clients"] is None
    assert document["offered_per_second"] == 4.0
    requests = document["requests"]
    assert requests["scheduled"] == 8
    assert requests["answered"] >= 1
    assert document["throughput_per_second"] > 0
    assert document["latency_ms"]["p50"] > 0
    assert document["latency_ms"]["p50"] <= document["latency_ms"]["p99"]
    assert document["health"]["polls"] >= 1
    assert document["health"]["failures"] == 0
    memory = document["memory"]
    assert memory is not None  # psutil or /proc: the test machines have one of them
    assert memory["peak_rss_bytes"] >= memory["idle_rss_bytes"] > 0


def test_a_service_that_does_not_start_is_reported(
    dataset_dir: Path, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    code = main(
        [
            "load",
            "--seconds",
            "1",
            "--detector",
            "file",  # without --detector-path: the service refuses to start
            "--data-dir",
            str(tmp_path / "data"),
            "--model-dir",
            str(tmp_path / "models"),
            "--no-download",
            str(dataset_dir / "br"),
        ]
    )
    assert code == 1
    err = capsys.readouterr().err
    assert "error: the service exited before listening" in err
    assert "its log ends with" in err


# --- driving an in-process service ---------------------------------------------------------


async def test_every_frame_is_sent_and_answered(aiohttp_server: Any, tmp_path: Path) -> None:
    url = await start_app(aiohttp_server, tmp_path, FakeEngine())
    settings = LoadSettings(cameras=3, fps=10, seconds=0.5)
    report = await drive(url, [PHOTO], settings)
    document = report.as_dict()
    assert_consistent(document)
    assert document["requests"] == {
        "scheduled": 15,
        "sent": 15,
        "answered": 15,
        "rejected": 0,
        "failed": 0,
        "dropped": 0,
        "unfinished": 0,
    }
    assert document["errors"] == {}
    assert document["health"]["polls"] >= 1
    assert document["health"]["failures"] == 0
    assert document["memory"] is None
    assert document["target"] == {
        "url": str(url),
        "started": False,
        "pid": None,
        "exit_code": None,
    }
    text = report_text(report)
    assert "15 ok" in text
    assert "latency of ok answers: p50" in text
    assert "0 dropped\n" in text
    assert "service memory" not in text


async def test_the_api_key_is_sent(aiohttp_server: Any, tmp_path: Path) -> None:
    url = await start_app(aiohttp_server, tmp_path, FakeEngine(), api_key=API_KEY)
    settings = LoadSettings(cameras=1, fps=10, seconds=0.2)
    answered = (await drive(url, [PHOTO], settings, api_key=API_KEY)).as_dict()["requests"]
    assert answered["answered"] == 2
    refused = (await drive(url, [PHOTO], settings)).as_dict()["errors"]
    assert refused == {"401 unauthorized": 2}


async def test_overload_is_counted_and_the_client_stays_bounded(
    aiohttp_server: Any, tmp_path: Path
) -> None:
    """One worker, no queue, an engine that never finishes while the load runs."""
    gate = threading.Event()
    url = await start_app(aiohttp_server, tmp_path, FakeEngine(gate=gate), max_queue=0)
    settings = LoadSettings(
        cameras=2, fps=20, seconds=0.5, max_outstanding=1, timeout=30, drain_timeout=0.2
    )
    try:
        report = await drive(url, [PHOTO], settings)
    finally:
        gate.set()  # let the worker go, so the app can shut down
    document = report.as_dict()
    assert_consistent(document)
    requests = document["requests"]
    # The one admitted request never finished: its camera dropped every later frame (it
    # had max_outstanding unanswered) and it was cancelled after the drain timeout; the
    # other camera was told 503 for every frame.
    assert requests["answered"] == 0
    assert requests["unfinished"] == 1
    assert requests["rejected"] >= 1
    assert requests["dropped"] >= 1
    assert document["latency_ms"]["p50"] is None
    assert document["throughput_per_second"] == 0
    assert document["health"]["failures"] == 0  # health answered all along
    assert "requests unanswered" in report_text(report)


async def test_errors_are_counted_by_kind(aiohttp_server: Any, tmp_path: Path) -> None:
    url = await start_app(aiohttp_server, tmp_path, FakeEngine(), max_pixels=10_000)
    big = io.BytesIO()
    Image.new("RGB", (200, 100)).save(big, "PNG")
    photos = [
        PHOTO,
        Photo("broken.jpg", b"\xff\xd8\xff not really", "image/jpeg"),
        Photo("big.png", big.getvalue(), "image/png"),
    ]
    report = await drive(url, photos, LoadSettings(cameras=3, fps=10, seconds=0.3))
    document = report.as_dict()
    assert_consistent(document)
    assert document["requests"]["answered"] == 3
    assert document["errors"] == {"400 invalid_image": 3, "413 image_too_large": 3}


async def test_an_unreachable_service_gives_connection_errors() -> None:
    url = URL(f"http://127.0.0.1:{free_port()}")
    report = await drive(url, [PHOTO], LoadSettings(cameras=1, fps=10, seconds=0.2))
    document = report.as_dict()
    assert_consistent(document)
    assert document["errors"] == {"connection": 2}
    assert document["health"]["failures"] >= 1


def free_port() -> int:
    """Return a loopback port nothing listens on (bound, then released)."""
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        port: int = probe.getsockname()[1]
    return port


def test_a_url_not_on_this_machine_gets_a_warning(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    """0.0.0.0 is not a loopback address, but nothing listens there: connection errors."""
    photos = tmp_path / "photos"
    photos.mkdir()
    (photos / "car.jpg").write_bytes(PHOTO.data)
    code = main(
        [
            "load",
            "--url",
            f"http://0.0.0.0:{free_port()}",  # nothing is bound there: connections fail
            "--cameras",
            "1",
            "--fps",
            "5",
            "--seconds",
            "0.2",
            "--workers",
            "2",
            "--json",
            str(photos),
        ]
    )
    captured = capsys.readouterr()
    assert code == 1  # nothing was answered
    assert "warning: 0.0.0.0 is not a loopback address" in captured.err
    assert "--workers only apply to a service this command starts" in captured.err
    document = json.loads(captured.out)
    assert document["target"]["started"] is False
    assert document["requests"]["answered"] == 0


# --- pieces --------------------------------------------------------------------------------


@pytest.mark.parametrize(
    "argv",
    [
        ["--cameras", "0"],
        ["--fps", "0"],
        ["--fps", "nan"],
        ["--seconds", "-1"],
        ["--max-outstanding", "x"],
        ["--url", "ftp://127.0.0.1/"],
        ["--url", "127.0.0.1:8756"],
        ["--url", "http://127.0.0.1:8756/?x=1"],
    ],
)
def test_bad_arguments_are_refused(argv: list[str], capsys: pytest.CaptureFixture[str]) -> None:
    with pytest.raises(SystemExit) as exit_info:
        make_parser().parse_args(["load", *argv, "photos"])
    assert exit_info.value.code == 2
    assert "error:" in capsys.readouterr().err


def test_load_photos_reads_images_only_sorted_and_limited(tmp_path: Path) -> None:
    (tmp_path / "b").mkdir()
    (tmp_path / "b" / "2.PNG").write_bytes(b"png")
    (tmp_path / "1.jpeg").write_bytes(b"jpeg")
    (tmp_path / "3.webp").write_bytes(b"webp")
    (tmp_path / "notes.txt").write_text("not an image")
    photos = load_photos(tmp_path, limit=10)
    assert [(p.name, p.content_type, p.data) for p in photos] == [
        ("1.jpeg", "image/jpeg", b"jpeg"),
        ("3.webp", "image/webp", b"webp"),
        ("b/2.PNG", "image/png", b"png"),
    ]
    assert len(load_photos(tmp_path, limit=2)) == 2


def test_load_photos_refuses_a_folder_without_images(tmp_path: Path) -> None:
    (tmp_path / "notes.txt").write_text("not an image")
    with pytest.raises(LoadError, match="no JPEG, PNG or WebP images"):
        load_photos(tmp_path, limit=10)
    with pytest.raises(LoadError, match="is not a folder"):
        load_photos(tmp_path / "missing", limit=10)


def test_missing_folder_is_exit_code_2(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    assert main(["load", "--url", "http://127.0.0.1:1", str(tmp_path / "missing")]) == 2
    assert "is not a folder" in capsys.readouterr().err


def test_service_environment_carries_the_settings(tmp_path: Path) -> None:
    config = ServiceConfig(
        api_key="k" * 12,
        workers=3,
        allow_download=False,
        data_dir=tmp_path,
        host="192.0.2.1",  # never passed on: the command picks the address itself
    )
    env = service_environment(config, {"PATH": "/bin", "ANPR_WORKERS": "9", "ANPR_MAX_QUEUE": "99"})
    assert env == {
        "PATH": "/bin",
        "ANPR_API_KEY": "k" * 12,
        "ANPR_WORKERS": "3",
        "ANPR_ALLOW_DOWNLOAD": "false",
        "ANPR_DATA_DIR": str(tmp_path),
    }
    # What is passed on reads back as the same settings.
    assert ServiceConfig().with_values(
        {key[5:].lower(): value for key, value in env.items() if key.startswith("ANPR_")}
    ) == ServiceConfig(api_key="k" * 12, workers=3, allow_download=False, data_dir=tmp_path)


def test_memory_of_a_process_is_readable(monkeypatch: pytest.MonkeyPatch) -> None:
    probe = rss_probe(os.getpid())
    assert probe is not None
    method, read = probe
    assert method == "psutil"
    rss = read()
    assert rss is not None
    assert rss > 0
    if sys.platform == "linux":
        # Without psutil, Linux's /proc does the same job.
        monkeypatch.setitem(sys.modules, "psutil", None)
        fallback = rss_probe(os.getpid())
        assert fallback is not None
        assert fallback[0] == "procfs"
        assert (fallback[1]() or 0) > 0
        peak = read_proc_status(os.getpid(), "VmHWM")
        assert peak is not None
        assert peak >= (fallback[1]() or 0) // 2
    assert read_proc_status(2**22 + 12345, "VmRSS") is None  # no such process


def test_memory_report_keeps_the_peak_and_the_last_sample() -> None:
    memory = MemoryReport(method="test")
    for sample in (100, None, 300, 200):
        memory.observe(sample)
    assert (memory.peak_rss_bytes, memory.end_rss_bytes) == (300, 200)
