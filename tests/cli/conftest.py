"""The CLI's tests run where a user's fresh shell would: an empty working directory, a
private state folder (no demo recorded) and no omnihub settings in the environment."""

from __future__ import annotations

import pytest
from typer.testing import CliRunner

from omnihub.entrypoints.cli.main import app
from omnihub.settings import get_settings


@pytest.fixture(autouse=True)
def elsewhere(tmp_path, monkeypatch):
    cwd = tmp_path / "cwd"
    cwd.mkdir()
    monkeypatch.chdir(cwd)
    monkeypatch.setenv("XDG_STATE_HOME", str(tmp_path / "state"))
    for name in ("OMNIHUB_DATABASE_URL", "OMNIHUB_CONFIG", "OMNIHUB_DEBUG"):
        monkeypatch.delenv(name, raising=False)
    get_settings.cache_clear()
    yield cwd
    get_settings.cache_clear()


def run(*args: str):
    """The command in-process, on a terminal wide enough that no message is folded."""
    return CliRunner().invoke(app, list(args), env={"COLUMNS": "200"})
