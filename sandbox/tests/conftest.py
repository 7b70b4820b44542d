"""The sandboxes are other worlds: they keep their own state (their own SQLite files) and
never open the hub's database, so their tests mean the same whichever backend the hub
runs on. CI runs the suite once per backend; these run on the SQLite pass only, which
keeps the whole CI run well inside its time budget."""

from __future__ import annotations

import os
from pathlib import Path

import pytest

SANDBOX_TESTS = Path(__file__).resolve().parent


def pytest_collection_modifyitems(config, items):
    if os.environ.get("OMNIHUB_TEST_BACKEND", "sqlite") == "sqlite":
        return
    skip = pytest.mark.skip(reason="backend-independent (the sandbox keeps its own state): runs on the SQLite pass")
    for item in items:
        if SANDBOX_TESTS in Path(str(item.fspath)).resolve().parents:
            item.add_marker(skip)
