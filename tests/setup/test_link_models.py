"""`script/link-models` (run by `script/setup`): idempotent across clones of the repository.

Every clone's setup links the shared OCR model into the same `~/.cache/anpr-inference` model
folder. A link left there by a deleted clone once made setup fail (`ln: File exists`), and a
live one from another clone made `serve` quietly use that clone's model. The script runs here
against a temporary HOME, model folder and shared folder, so the venv is not touched.
"""

from __future__ import annotations

from pathlib import Path
import subprocess

import pytest

REPO_ROOT = Path(__file__).resolve().parents[2]
SCRIPT = REPO_ROOT / "script" / "link-models"
FILES = (
    "cct_xs_v1_global.onnx",
    "cct_xs_v1_global_plate_config.yaml",
    "cct_xs_v2_global.onnx",
    "cct_xs_v2_global_plate_config.yaml",
)


@pytest.fixture
def shared(tmp_path: Path) -> Path:
    """Return a stand-in for this clone's `../shared/models`."""
    models = tmp_path / "clone" / "shared" / "models"
    models.mkdir(parents=True)
    for name in FILES:
        (models / name).write_text(name, encoding="utf-8")
    return models


@pytest.fixture
def cache(tmp_path: Path) -> Path:
    """Return the custom/ model folder the service uses without --model-dir."""
    return tmp_path / "home" / ".cache" / "anpr-inference" / "models" / "custom"


def link_models(tmp_path: Path, shared: Path) -> subprocess.CompletedProcess[str]:
    return subprocess.run(  # noqa: S603 - our own script, fixed arguments
        [str(SCRIPT)],
        env={
            "PATH": "/usr/bin:/bin",
            "HOME": str(tmp_path / "home"),
            "ANPR_SHARED_MODELS": str(shared),
            "ANPR_MODEL_DIR": str(tmp_path / "repo-models"),
        },
        capture_output=True,
        text=True,
        check=False,
    )


def test_links_both_model_folders_and_says_so(tmp_path: Path, shared: Path, cache: Path) -> None:
    result = link_models(tmp_path, shared)
    assert result.returncode == 0, result.stderr
    for folder in (cache, tmp_path / "repo-models" / "custom"):
        for name in FILES:
            assert (folder / name).resolve() == shared / name
            assert f"{folder / name} -> {shared / name}" in result.stdout


def test_running_again_changes_nothing(tmp_path: Path, shared: Path, cache: Path) -> None:
    link_models(tmp_path, shared)
    again = link_models(tmp_path, shared)
    assert (again.returncode, again.stdout, again.stderr) == (0, "", "")
    assert (cache / FILES[0]).resolve() == shared / FILES[0]


def test_replaces_a_dangling_link_of_a_deleted_clone(
    tmp_path: Path, shared: Path, cache: Path
) -> None:
    gone = tmp_path / "deleted-clone" / "shared" / "models" / FILES[0]
    cache.mkdir(parents=True)
    (cache / FILES[0]).symlink_to(gone)

    result = link_models(tmp_path, shared)

    assert result.returncode == 0, result.stderr
    assert (cache / FILES[0]).resolve() == shared / FILES[0]
    assert f"(was a link to {gone})" in result.stdout


def test_never_keeps_another_clones_model(tmp_path: Path, shared: Path, cache: Path) -> None:
    other = tmp_path / "other-clone" / "shared" / "models"
    other.mkdir(parents=True)
    cache.mkdir(parents=True)
    for name in FILES:
        (other / name).write_text(f"other {name}", encoding="utf-8")
        (cache / name).symlink_to(other / name)

    result = link_models(tmp_path, shared)

    assert result.returncode == 0, result.stderr
    for name in FILES:
        assert (cache / name).resolve() == shared / name
        assert f"(was a link to {other / name})" in result.stdout


def test_keeps_the_users_own_models(tmp_path: Path, shared: Path, cache: Path) -> None:
    mine = tmp_path / "my-models" / FILES[1]
    mine.parent.mkdir()
    mine.write_text("my config", encoding="utf-8")
    cache.mkdir(parents=True)
    (cache / FILES[0]).write_text("my model", encoding="utf-8")
    (cache / FILES[1]).symlink_to(mine)

    result = link_models(tmp_path, shared)

    assert result.returncode == 0, result.stderr
    assert not (cache / FILES[0]).is_symlink()
    assert (cache / FILES[0]).read_text(encoding="utf-8") == "my model"
    assert (cache / FILES[1]).resolve() == mine
    assert f"kept {cache / FILES[0]}, your own file" in result.stdout
    assert f"kept {cache / FILES[1]}, your link to {mine}" in result.stdout


def test_without_shared_models_does_nothing(tmp_path: Path, cache: Path) -> None:
    result = link_models(tmp_path, tmp_path / "no-shared")
    assert (result.returncode, result.stdout) == (0, "")
    assert not cache.exists()
