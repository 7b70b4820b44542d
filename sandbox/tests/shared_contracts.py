"""Where the shared contracts are (Shopify's Admin schema, Amazon's models), for the
simulators' tests that hold them to the official contracts.

The same rule as the hub's tests (../../tests/shared_files.py), without importing the hub:
``OMNIHUB_SHARED_DIR`` (default ``../shared`` beside the repository; a relative one taken
from the repository's root). A user's clone has none: such tests skip with a reason. CI
sets ``OMNIHUB_REQUIRE_SHARED=1``, and then a missing file fails the test instead.
"""

from __future__ import annotations

import os
from pathlib import Path

import pytest

REPOSITORY_ROOT = Path(__file__).resolve().parents[2]


def shared_dir() -> Path:
    setting = Path(os.environ.get("OMNIHUB_SHARED_DIR") or "../shared")
    return (setting if setting.is_absolute() else REPOSITORY_ROOT / setting).resolve()


def shared_path(*parts: str) -> Path | None:
    """The path under the shared folder, or None when it is absent (for collection time)."""
    path = shared_dir().joinpath(*parts)
    return path if path.exists() else None


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
        message = (f"{shared_dir().joinpath(*parts)} is absent: set OMNIHUB_SHARED_DIR to the folder holding "
                   f"contracts/ and data/")
        if os.environ.get("OMNIHUB_REQUIRE_SHARED") == "1":
            pytest.fail(message)
        pytest.skip(message)
    return path


def shared_absent_param(argnames: int):
    """A stand-in parameter for a test parametrized from shared files that are absent: it
    runs once and calls require_shared (a skip with the reason, or a failure in CI)."""
    return pytest.param(*([None] * argnames), id="shared-absent")
