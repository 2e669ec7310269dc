"""Model resolution and downloads with real files, the real rapidocr package and a real server.

Hub downloads go to a local HTTP server on 127.0.0.1 that serves the shared OCR model and a
tiny hand-built ONNX detector, and can misbehave on demand (errors, short bodies, stalls).
"""

from __future__ import annotations

from dataclasses import dataclass, field
import hashlib
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
import importlib.util
import json
from pathlib import Path
import shutil
import socket
import threading
from typing import TYPE_CHECKING, Any

import pytest

from anpr_inference import model_download, models
from anpr_inference.cli import main
from anpr_inference.config import DEFAULT_HUB_DETECTOR, DEFAULT_HUB_OCR, ServiceConfig
from anpr_inference.models import (
    DownloadError,
    ModelUnavailableError,
    download_file,
    embedded_model_dir,
    hub_detector_models,
    hub_ocr_models,
    is_verified,
    resolve_models,
)

if TYPE_CHECKING:
    from collections.abc import Iterator

SHARED_MODELS = Path(__file__).resolve().parents[2] / ".." / "shared" / "models"
OCR_ONNX = "cct_xs_v1_global.onnx"
OCR_YAML = "cct_xs_v1_global_plate_config.yaml"
DETECTOR_ONNX = "yolo-v9-t-384-license-plates-end2end.onnx"
V2_ONNX = "cct_xs_v2_global.onnx"
V2_YAML = "cct_xs_v2_global_plate_config.yaml"
V1_NAME, V2_NAME = "cct-xs-v1-global-model", "cct-xs-v2-global-model"


# --------------------------------------------------------------------------------------------
# A tiny valid ONNX model (Identity on a float[1]), encoded by hand: the `onnx` package is not
# a dependency, and the hub detector only needs to be something onnxruntime accepts.


def _varint(value: int) -> bytes:
    out = bytearray()
    while True:
        byte, value = value & 0x7F, value >> 7
        out.append(byte | (0x80 if value else 0))
        if not value:
            return bytes(out)


def _field(number: int, value: int | str | bytes) -> bytes:
    if isinstance(value, int):
        return _varint(number << 3) + _varint(value)
    data = value.encode() if isinstance(value, str) else value
    return _varint(number << 3 | 2) + _varint(len(data)) + data


def tiny_onnx() -> bytes:
    """ModelProto(ir_version=8, opset 13, graph: y = Identity(x), x and y float[1])."""
    tensor_type = _field(1, _field(1, 1) + _field(2, _field(1, _field(1, 1))))

    def value_info(name: str) -> bytes:
        return _field(1, name) + _field(2, tensor_type)

    node = _field(1, "x") + _field(2, "y") + _field(4, "Identity")
    graph = (
        _field(1, node) + _field(2, "g") + _field(11, value_info("x")) + _field(12, value_info("y"))
    )
    return _field(1, 8) + _field(8, _field(1, "") + _field(2, 13)) + _field(7, graph)


# --------------------------------------------------------------------------------------------
# A model server that can misbehave


@dataclass(frozen=True)
class Reply:
    """One answer of the model server.

    kind: `ok` (200, correct length), `status` (that HTTP status), `short` (announces the full
    length, sends half, closes), `stall` (waits for `release` before answering).
    """

    kind: str
    body: bytes = b""
    status: int = 200


@dataclass
class ModelServer:
    """Routes path -> replies; each request takes the next reply, the last one repeats."""

    routes: dict[str, list[Reply]] = field(default_factory=dict)
    hits: dict[str, int] = field(default_factory=dict)
    release: threading.Event = field(default_factory=threading.Event)
    url: str = ""
    _httpd: ThreadingHTTPServer | None = None

    def serve(self, path: str, *replies: Reply) -> None:
        """Set what `path` answers."""
        self.routes[path] = list(replies)

    def next_reply(self, path: str) -> Reply:
        """Count the hit and pick the reply."""
        self.hits[path] = self.hits.get(path, 0) + 1
        replies = self.routes.get(path)
        if not replies:
            return Reply("status", status=404)
        return replies.pop(0) if len(replies) > 1 else replies[0]

    def start(self) -> None:
        """Listen on a free port of 127.0.0.1 in a background thread."""
        server = self

        class Handler(BaseHTTPRequestHandler):
            def do_GET(self) -> None:
                reply = server.next_reply(self.path)
                if reply.kind == "stall":
                    server.release.wait(10)
                    reply = Reply("ok", b"late")
                status = reply.status if reply.kind == "status" else 200
                body = reply.body or (b"error page" if reply.kind == "status" else b"")
                self.send_response(status)
                self.send_header("Content-Type", "application/octet-stream")
                self.send_header("Content-Length", str(len(body)))
                self.end_headers()
                self.wfile.write(body[: len(body) // 2] if reply.kind == "short" else body)
                self.close_connection = True

            def log_message(self, format: str, *args: Any) -> None:  # noqa: A002
                """Keep test output quiet."""

        class QuietServer(ThreadingHTTPServer):
            def handle_error(self, request: Any, client_address: Any) -> None:
                """Clients hanging up early is what some tests do."""

        self._httpd = QuietServer(("127.0.0.1", 0), Handler)
        self._httpd.daemon_threads = True
        self.url = f"http://127.0.0.1:{self._httpd.server_address[1]}"
        threading.Thread(
            target=self._httpd.serve_forever, kwargs={"poll_interval": 0.02}, daemon=True
        ).start()

    def stop(self) -> None:
        """Stop listening (idempotent)."""
        self.release.set()
        if self._httpd is not None:
            self._httpd.shutdown()
            self._httpd.server_close()
            self._httpd = None


@pytest.fixture(scope="session")
def shared_models() -> Path:
    if not (SHARED_MODELS / OCR_ONNX).is_file() or not (SHARED_MODELS / OCR_YAML).is_file():
        pytest.fail(f"the shared OCR model is missing: expected {OCR_ONNX} in {SHARED_MODELS}")
    return SHARED_MODELS.resolve()


@pytest.fixture(scope="session")
def ocr_files(shared_models: Path) -> dict[str, bytes]:
    return {
        OCR_ONNX: (shared_models / OCR_ONNX).read_bytes(),
        OCR_YAML: (shared_models / OCR_YAML).read_bytes(),
    }


@pytest.fixture
def server() -> Iterator[ModelServer]:
    srv = ModelServer()
    srv.start()
    yield srv
    srv.stop()


@pytest.fixture
def hub_server(
    server: ModelServer, ocr_files: dict[str, bytes], shared_models: Path
) -> ModelServer:
    """Serve the hub detector and the default OCR models."""
    server.serve(f"/{DETECTOR_ONNX}", Reply("ok", tiny_onnx()))
    server.serve(f"/{OCR_ONNX}", Reply("ok", ocr_files[OCR_ONNX]))
    server.serve(f"/{OCR_YAML}", Reply("ok", ocr_files[OCR_YAML]))
    for name in (V2_ONNX, V2_YAML):
        server.serve(f"/{name}", Reply("ok", (shared_models / name).read_bytes()))
    return server


@pytest.fixture(autouse=True)
def sleeps(monkeypatch: pytest.MonkeyPatch) -> list[float]:
    """Record retry pauses instead of waiting."""
    recorded: list[float] = []
    monkeypatch.setattr(model_download, "_sleep", recorded.append)
    return recorded


@pytest.fixture
def closed_port_url() -> str:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        port = sock.getsockname()[1]
    return f"http://127.0.0.1:{port}"


def make_config(model_dir: Path, **values: Any) -> ServiceConfig:
    return ServiceConfig().with_values({"model_dir": str(model_dir), **values})


def leftovers(folder: Path) -> list[str]:
    """Temporary download files still lying around."""
    return sorted(p.name for p in folder.rglob("*.part")) if folder.exists() else []


# --------------------------------------------------------------------------------------------
# download_file


def test_download_writes_the_whole_file(server: ModelServer, tmp_path: Path) -> None:
    body = bytes(range(256)) * 5000
    server.serve("/f.bin", Reply("ok", body))
    dest = tmp_path / "sub" / "f.bin"
    assert download_file(f"{server.url}/f.bin", dest, timeout=5) == dest
    assert dest.read_bytes() == body
    assert leftovers(tmp_path) == []


@pytest.mark.parametrize(
    "first",
    [
        pytest.param(Reply("status", status=500), id="server-error"),
        pytest.param(Reply("status", status=503), id="unavailable"),
        pytest.param(Reply("short", b"x" * 4096), id="closes-early"),
    ],
)
def test_download_retries_transient_failures(
    server: ModelServer, tmp_path: Path, sleeps: list[float], first: Reply
) -> None:
    server.serve("/f.bin", first, Reply("ok", b"x" * 4096))
    dest = download_file(f"{server.url}/f.bin", tmp_path / "f.bin", timeout=5)
    assert dest.read_bytes() == b"x" * 4096
    assert server.hits["/f.bin"] == 2
    assert len(sleeps) == 1
    assert leftovers(tmp_path) == []


def test_download_always_broken_leaves_nothing(
    server: ModelServer, tmp_path: Path, sleeps: list[float]
) -> None:
    server.serve("/f.bin", Reply("short", b"y" * 10_000))
    with pytest.raises(DownloadError, match=r"incomplete download: got 5000 of 10000 bytes"):
        download_file(f"{server.url}/f.bin", tmp_path / "f.bin", timeout=5, attempts=3)
    assert server.hits["/f.bin"] == 3
    assert len(sleeps) == 2
    assert list(tmp_path.iterdir()) == []


def test_failed_download_keeps_the_previous_file(server: ModelServer, tmp_path: Path) -> None:
    dest = tmp_path / "f.bin"
    dest.write_bytes(b"previous")
    server.serve("/f.bin", Reply("short", b"z" * 100))
    with pytest.raises(DownloadError):
        download_file(f"{server.url}/f.bin", dest, timeout=5, attempts=1)
    assert dest.read_bytes() == b"previous"
    assert leftovers(tmp_path) == []


def test_download_404_is_not_retried(
    server: ModelServer, tmp_path: Path, sleeps: list[float]
) -> None:
    with pytest.raises(DownloadError, match="HTTP 404") as excinfo:
        download_file(f"{server.url}/missing.onnx", tmp_path / "m.onnx", timeout=5)
    assert excinfo.value.no_network is False
    assert server.hits["/missing.onnx"] == 1
    assert sleeps == []
    assert list(tmp_path.iterdir()) == []


def test_download_without_network_fails_fast(
    closed_port_url: str, tmp_path: Path, sleeps: list[float]
) -> None:
    with pytest.raises(DownloadError, match=r"cannot connect to 127\.0\.0\.1") as excinfo:
        download_file(f"{closed_port_url}/f.bin", tmp_path / "f.bin", timeout=5)
    assert excinfo.value.no_network is True
    assert sleeps == []


def test_download_unresolvable_host_fails_fast(tmp_path: Path, sleeps: list[float]) -> None:
    # `.invalid` never resolves (RFC 2606), with or without a network.
    with pytest.raises(DownloadError, match=r"cannot resolve models\.invalid") as excinfo:
        download_file("http://models.invalid/f.bin", tmp_path / "f.bin", timeout=5)
    assert excinfo.value.no_network is True
    assert sleeps == []


def test_download_timeout_is_honoured(server: ModelServer, tmp_path: Path) -> None:
    server.serve("/slow.bin", Reply("stall"))
    with pytest.raises(DownloadError, match="timed out"):
        download_file(f"{server.url}/slow.bin", tmp_path / "slow.bin", timeout=0.2, attempts=1)
    server.release.set()
    assert leftovers(tmp_path) == []


def test_download_checks_expected_size(server: ModelServer, tmp_path: Path) -> None:
    server.serve("/f.bin", Reply("ok", b"abc"))
    with pytest.raises(DownloadError, match="is 3 bytes, expected 4"):
        download_file(f"{server.url}/f.bin", tmp_path / "f.bin", timeout=5, expected_size=4)
    assert list(tmp_path.iterdir()) == []


def test_download_rejects_non_http_urls(tmp_path: Path) -> None:
    with pytest.raises(DownloadError, match="not an http"):
        download_file("file:///etc/passwd", tmp_path / "f", timeout=5)


def test_download_removes_stale_partial_files(server: ModelServer, tmp_path: Path) -> None:
    stale = tmp_path / ".f.bin.abc123.part"
    stale.write_bytes(b"left by a killed process")
    server.serve("/f.bin", Reply("ok", b"data"))
    download_file(f"{server.url}/f.bin", tmp_path / "f.bin", timeout=5)
    assert not stale.exists()


# --------------------------------------------------------------------------------------------
# embedded


def test_embedded_models_come_from_rapidocr(tmp_path: Path) -> None:
    resolved = resolve_models(make_config(tmp_path, detector="embedded", ocr="embedded"))
    folder = embedded_model_dir()
    assert resolved.detector.kind == "ppocr_det"
    assert resolved.detector.path == folder / "ch_PP-OCRv4_det_infer.onnx"
    assert resolved.detector.info.source == "embedded"
    assert resolved.ocr.kind == "ppocr_rec"
    assert resolved.ocr.path == folder / "ch_PP-OCRv4_rec_infer.onnx"
    assert resolved.ocr.config_path is None
    assert resolved.ocr.info.as_dict() == {
        "name": "ppocr-v4-rec",
        "source": "embedded",
        "path": str(folder / "ch_PP-OCRv4_rec_infer.onnx"),
    }
    assert resolved.notes == ()
    assert resolved.detector.path.stat().st_size > 0


def hide_rapidocr(monkeypatch: pytest.MonkeyPatch) -> None:
    """Make rapidocr_onnxruntime look uninstalled (it is, really, installed here)."""
    real_find_spec = importlib.util.find_spec

    def find_spec(name: str, *args: Any) -> Any:
        return None if name == "rapidocr_onnxruntime" else real_find_spec(name, *args)

    monkeypatch.setattr(importlib.util, "find_spec", find_spec)


def test_embedded_without_rapidocr_explains_how_to_install(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    hide_rapidocr(monkeypatch)
    with pytest.raises(ModelUnavailableError, match=r"rapidocr_onnxruntime==1\.4\.4"):
        resolve_models(make_config(tmp_path, detector="embedded", ocr="embedded"))


# --------------------------------------------------------------------------------------------
# file


def write_custom_detector(model_dir: Path, name: str = "detector.onnx") -> Path:
    path = model_dir / "custom" / name
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_bytes(tiny_onnx())
    return path


def test_file_sources_use_explicit_paths(tmp_path: Path, shared_models: Path) -> None:
    detector = tmp_path / "mine" / "plates.onnx"
    detector.parent.mkdir()
    detector.write_bytes(tiny_onnx())
    resolved = resolve_models(
        make_config(
            tmp_path / "models",
            detector="file",
            ocr="file",
            detector_path=str(detector),
            ocr_path=str(shared_models / OCR_ONNX),
        )
    )
    assert resolved.detector.kind == "yolo_v9"
    assert resolved.detector.path == detector
    assert resolved.detector.info.as_dict() == {
        "name": "plates",
        "source": "file",
        "path": str(detector),
    }
    assert resolved.ocr.kind == "plate_ocr"
    assert resolved.ocr.path == shared_models / OCR_ONNX
    assert resolved.ocr.config_path == shared_models / OCR_YAML  # found next to the onnx
    assert resolved.ocr.info.name == "cct_xs_v1_global"
    assert resolved.ocr.info.source == "file"


def test_file_sources_find_custom_folder(tmp_path: Path, shared_models: Path) -> None:
    custom = tmp_path / "custom"
    write_custom_detector(tmp_path)
    shutil.copyfile(shared_models / OCR_ONNX, custom / "ocr.onnx")
    shutil.copyfile(shared_models / OCR_YAML, custom / "ocr_plate_config.yaml")
    resolved = resolve_models(make_config(tmp_path, detector="file", ocr="file"))
    assert resolved.detector.path == custom / "detector.onnx"
    assert resolved.detector.info.name == "detector"
    assert resolved.ocr.path == custom / "ocr.onnx"
    assert resolved.ocr.config_path == custom / "ocr_plate_config.yaml"
    assert resolved.ocr.info.name == "ocr"


@pytest.mark.parametrize("source", ["auto", "hub", "file"])
def test_hub_files_copied_by_hand_into_custom(
    tmp_path: Path, shared_models: Path, source: str
) -> None:
    custom = tmp_path / "custom"
    write_custom_detector(tmp_path, DETECTOR_ONNX)
    for name in (OCR_ONNX, OCR_YAML, V2_ONNX, V2_YAML):
        shutil.copyfile(shared_models / name, custom / name)
    resolved = resolve_models(
        make_config(tmp_path, detector=source, ocr=source, allow_download=False)
    )
    assert resolved.detector.info.as_dict() == {
        "name": DEFAULT_HUB_DETECTOR,
        "source": "file",
        "path": str(custom / DETECTOR_ONNX),
    }
    assert resolved.ocr.info.name == V1_NAME
    assert resolved.ocr.config_path == custom / OCR_YAML
    assert [f.path for f in resolved.fused_ocr] == [custom / V2_ONNX]


def test_explicit_ocr_config_path(tmp_path: Path, shared_models: Path) -> None:
    yaml_copy = tmp_path / "elsewhere.yaml"
    shutil.copyfile(shared_models / OCR_YAML, yaml_copy)
    resolved = resolve_models(
        make_config(
            tmp_path,
            detector="embedded",
            ocr="file",
            ocr_path=str(shared_models / OCR_ONNX),
            ocr_config_path=str(yaml_copy),
        )
    )
    assert resolved.ocr.config_path == yaml_copy


@pytest.mark.parametrize("source", ["file", "auto"])
def test_missing_explicit_file_is_an_error(tmp_path: Path, source: str) -> None:
    missing = tmp_path / "nope.onnx"
    with pytest.raises(ModelUnavailableError, match=r"OCR: ocr_path .*nope\.onnx does not exist"):
        resolve_models(
            make_config(tmp_path, detector="embedded", ocr=source, ocr_path=str(missing))
        )
    with pytest.raises(ModelUnavailableError, match=r"Detector: detector_path .* does not exist"):
        resolve_models(
            make_config(tmp_path, detector=source, ocr="embedded", detector_path=str(missing))
        )


def test_empty_model_file_is_an_error(tmp_path: Path) -> None:
    write_custom_detector(tmp_path).write_bytes(b"")
    with pytest.raises(ModelUnavailableError, match=r"custom/detector\.onnx is empty"):
        resolve_models(make_config(tmp_path, detector="file", ocr="embedded"))


def test_folder_instead_of_file_is_an_error(tmp_path: Path) -> None:
    with pytest.raises(ModelUnavailableError, match="is not a file"):
        resolve_models(
            make_config(tmp_path, detector="file", ocr="embedded", detector_path=str(tmp_path))
        )


def test_file_source_without_files_says_where_to_put_them(tmp_path: Path) -> None:
    with pytest.raises(ModelUnavailableError) as excinfo:
        resolve_models(make_config(tmp_path, detector="file", ocr="embedded"))
    message = str(excinfo.value)
    assert "source is 'file' but no detector model was found" in message
    assert str(tmp_path / "custom" / "detector.onnx") in message
    assert "detector_path" in message
    with pytest.raises(ModelUnavailableError, match=r"no OCR model was found.*set ocr_path"):
        resolve_models(make_config(tmp_path, detector="embedded", ocr="file"))


def test_ocr_without_plate_config(tmp_path: Path, shared_models: Path) -> None:
    onnx = tmp_path / "lonely.onnx"
    shutil.copyfile(shared_models / OCR_ONNX, onnx)
    with pytest.raises(ModelUnavailableError) as excinfo:
        resolve_models(make_config(tmp_path, detector="embedded", ocr="file", ocr_path=str(onnx)))
    message = str(excinfo.value)
    assert "no plate config found" in message
    assert "lonely_plate_config.yaml" in message
    assert "ocr_config_path" in message


def test_missing_explicit_ocr_config(tmp_path: Path, shared_models: Path) -> None:
    with pytest.raises(ModelUnavailableError, match=r"ocr_config_path .* does not exist"):
        resolve_models(
            make_config(
                tmp_path,
                detector="embedded",
                ocr="file",
                ocr_path=str(shared_models / OCR_ONNX),
                ocr_config_path=str(tmp_path / "none.yaml"),
            )
        )


GOOD_CONFIG = (
    "max_plate_slots: 9\nalphabet: '0123456789ABC_'\npad_char: '_'\nimg_height: 64\n"
    "img_width: 128\n"
)


@pytest.mark.parametrize(
    ("content", "problem"),
    [
        pytest.param("max_plate_slots: [9\n", "is not valid YAML", id="unparseable"),
        pytest.param("- a\n- b\n", "must be a YAML mapping", id="list"),
        pytest.param("", "must be a YAML mapping", id="empty"),
        pytest.param("alphabet: 'AB_'\npad_char: '_'\n", "lacks max_plate_slots", id="missing"),
        pytest.param(
            GOOD_CONFIG.replace("img_width: 128", "img_width: wide"),
            "img_width must be a positive integer",
            id="bad-int",
        ),
        pytest.param(
            GOOD_CONFIG.replace("max_plate_slots: 9", "max_plate_slots: 0"),
            "max_plate_slots must be a positive integer",
            id="zero",
        ),
        pytest.param(
            GOOD_CONFIG.replace("pad_char: '_'", "pad_char: '*'"),
            "pad_char must be one character of the alphabet",
            id="pad-char",
        ),
        pytest.param(
            GOOD_CONFIG.replace("alphabet: '0123456789ABC_'", "alphabet: 42"),
            "alphabet must be a non-empty string",
            id="bad-str",
        ),
        pytest.param(
            GOOD_CONFIG + "unknown_key: 1\n", "not accepted by fast-plate-ocr", id="unknown-key"
        ),
    ],
)
def test_bad_plate_config(tmp_path: Path, shared_models: Path, content: str, problem: str) -> None:
    bad = tmp_path / "bad.yaml"
    bad.write_text(content, encoding="utf-8")
    with pytest.raises(ModelUnavailableError) as excinfo:
        resolve_models(
            make_config(
                tmp_path,
                detector="embedded",
                ocr="file",
                ocr_path=str(shared_models / OCR_ONNX),
                ocr_config_path=str(bad),
            )
        )
    assert problem in str(excinfo.value)
    assert str(bad) in str(excinfo.value)


# --------------------------------------------------------------------------------------------
# hub


def test_hub_download_then_offline_reuse(hub_server: ModelServer, tmp_path: Path) -> None:
    config = make_config(tmp_path, detector="hub", ocr="hub", model_base_url=hub_server.url)
    resolved = resolve_models(config)
    hub = tmp_path / "hub"
    assert resolved.detector.kind == "yolo_v9"
    assert resolved.detector.path == hub / DETECTOR_ONNX
    assert resolved.detector.info.as_dict() == {
        "name": DEFAULT_HUB_DETECTOR,
        "source": "hub",
        "path": str(hub / DETECTOR_ONNX),
    }
    assert resolved.ocr.kind == "plate_ocr"
    assert resolved.ocr.path == hub / OCR_ONNX
    assert resolved.ocr.config_path == hub / OCR_YAML
    assert resolved.ocr.info.name == V1_NAME
    assert resolved.ocr.info.source == "hub"
    assert resolved.fused_ocr[0].info.name == V2_NAME
    assert resolved.notes == ()

    for name in (DETECTOR_ONNX, OCR_ONNX, OCR_YAML):
        data = (hub / name).read_bytes()
        sidecar = json.loads((hub / f"{name}.json").read_text())
        assert sidecar["size"] == len(data)
        assert sidecar["sha256"] == hashlib.sha256(data).hexdigest()
        assert sidecar["url"] == f"{hub_server.url}/{name}"
    assert leftovers(tmp_path) == []

    hub_server.stop()  # offline from here on
    again = resolve_models(config)
    assert again.detector == resolved.detector
    assert again.ocr == resolved.ocr
    assert again.notes == ()


def test_hub_file_without_valid_sidecar_is_downloaded_again(
    hub_server: ModelServer, tmp_path: Path
) -> None:
    config = make_config(tmp_path, detector="hub", ocr="embedded", model_base_url=hub_server.url)
    resolve_models(config)
    detector = tmp_path / "hub" / DETECTOR_ONNX
    assert is_verified(detector)
    detector.write_bytes(tiny_onnx()[:-3])  # corrupted behind our back
    assert not is_verified(detector)
    resolve_models(config)
    assert hub_server.hits[f"/{DETECTOR_ONNX}"] == 2
    assert detector.read_bytes() == tiny_onnx()

    (tmp_path / "hub" / f"{DETECTOR_ONNX}.json").unlink()  # a download cut short
    resolve_models(config)
    assert hub_server.hits[f"/{DETECTOR_ONNX}"] == 3
    assert is_verified(detector)


def test_hub_download_retried_after_broken_transfer(
    hub_server: ModelServer, tmp_path: Path, ocr_files: dict[str, bytes]
) -> None:
    hub_server.serve(
        f"/{OCR_ONNX}",
        Reply("short", ocr_files[OCR_ONNX]),
        Reply("status", status=500),
        Reply("ok", ocr_files[OCR_ONNX]),
    )
    resolved = resolve_models(
        make_config(tmp_path, detector="embedded", ocr="hub", model_base_url=hub_server.url)
    )
    assert resolved.ocr.path.read_bytes() == ocr_files[OCR_ONNX]
    assert hub_server.hits[f"/{OCR_ONNX}"] == 3


def test_hub_always_broken_leaves_no_partial_file(
    hub_server: ModelServer, tmp_path: Path, ocr_files: dict[str, bytes]
) -> None:
    hub_server.serve(f"/{OCR_ONNX}", Reply("short", ocr_files[OCR_ONNX]))
    with pytest.raises(ModelUnavailableError, match="incomplete download"):
        resolve_models(
            make_config(tmp_path, detector="embedded", ocr="hub", model_base_url=hub_server.url)
        )
    assert not (tmp_path / "hub" / OCR_ONNX).exists()
    assert not (tmp_path / "hub" / f"{OCR_ONNX}.json").exists()
    assert leftovers(tmp_path) == []


def test_hub_404_names_the_url(hub_server: ModelServer, tmp_path: Path) -> None:
    hub_server.routes.pop(f"/{OCR_YAML}")
    with pytest.raises(ModelUnavailableError) as excinfo:
        resolve_models(
            make_config(tmp_path, detector="embedded", ocr="hub", model_base_url=hub_server.url)
        )
    message = str(excinfo.value)
    assert f"HTTP 404 Not Found from {hub_server.url}/{OCR_YAML}" in message
    assert f"put {OCR_ONNX} and {OCR_YAML} in {tmp_path / 'custom'}" in message
    assert hub_server.hits[f"/{OCR_YAML}"] == 1


def test_hub_rejects_a_download_that_is_not_onnx(hub_server: ModelServer, tmp_path: Path) -> None:
    hub_server.serve(f"/{DETECTOR_ONNX}", Reply("ok", b"<html>captive portal</html>"))
    with pytest.raises(ModelUnavailableError, match="not a valid ONNX model"):
        resolve_models(
            make_config(tmp_path, detector="hub", ocr="embedded", model_base_url=hub_server.url)
        )
    assert list((tmp_path / "hub").iterdir()) == []


def test_hub_rejects_a_download_that_is_not_a_plate_config(
    hub_server: ModelServer, tmp_path: Path
) -> None:
    hub_server.serve(f"/{OCR_YAML}", Reply("ok", b"<html>captive portal</html>"))
    with pytest.raises(ModelUnavailableError, match="must be a YAML mapping"):
        resolve_models(
            make_config(tmp_path, detector="embedded", ocr="hub", model_base_url=hub_server.url)
        )
    assert not (tmp_path / "hub" / OCR_YAML).exists()


def test_hub_without_network_explains_how_to_provide_the_model(
    closed_port_url: str, tmp_path: Path, sleeps: list[float]
) -> None:
    with pytest.raises(ModelUnavailableError) as excinfo:
        resolve_models(
            make_config(tmp_path, detector="embedded", ocr="hub", model_base_url=closed_port_url)
        )
    message = str(excinfo.value)
    assert message.startswith(f"OCR: hub model {V1_NAME} could not be downloaded (no network")
    assert f"put {OCR_ONNX} and {OCR_YAML} in {tmp_path / 'custom'}" in message
    assert f"(download: {closed_port_url}/{OCR_ONNX} and {closed_port_url}/{OCR_YAML})" in message
    assert message.endswith("or set ocr_path with ocr: file.")
    with pytest.raises(
        ModelUnavailableError, match=r"put yolo-v9-t-384.*or set detector_path with detector: file"
    ):
        resolve_models(
            make_config(tmp_path, detector="hub", ocr="embedded", model_base_url=closed_port_url)
        )
    assert sleeps == []


def test_hub_with_downloads_disabled(tmp_path: Path) -> None:
    with pytest.raises(ModelUnavailableError) as excinfo:
        resolve_models(make_config(tmp_path, detector="hub", ocr="embedded", allow_download=False))
    message = str(excinfo.value)
    assert "downloads are disabled (allow_download)" in message
    assert f"{DETECTOR_ONNX} missing" in message


@pytest.mark.parametrize("source", ["hub", "auto"])
def test_unknown_hub_model_lists_valid_names(tmp_path: Path, source: str) -> None:
    with pytest.raises(ModelUnavailableError) as excinfo:
        resolve_models(
            make_config(tmp_path, detector="embedded", ocr=source, hub_ocr_model="no-such-model")
        )
    assert "unknown hub model 'no-such-model' (hub_ocr_model)" in str(excinfo.value)
    assert V1_NAME in str(excinfo.value)
    with pytest.raises(ModelUnavailableError) as excinfo:
        resolve_models(
            make_config(tmp_path, detector="hub", ocr="embedded", hub_detector_model="rf-detr")
        )
    assert "(hub_detector_model)" in str(excinfo.value)
    assert DEFAULT_HUB_DETECTOR in str(excinfo.value)


def test_hub_registries_hold_only_plate_models() -> None:
    detectors = hub_detector_models()
    assert DEFAULT_HUB_DETECTOR in detectors
    assert all("license-plate" in name for name in detectors)
    assert set(DEFAULT_HUB_OCR.split("+")) <= set(hub_ocr_models())


# --------------------------------------------------------------------------------------------
# auto


def test_auto_downloads_only_the_measured_models(hub_server: ModelServer, tmp_path: Path) -> None:
    resolved = resolve_models(make_config(tmp_path, model_base_url=hub_server.url))
    # The hub's YOLOv9 detector was never measured here: it is opt-in (detector: hub).
    assert resolved.detector.info.source == "embedded"
    assert f"/{DETECTOR_ONNX}" not in hub_server.hits
    assert resolved.ocr.info.source == "hub"
    assert resolved.fused_ocr[0].info.name == V2_NAME


def test_auto_without_network_falls_back_to_embedded(
    closed_port_url: str, tmp_path: Path, sleeps: list[float]
) -> None:
    resolved = resolve_models(make_config(tmp_path, model_base_url=closed_port_url))
    assert resolved.detector.kind == "ppocr_det"
    assert resolved.ocr.kind == "ppocr_rec"
    ocr_note, v2_note = resolved.notes
    assert v2_note.startswith(f"OCR: hub model {V2_NAME} could not be downloaded")
    assert ocr_note.startswith(f"OCR: hub model {V1_NAME} could not be downloaded (no network: ")
    assert "using the embedded PP-OCRv4 recogniser" in ocr_note
    assert f"put {OCR_ONNX} and {OCR_YAML} in {tmp_path / 'custom'}" in ocr_note
    assert f"(download: {closed_port_url}/{OCR_ONNX}" in ocr_note
    assert ocr_note.endswith("or set ocr_path.")
    assert sleeps == []


def test_auto_with_downloads_disabled_uses_embedded(tmp_path: Path) -> None:
    resolved = resolve_models(make_config(tmp_path, allow_download=False))
    assert resolved.detector.info.source == "embedded"
    assert resolved.ocr.info.source == "embedded"
    assert len(resolved.notes) == 2
    assert all("downloads are disabled (allow_download)" in note for note in resolved.notes)


def test_auto_reuses_downloaded_hub_files_offline(hub_server: ModelServer, tmp_path: Path) -> None:
    resolve_models(make_config(tmp_path, detector="hub", model_base_url=hub_server.url))
    hub_server.stop()
    resolved = resolve_models(make_config(tmp_path, detector="hub", allow_download=False))
    assert resolved.detector.info.source == "hub"
    assert resolved.ocr.info.source == "hub"
    assert resolved.fused_ocr[0].info.source == "hub"
    assert resolved.notes == ()


def test_auto_prefers_custom_files_over_the_hub(
    hub_server: ModelServer, tmp_path: Path, shared_models: Path
) -> None:
    write_custom_detector(tmp_path)
    resolved = resolve_models(
        make_config(tmp_path, model_base_url=hub_server.url, ocr_path=str(shared_models / OCR_ONNX))
    )
    assert resolved.detector.info.source == "file"
    assert resolved.ocr.info.source == "file"
    assert hub_server.hits == {}
    assert resolved.notes == ()


def test_auto_resolves_each_stage_on_its_own(
    hub_server: ModelServer, tmp_path: Path, closed_port_url: str
) -> None:
    # The detector comes from the hub (cached), the OCR falls back to embedded.
    resolve_models(
        make_config(tmp_path, detector="hub", ocr="embedded", model_base_url=hub_server.url)
    )
    resolved = resolve_models(make_config(tmp_path, detector="hub", model_base_url=closed_port_url))
    assert resolved.detector.info.source == "hub"
    assert resolved.ocr.info.source == "embedded"
    assert all(note.startswith("OCR:") for note in resolved.notes)


def test_auto_without_embedded_package_reports_both_problems(
    tmp_path: Path, closed_port_url: str, monkeypatch: pytest.MonkeyPatch
) -> None:
    hide_rapidocr(monkeypatch)
    write_custom_detector(tmp_path)
    with pytest.raises(ModelUnavailableError) as excinfo:
        resolve_models(make_config(tmp_path, model_base_url=closed_port_url))
    assert "could not be downloaded (no network" in str(excinfo.value)
    assert "rapidocr_onnxruntime" in str(excinfo.value)


# --------------------------------------------------------------------------------------------
# pinned models: the measured OCR models, checked against the SHA-256 in the code


@pytest.fixture(scope="session")
def v2_files(shared_models: Path) -> dict[str, bytes]:
    return {name: (shared_models / name).read_bytes() for name in (V2_ONNX, V2_YAML)}


@pytest.fixture
def pinned_server(
    server: ModelServer, ocr_files: dict[str, bytes], v2_files: dict[str, bytes]
) -> ModelServer:
    """Serve both pinned OCR models as their releases do."""
    for name, data in {**ocr_files, **v2_files}.items():
        server.serve(f"/{name}", Reply("ok", data))
    return server


def tampered(data: bytes) -> bytes:
    """Change one byte, keeping the size: only the hash can tell."""
    return data[:-1] + bytes([data[-1] ^ 0xFF])


def test_pins_match_the_measured_files(shared_models: Path) -> None:
    for pin in models.PINNED_OCR_MODELS.values():
        data = (shared_models / pin.onnx_file).read_bytes()
        assert hashlib.sha256(data).hexdigest() == pin.sha256
        assert len(data) == pin.size
        assert pin.onnx_url.startswith("https://github.com/ankandrew/")
        models.check_pin(shared_models / pin.plate_config_file)
    assert hub_ocr_models()[V2_NAME] == (
        models.PINNED_OCR_MODELS[V2_NAME].onnx_url,
        models.PINNED_OCR_MODELS[V2_NAME].plate_config_url,
    )


def v2_from(server: ModelServer, model_dir: Path) -> ServiceConfig:
    """Read with cct-xs-v2-global-model alone, downloaded from `server`."""
    return make_config(
        model_dir, detector="embedded", ocr="hub", hub_ocr_model=V2_NAME, model_base_url=server.url
    )


def test_pinned_download_with_a_bad_hash_is_refused(
    pinned_server: ModelServer, v2_files: dict[str, bytes], tmp_path: Path
) -> None:
    pinned_server.serve(f"/{V2_ONNX}", Reply("ok", tampered(v2_files[V2_ONNX])))
    with pytest.raises(ModelUnavailableError) as excinfo:
        resolve_models(v2_from(pinned_server, tmp_path))
    message = str(excinfo.value)
    assert f"not the pinned {models.PINNED_OCR_MODELS[V2_NAME].sha256}" in message
    assert "refused" in message
    assert not (tmp_path / "hub" / V2_ONNX).exists()
    assert leftovers(tmp_path) == []
    assert pinned_server.hits[f"/{V2_ONNX}"] == 1  # a different file is not retried


def test_pinned_download_with_the_right_hash_is_used(
    pinned_server: ModelServer, tmp_path: Path
) -> None:
    config = make_config(tmp_path, detector="embedded", model_base_url=pinned_server.url)
    resolved = resolve_models(config)
    hub = tmp_path / "hub"
    assert resolved.ocr.path == hub / OCR_ONNX
    assert [f.path for f in resolved.fused_ocr] == [hub / V2_ONNX]
    assert resolved.notes == ()
    # A pinned file on disk is trusted by its hash, and one that no longer matches is not.
    assert is_verified(hub / V2_ONNX)
    (hub / V2_ONNX).write_bytes(tampered((hub / V2_ONNX).read_bytes()))
    assert not is_verified(hub / V2_ONNX)
    resolve_models(config)
    assert pinned_server.hits[f"/{V2_ONNX}"] == 2
    assert is_verified(hub / V2_ONNX)


def test_pinned_plate_config_with_other_values_is_refused(
    pinned_server: ModelServer, v2_files: dict[str, bytes], tmp_path: Path
) -> None:
    other = v2_files[V2_YAML].replace(b"max_plate_slots: 10", b"max_plate_slots: 9")
    pinned_server.serve(f"/{V2_YAML}", Reply("ok", other))
    with pytest.raises(ModelUnavailableError) as excinfo:
        resolve_models(v2_from(pinned_server, tmp_path))
    assert "differ from those pinned" in str(excinfo.value)
    assert not (tmp_path / "hub" / V2_YAML).exists()


def test_fetch_models_for_an_image_then_offline(pinned_server: ModelServer, tmp_path: Path) -> None:
    bundled = tmp_path / "image" / "models"
    code = main(["fetch-models", "--into", str(bundled), "--model-base-url", pinned_server.url])
    assert code == 0
    assert sorted(p.name for p in bundled.iterdir()) == sorted(
        [OCR_ONNX, OCR_YAML, V2_ONNX, V2_YAML]
    )
    pinned_server.stop()  # the image runs with no network
    config = make_config(
        tmp_path / "data", detector="embedded", allow_download=False, bundled_model_dir=str(bundled)
    )
    resolved = resolve_models(config)
    assert resolved.ocr.path == bundled / OCR_ONNX
    assert resolved.ocr.info.source == "hub"
    assert [f.path for f in resolved.fused_ocr] == [bundled / V2_ONNX]
    assert resolved.notes == ()


def test_fetch_models_refuses_a_bad_hash(
    pinned_server: ModelServer,
    v2_files: dict[str, bytes],
    tmp_path: Path,
    capsys: pytest.CaptureFixture[str],
) -> None:
    pinned_server.serve(f"/{V2_ONNX}", Reply("ok", tampered(v2_files[V2_ONNX])))
    bundled = tmp_path / "models"
    code = main(["fetch-models", "--into", str(bundled), "--model-base-url", pinned_server.url])
    assert code == 2
    assert "not the pinned" in capsys.readouterr().err
    assert not (bundled / V2_ONNX).exists()


def test_fetch_models_only_fetches_pinned_models(tmp_path: Path) -> None:
    with pytest.raises(ModelUnavailableError, match="is not pinned"):
        models.fetch_pinned_models(
            make_config(tmp_path, hub_ocr_model="cct-s-v2-global-model"), tmp_path
        )


def test_fusion_falls_back_to_one_model_offline(
    server: ModelServer, ocr_files: dict[str, bytes], tmp_path: Path
) -> None:
    for name, data in ocr_files.items():
        server.serve(f"/{name}", Reply("ok", data))
    resolved = resolve_models(make_config(tmp_path, detector="embedded", model_base_url=server.url))
    assert resolved.ocr.path == tmp_path / "hub" / OCR_ONNX
    assert resolved.fused_ocr == ()
    (note,) = resolved.notes
    assert note.startswith(f"OCR: hub model {V2_NAME} could not be downloaded")
    assert "the other OCR models without it" in note


def test_own_ocr_file_is_not_fused(tmp_path: Path, shared_models: Path) -> None:
    resolved = resolve_models(
        make_config(tmp_path, detector="embedded", ocr_path=str(shared_models / V2_ONNX))
    )
    assert resolved.ocr.path == shared_models / V2_ONNX
    assert resolved.fused_ocr == ()


def test_hand_copied_file_under_a_pinned_name_must_match(
    tmp_path: Path, shared_models: Path
) -> None:
    custom = tmp_path / "custom"
    custom.mkdir()
    shutil.copyfile(shared_models / V2_ONNX, custom / OCR_ONNX)
    shutil.copyfile(shared_models / OCR_YAML, custom / OCR_YAML)
    with pytest.raises(ModelUnavailableError) as excinfo:
        resolve_models(make_config(tmp_path, detector="embedded", allow_download=False))
    assert f"{custom / OCR_ONNX} carries the name of the pinned model {V1_NAME}" in str(
        excinfo.value
    )


def test_model_files_at_the_top_of_model_dir_name_the_layout(
    tmp_path: Path, shared_models: Path
) -> None:
    shutil.copyfile(shared_models / OCR_ONNX, tmp_path / OCR_ONNX)
    with pytest.raises(ModelUnavailableError) as excinfo:
        resolve_models(make_config(tmp_path, allow_download=False))
    message = str(excinfo.value)
    assert f"holds {OCR_ONNX} at its top" in message
    assert f"{tmp_path / 'custom'}/ for your own files" in message
    assert "Move the files into custom/" in message
