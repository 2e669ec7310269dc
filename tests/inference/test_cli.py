"""The `anpr-inference` command line: settings precedence and `recognize`."""

from __future__ import annotations

from importlib.metadata import EntryPoint
import json
import subprocess
import sys
from typing import TYPE_CHECKING

import pytest

from anpr_inference import cli
from anpr_inference.config import FIELD_NAMES, ConfigError, ServiceConfig

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


def test_short_api_key_error_names_the_rule(capsys: pytest.CaptureFixture[str]) -> None:
    with pytest.raises(SystemExit) as exc:
        cli.main(["serve", "--api-key", "testkey"])
    assert exc.value.code == 2
    err = capsys.readouterr().err
    assert "invalid setting api_key: must be at least 8 characters long" in err
    assert "testkey" not in err  # a secret is never echoed


BAD_VALUES: dict[str, tuple[object, str]] = {
    "host": ("", "a host name or IP address"),
    "port": ("http", "a whole number from 0 to 65535 (got 'http')"),
    "api_key": ("short", "at least 8 characters long"),
    "data_dir": ("", "a folder path"),
    "model_dir": (None, "a folder path"),
    "bundled_model_dir": (3, "a folder path"),
    "model_base_url": ("mirror", "a URL such as"),
    "detector": ("yolo", "one of auto, hub, file, embedded (got 'yolo')"),
    "ocr": ("paddle", "one of auto, hub, file, embedded"),
    "detector_path": (3, "a file path"),
    "ocr_path": (3, "a file path"),
    "ocr_config_path": (3, "a file path"),
    "hub_detector_model": ("", "the name of a hub model"),
    "hub_ocr_model": ("", "the name of a hub model"),
    "allow_download": ("maybe", "true or false"),
    "download_timeout": (0, "a number of seconds, at least 1"),
    "workers": (0, "a whole number from 1 to 64"),
    "threads_per_worker": (65, "a whole number from 0 (onnxruntime decides) to 64"),
    "max_queue": (-1, "a whole number from 0 to 1000"),
    "max_body_bytes": (10, "a whole number of bytes, at least 1024"),
    "max_pixels": (10, "a whole number of pixels, at least 10000"),
    "max_decoded_pixels": (10, "a whole number of pixels, at least 10000"),
    "body_timeout": (0.5, "a number of seconds from 1 to 3600"),
    "header_timeout": (4000, "a number of seconds from 1 to 3600"),
    "default_region": ("gb", "one of br, eu, in, nz, uk, us (got 'gb')"),
    "min_confidence": (1.5, "a number from 0 to 1"),
    "log_level": ("verbose", "one of debug, info, warning, error"),
}


def test_every_setting_has_a_bad_value_here() -> None:
    assert set(BAD_VALUES) == FIELD_NAMES


@pytest.mark.parametrize(("name", "bad"), BAD_VALUES.items())
def test_every_settings_error_names_its_rule(name: str, bad: tuple[object, str]) -> None:
    value, rule = bad
    with pytest.raises(ConfigError) as exc:
        ServiceConfig().with_values({name: value})
    assert str(exc.value).startswith(f"invalid setting {name}: must be {rule}")


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


def test_tools_offer_their_commands() -> None:
    """Where anpr-inference-tools is installed (here), `bench` and `load` are its commands."""
    from anpr_inference_tools import bench, load

    parser = cli.make_parser()
    assert parser.parse_args(["bench", "some/folder"]).func is bench.run
    assert parser.parse_args(["load", "some/folder"]).func is load.run


@pytest.mark.parametrize("command", cli.TOOL_COMMANDS)
def test_tool_commands_without_the_tools_say_how_to_install_them(
    command: str, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    """Without anpr-inference-tools (as in the add-on image) a tool command says one thing."""
    monkeypatch.setattr(cli, "_tool_entry_points", dict)
    for argv in ([], ["some/folder", "--json"], ["--cameras", "2", "some/folder"], ["-h"]):
        assert cli.main([command, *argv]) == 2
        err = capsys.readouterr().err
        assert err.count("\n") == 1
        assert f"'{command}' is a development tool of anpr-inference-tools" in err
        assert "pip install ./inference_tools" in err


def test_a_broken_tools_install_says_what_is_wrong(
    monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    broken = EntryPoint("bench", "anpr_inference_tools.gone:add_parser", cli.TOOLS_GROUP)
    monkeypatch.setattr(cli, "_tool_entry_points", lambda: {"bench": broken})
    assert cli.main(["bench", "some/folder"]) == 2
    err = capsys.readouterr().err
    assert err.startswith("error: 'bench' is a development tool of anpr-inference-tools, ")
    assert "which cannot be loaded (No module named 'anpr_inference_tools.gone')" in err
