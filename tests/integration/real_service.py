"""The real inference service for the tests that need it, started once per test session.

`anpr-inference serve` as a subprocess (embedded detector, the real OCR model from
`../shared/models`), shared by the end-to-end test and the real-photo access check.
"""

from __future__ import annotations

import os
import re
import subprocess
import sys
import time
from typing import TYPE_CHECKING

import pytest

from .conftest import MODELS, REPO, shared_file

if TYPE_CHECKING:
    from collections.abc import Generator
    from pathlib import Path

API_KEY = "end-to-end-key"
STARTUP_TIMEOUT = 180.0
LISTENING = re.compile(r"anpr-inference listening on (http://127\.0\.0\.1:\d+)")


@pytest.fixture(scope="session")
def inference_service(tmp_path_factory: pytest.TempPathFactory) -> Generator[str]:
    """Run the real inference service for the session; return its URL."""
    ocr = shared_file(MODELS / "cct_xs_v1_global.onnx")
    ocr_config = shared_file(MODELS / "cct_xs_v1_global_plate_config.yaml")
    data_dir = tmp_path_factory.mktemp("anpr-inference")
    log_path = data_dir / "service.log"
    command = [
        sys.executable,
        "-m",
        "anpr_inference",
        "serve",
        "--host",
        "127.0.0.1",
        "--port",
        "0",
        "--detector",
        "embedded",
        "--ocr",
        "file",
        "--ocr-path",
        str(ocr),
        "--ocr-config-path",
        str(ocr_config),
        "--data-dir",
        str(data_dir),
        "--model-dir",
        str(data_dir / "models"),
        "--api-key",
        API_KEY,
        "--no-download",
        "--no-announce",
    ]
    env = {**os.environ, "PYTHONUNBUFFERED": "1"}
    env.pop("SUPERVISOR_TOKEN", None)
    with log_path.open("w", encoding="utf-8") as log:
        process = subprocess.Popen(  # noqa: S603 - our own CLI, fixed arguments
            command, stdout=log, stderr=subprocess.STDOUT, cwd=REPO, env=env
        )
    try:
        yield _wait_until_listening(process, log_path)
    finally:
        process.terminate()
        try:
            process.wait(timeout=30)
        except subprocess.TimeoutExpired:  # pragma: no cover - only if it hangs on stop
            process.kill()
            process.wait()


def _wait_until_listening(process: subprocess.Popen[bytes], log_path: Path) -> str:
    """Return the service's URL once it prints that it listens; fail with its log if not."""
    deadline = time.monotonic() + STARTUP_TIMEOUT
    while time.monotonic() < deadline:
        output = log_path.read_text(encoding="utf-8", errors="replace")
        if match := LISTENING.search(output):
            return match.group(1)
        if process.poll() is not None:
            pytest.fail(f"anpr-inference exited with {process.returncode}:\n{output[-4000:]}")
        time.sleep(0.2)
    pytest.fail(f"anpr-inference did not start within {STARTUP_TIMEOUT} s:\n{output[-4000:]}")
