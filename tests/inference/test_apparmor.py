"""The add-on's AppArmor profile compiles and fits the image it confines.

The Supervisor loads `apparmor.txt` in enforce mode; a profile that doesn't compile stops the
add-on from starting, and one that names the wrong paths stops the service at its first file.
AppArmor can't be enforced in this test environment (no kernel support in a container), so the
profile is compiled with `apparmor_parser --skip-kernel-load` (Debian's `apparmor` package;
.ci/run installs it) and its paths are checked against the Dockerfile, the s6 run script and
the add-on's configuration.
"""

from __future__ import annotations

from pathlib import Path
import re
import shutil
import subprocess
import tomllib

import pytest
import yaml

ADDON = Path(__file__).resolve().parents[2] / "inference_addon"
PROFILE = ADDON / "apparmor.txt"
RUN = ADDON / "rootfs" / "etc" / "s6-overlay" / "s6-rc.d" / "anpr-inference" / "run"


def profile_text() -> str:
    return PROFILE.read_text(encoding="utf-8")


def service_profile() -> str:
    """Return the body of the inner profile that confines the Python service."""
    match = re.search(r"\n  profile anpr_service [^{]*\{\n(.*?)\n  \}\n", profile_text(), re.S)
    assert match, "no anpr_service profile"
    return match.group(1)


def rules(body: str) -> list[str]:
    lines = (line.split("#", 1)[0].strip() for line in body.splitlines())
    return [line.rstrip(",") for line in lines if line.endswith(",")]


def test_profile_compiles() -> None:
    parser = shutil.which("apparmor_parser") or next(
        (p for p in ("/usr/sbin/apparmor_parser", "/sbin/apparmor_parser") if Path(p).exists()),
        None,
    )
    if parser is None:
        pytest.skip(
            "apparmor_parser is missing, so apparmor.txt was not compiled "
            "(Debian: apt-get install apparmor; .ci/run installs it)"
        )
    result = subprocess.run(  # noqa: S603 (a fixed program on a file of this repository)
        [parser, "--skip-kernel-load", "--skip-cache", str(PROFILE)],
        capture_output=True,
        text=True,
        check=False,
        timeout=60,
    )
    assert result.returncode == 0, result.stderr


def test_profile_is_named_after_the_slug() -> None:
    slug = yaml.safe_load((ADDON / "config.yaml").read_text(encoding="utf-8"))["slug"]
    assert re.search(rf"^profile {slug} flags=\(attach_disconnected,mediate_deleted\) \{{$",
                     profile_text(), re.M)  # fmt: skip


def test_service_runs_in_its_own_profile() -> None:
    """The run script's program, installed where the Dockerfile puts it, changes profile."""
    dockerfile = (ADDON / "Dockerfile").read_text(encoding="utf-8")
    venv = re.search(r"python3 -m venv (\S+)", dockerfile)
    assert venv
    scripts = tomllib.loads((ADDON / "pyproject.toml").read_text(encoding="utf-8"))
    (program,) = scripts["project"]["scripts"]
    assert re.search(rf"^exec {program} serve", RUN.read_text(encoding="utf-8"), re.M)
    assert f"  {venv.group(1)}/bin/{program} cx -> anpr_service," in profile_text()


def test_service_profile_allows_only_what_the_service_needs() -> None:
    allowed = rules(service_profile())
    # It runs nothing but its interpreter, and holds no capability.
    executable = [rule for rule in allowed if re.search(r"\s\w*x\w*$", rule)]
    assert executable == ["/usr/bin/python3{,.[0-9]*} rix"]
    assert not [rule for rule in allowed if rule.startswith(("capability", "file", "mount"))]
    assert [rule for rule in allowed if rule.startswith("network")] == [
        "network inet stream",
        "network inet6 stream",
    ]
    # Its folders, as the run script passes them: options and state in /data, models in
    # /data/models (written: downloads); the user's models in /share/anpr, read only, as the
    # add-on maps /share.
    run = RUN.read_text(encoding="utf-8")
    assert "--options /data/options.json" in run
    assert "--data-dir /data" in run
    assert "--model-dir /data/models" in run
    assert "/data/options.json r" in allowed
    assert "/data/* rw" in allowed
    assert "/data/models/{,**} rw" in allowed
    assert "/share/anpr/{,**} r" in allowed
    assert "share:ro" in yaml.safe_load((ADDON / "config.yaml").read_text(encoding="utf-8"))["map"]
    assert "/share/anpr/" in (ADDON / "DOCS.md").read_text(encoding="utf-8")
