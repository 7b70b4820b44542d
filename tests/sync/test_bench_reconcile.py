"""`omnihub bench reconcile` at a few hundred SKU-locations: a real sandbox Shopify (a
child process, HTTP), a scratch hub on the test's backend and one reconciliation in a
child process. Every injected difference is found once and classed right, nothing else
is found, and every class is there (the figures at scale are in docs/benchmarks.md)."""

from __future__ import annotations

import os

import pytest

from omnihub.benchmarks.reconcile import CLASSES, bench_reconcile


@pytest.mark.parametrize("seed", [3, 11])
def test_every_injected_difference_is_found_once_and_nothing_else(seed):
    backend = os.environ.get("OMNIHUB_TEST_BACKEND", "sqlite")
    result = bench_reconcile(backend, skus=60, locations=6, per_class=3, seed=seed,
                             base_url=os.environ.get("OMNIHUB_PG_URL"))
    assert result["state"] == "done", result["error"]
    assert result["sku_locations"] == result["levels_compared"] == 360
    assert result["injected_by_class"] == {c: 3 for c in sorted(CLASSES)}, result["injected_by_class"]
    assert (result["missed"], result["false_findings"]) == (0, 0), (result["missed_examples"], result["false_examples"])
    assert result["findings_by_class"] == result["injected_by_class"]
    assert result["orders_compared"] == 3 and result["peak_rss_mb"] > 0
