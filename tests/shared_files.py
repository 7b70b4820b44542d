"""Where the shared contracts and sample data are, for every test that needs them.

A user's clone has no ../shared: such tests skip with a reason, and the rest of the suite
runs. CI sets OMNIHUB_REQUIRE_SHARED=1, and then a missing shared file fails the test
instead, so a broken path can never pass as a skip. Every helper goes through here.
"""

from __future__ import annotations

import os
from pathlib import Path

import pytest

from omnihub.settings import Settings

PROJECT_ROOT = Path(__file__).resolve().parents[1]


def shared_dir() -> Path:
    """The `shared_dir` setting (OMNIHUB_SHARED_DIR; default ../shared), a relative one
    taken from the project's root whatever folder pytest was started in."""
    setting = Settings().shared_dir
    return (setting if setting.is_absolute() else PROJECT_ROOT / setting).resolve()


def shared_required() -> bool:
    return os.environ.get("OMNIHUB_REQUIRE_SHARED") == "1"


def shared_path(*parts: str) -> Path | None:
    """The path under the shared folder, or None when it is absent (for collection time)."""
    path = shared_dir().joinpath(*parts)
    return path if path.exists() else None


#: in every skip's reason (tests/conftest.py finds the skipped tests by it)
SHARED_ABSENT = "is absent: set OMNIHUB_SHARED_DIR"


def absent_message(*parts: str) -> str:
    return f"{shared_dir().joinpath(*parts)} {SHARED_ABSENT} to the folder holding contracts/ and data/"


def beyond_shared(*parts: str) -> Path:
    """A file the shared contracts do not carry today (e.g. Amazon's Reports model): the
    path when a developer has put it there, else a skip naming it, never a failure, since
    CI's shared folder has no such file to demand."""
    path = shared_path(*parts)
    if path is None:
        pytest.skip(f"{shared_dir().joinpath(*parts)} is not among the shared contracts: the checks against it "
                    f"run where it is added")
    return path


def require_shared(*parts: str) -> Path:
    """The path under the shared folder, or a skip (a failure when CI demands shared/).

    Call it inside a test or a fixture, never at import or collection time: a skip raised
    there stops pytest's collection of the whole run.
    """
    path = shared_path(*parts)
    if path is None:
        if shared_required():
            pytest.fail(absent_message(*parts))
        pytest.skip(absent_message(*parts))
    return path


def shared_absent_param(argnames: int):
    """A stand-in parameter for a test parametrized from shared files that are absent.

    The test runs once and calls require_shared, so it is skipped with the reason, or
    failed under OMNIHUB_REQUIRE_SHARED=1, instead of erroring at collection.
    """
    return pytest.param(*([None] * argnames), id="shared-absent")
