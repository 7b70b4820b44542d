"""`omnihub bench console` end to end at a tiny size: it seeds its scratch database,
renders every console page through the real app as a signed-in admin and writes the
JSON keys the issue asks for (p50/p95/max per page, peak RSS); the figures themselves
are measured by hand (docs/benchmarks.md), never asserted here."""

from __future__ import annotations

import json

from typer.testing import CliRunner

from omnihub.entrypoints.cli.main import app
from tests.conftest import BACKEND


def test_bench_console_renders_every_page_and_writes_its_figures(tmp_path):
    out = tmp_path / "console.json"
    result = CliRunner().invoke(app, ["bench", "console", "--backend", BACKEND, "--json", str(out),
                                      "--orders", "300", "--skus", "60", "--requests", "3"])
    assert result.exit_code == 0, result.output
    data = json.loads(out.read_text())
    for key in ("backend", "orders", "skus", "pages", "actions", "peak_rss_mb", "worst_p95_ms", "p95_goal_ms",
                "meets_goal", "seeded"):
        assert key in data, key
    assert data["backend"] == BACKEND and data["orders"] == 300 and data["seeded"]["rows"]["orders"] == 300
    assert data["seeded"]["rows"]["variants"] == 60 and data["skipped"] == {}
    for page in ("/console/", "/console/inventory", "/console/inventory/{sku}", "/console/orders",
                 "/console/orders/{order_id}", "/console/rules", "/console/store/{location}/receive"):
        figures = data["pages"][page]
        assert {"p50_ms", "p95_ms", "max_ms", "requests"} <= set(figures), page
        assert figures["requests"] == 3 and figures["p50_ms"] <= figures["p95_ms"] <= figures["max_ms"], page
        assert set(figures["statuses"]) <= {"200", "303"}, (page, figures["statuses"])  # a search may go to its SKU
    assert data["actions"]["POST /console/rules/preview"]["status"] == 200
    assert data["peak_rss_mb"] > 0
