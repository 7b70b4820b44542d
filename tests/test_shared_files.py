"""Tests that need the shared contracts skip in a user's clone and fail in CI.

Each helper that reaches shared/ (the Amazon models, parsed at collection time for the
sandbox vectors; the Shopify schema behind a session fixture; the Olist sample) is run
in a separate pytest with shared/ pointed at an empty folder: without
OMNIHUB_REQUIRE_SHARED the run passes with every such test skipped and a reason, with it
every one of them fails.
"""

from __future__ import annotations

import os
import subprocess
import sys

import pytest

from tests.shared_files import PROJECT_ROOT

NEEDING_SHARED = [
    "sandbox/tests/amazon/test_amazon_contract_vectors.py",  # parametrized from the models
    "sandbox/tests/amazon/test_amazon_feeds.py::test_official_example_feed_is_accepted",
    "sandbox/tests/shopify/test_shopify_walls.py::test_documents_the_tests_send_are_valid_against_the_official_schema",
    "tests/orders/test_olist_replay.py",
    "tests/sync/test_payload_mapping.py::test_sp_api_sandbox_vectors_map_onto_the_hub_order",
]


def _pytest(tmp_path, require: bool) -> subprocess.CompletedProcess:
    env = {k: v for k, v in os.environ.items() if k not in ("OMNIHUB_REQUIRE_SHARED", "OMNIHUB_SHARED_SKIPS", "PYTEST_XDIST_WORKER")}
    env["OMNIHUB_SHARED_DIR"] = str(tmp_path / "no-shared")
    env["OMNIHUB_TEST_BACKEND"] = "sqlite"  # on PostgreSQL's pass the sandbox tests skip as backend-independent
    if require:
        env["OMNIHUB_REQUIRE_SHARED"] = "1"
    return subprocess.run([sys.executable, "-m", "pytest", "-q", "-p", "no:cacheprovider", "-p", "no:xdist", "-rs",
                           *NEEDING_SHARED], cwd=PROJECT_ROOT, env=env, capture_output=True, text=True, timeout=300)


@pytest.mark.parametrize("require", [False, True], ids=["users-clone", "ci"])
def test_a_missing_shared_folder_skips_with_a_reason_or_fails_under_ci(tmp_path, require):
    run = _pytest(tmp_path, require)
    out = run.stdout + run.stderr
    summary = out.strip().split("\n")[-1]  # "5 skipped, 1 warning in 1.2s"
    assert "is absent" in out and "no-shared" in out, out[-3000:]  # the reason names the folder it looked in
    if require:  # a failure in a test, or in a fixture (pytest counts that as an error); never a skip
        assert run.returncode == 1 and "skipped" not in summary and "passed" not in summary, out[-3000:]
    else:
        assert run.returncode == 0 and "skipped" in summary, out[-3000:]
        assert "failed" not in summary and "error" not in summary and "passed" not in summary, out[-3000:]
