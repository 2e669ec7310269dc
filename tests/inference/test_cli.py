"""The `anpr-inference` command line: settings precedence and `recognize`."""

from __future__ import annotations

import json
import subprocess
import sys
from typing import TYPE_CHECKING

import pytest

from anpr_inference import cli

if TYPE_CHECKING:
    from pathlib import Path


@pytest.fixture(autouse=True)
def _no_global_logging(monkeypatch: pytest.MonkeyPatch) -> None:
    """Keep pytest's logging: `main` configures the root logger for a real run."""
    monkeypatch.setattr(cli, "_setup_logging", lambda level: None)


def _offline(models_dir: Path, tmp_path: Path) -> list[str]:
    return [
        "--no-download",
        "--model-dir",
        str(tmp_path / "models"),
        "--ocr-path",
        str(models_dir / "cct_xs_v1_global.onnx"),
    ]


def test_settings_precedence(tmp_path: Path) -> None:
    """Defaults < options file < ANPR_* variables < flags."""
    options = tmp_path / "options.json"
    options.write_text(
        json.dumps({"port": 9000, "workers": 2, "api_key": "", "log_level": "debug"})
    )
    args = cli.make_parser().parse_args(
        ["serve", "--options", str(options), "--workers", "3", "--host", "127.0.0.1"]
    )
    config = cli.build_config(args, {"ANPR_PORT": "9100", "ANPR_WORKERS": "5"})
    assert (config.host, config.port, config.workers) == ("127.0.0.1", 9100, 3)
    assert config.api_key is None  # an empty option means unset
    assert config.log_level == "debug"


def test_bad_setting_is_a_usage_error(capsys: pytest.CaptureFixture[str]) -> None:
    with pytest.raises(SystemExit) as exc:
        cli.main(["serve", "--port", "70000"])
    assert exc.value.code == 2
    assert "port" in capsys.readouterr().err


def test_recognize_prints_the_plate(
    models_dir: Path, dataset_dir: Path, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    photo = dataset_dir / "br" / "AYO9034.jpg"
    assert cli.main(["recognize", *_offline(models_dir, tmp_path), str(photo)]) == 0
    assert capsys.readouterr().out.startswith(f"{photo}: AYO9034 (")


def test_recognize_json(
    models_dir: Path, dataset_dir: Path, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    photos = [dataset_dir / "br" / "AYO9034.jpg", dataset_dir / "br" / "AZJ6991.jpg"]
    args = ["recognize", *_offline(models_dir, tmp_path), "--json", "--region", "br"]
    assert cli.main([*args, *map(str, photos)]) == 0
    documents = json.loads(capsys.readouterr().out)
    assert [d["plates"][0]["normalized"] for d in documents] == ["AYO9034", "AZJ6991"]
    assert documents[0]["plates"][0]["format"] == "br_old"
    assert set(documents[0]) == {"file", "plates", "image", "timings_ms"}
    assert documents[0]["file"] == str(photos[0])


def test_recognize_reports_unreadable_files(
    models_dir: Path, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    junk = tmp_path / "junk.jpg"
    junk.write_bytes(b"not an image")
    missing = tmp_path / "missing.jpg"
    args = ["recognize", *_offline(models_dir, tmp_path), "--json", str(junk), str(missing)]
    assert cli.main(args) == 1
    out, err = capsys.readouterr()
    assert [d["file"] for d in json.loads(out)] == [str(junk), str(missing)]
    assert "junk.jpg: error" in err
    assert "missing.jpg: error" in err


def test_missing_model_is_a_clear_error(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    code = cli.main(
        ["recognize", "--ocr", "file", "--model-dir", str(tmp_path), str(tmp_path / "x.jpg")]
    )
    assert code == 2
    assert capsys.readouterr().err.startswith("error: ")


def test_console_script_runs(models_dir: Path, dataset_dir: Path, tmp_path: Path) -> None:
    """`python -m anpr_inference recognize` as a user runs it, in its own process."""
    photo = dataset_dir / "us" / "0b86cecf-67d1-4fc0-87c9-b36b0ee228bb.jpg"
    done = subprocess.run(  # noqa: S603 - our own interpreter and module
        [
            sys.executable,
            "-m",
            "anpr_inference",
            "recognize",
            *_offline(models_dir, tmp_path),
            "--region",
            "us",
            str(photo),
        ],
        capture_output=True,
        text=True,
        timeout=120,
        check=False,
    )
    assert done.returncode == 0, done.stderr
    assert f"{photo}: YG9X2G (" in done.stdout
