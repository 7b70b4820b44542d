"""The benchmark commands run end to end on a small scale and write the JSON the issues
ask for (the figures themselves are measured by hand, never asserted here)."""

from __future__ import annotations

import json

from typer.testing import CliRunner

from omnihub.entrypoints.cli.main import app
from tests.conftest import BACKEND


def test_bench_ledger_writes_its_figures(tmp_path):
    out = tmp_path / "ledger.json"
    result = CliRunner().invoke(app, [
        "bench", "ledger", "--backend", BACKEND, "--json", str(out), "--skus", "40", "--locations", "5",
        "--movements", "3000", "--callers", "4", "--writers", "2", "--hot-attempts", "400",
        "--callers-per-writer", "4", "--channels", "2"])
    assert result.exit_code == 0, result.output
    data = json.loads(out.read_text())
    for key in ("backend", "movements_per_s", "hot_sku_reservations_per_s", "writers", "lost_updates", "p99_ms",
                "peak_rss_mb"):
        assert key in data, key
    assert data["backend"] == BACKEND and data["channels"] == 0
    assert data["lost_updates"] == 0
    assert data["spread"]["movements_recorded"] + data["spread"]["refused"] == data["spread"]["attempts"]
    assert data["hot"]["reserved_in_ledger"] == data["hot"]["reserved_in_position"] == data["hot"]["succeeded"]
    assert data["with_channels"]["channels"] == 2 and data["with_channels"]["lost_updates"] == 0


def test_bench_orders_writes_its_figures(tmp_path):
    out = tmp_path / "orders.json"
    result = CliRunner().invoke(app, [
        "bench", "orders", "--backend", BACKEND, "--json", str(out), "--orders", "400", "--skus", "200",
        "--locations", "12", "--per-sku", "4", "--callers", "4", "--window", "8"])
    assert result.exit_code == 0, result.output
    data = json.loads(out.read_text())
    for key in ("backend", "orders", "orders_per_s", "p50_ms", "p99_ms", "oversells", "locations", "skus"):
        assert key in data, key
    assert data["orders"] == 400 and data["failed"] == 0
    assert data["oversells"] == 0 and data["reservations_without_order"] == 0
    assert len(data["gc_pauses"]["collections"]) == 3 and len(data["gc_pauses"]["longest_ms"]) == 3


def test_bench_orders_open_loop_runs_every_order_and_reports_the_offered_rate(tmp_path):
    out = tmp_path / "orders.json"
    result = CliRunner().invoke(app, [
        "bench", "orders", "--backend", BACKEND, "--json", str(out), "--orders", "300", "--skus", "200",
        "--locations", "12", "--per-sku", "4", "--rate", "200"])
    assert result.exit_code == 0, result.output
    data = json.loads(out.read_text())
    assert data["mode"] == "open loop" and data["offered_per_s"] == 200 and data["window"] is None
    assert data["failed"] == 0 and data["oversells"] == 0 and sum(data["outcomes"].values()) == 300


def test_bench_orders_compares_estates_alternately_in_one_run(tmp_path):
    out = tmp_path / "orders.json"
    result = CliRunner().invoke(app, [
        "bench", "orders", "--backend", BACKEND, "--json", str(out), "--orders", "200", "--skus", "100",
        "--locations", "8", "--locations-per-sku", "2,6", "--rounds", "2", "--processes", "1"])
    assert result.exit_code == 0, result.output
    data = json.loads(out.read_text())
    assert data["sequence"] == [2, 6, 2, 6]  # A B A B: the machine's drift falls on both estates
    assert [r["stocked_locations_per_sku"] for r in data["runs"]] == data["sequence"]
    assert [r["round"] for r in data["runs"]] == [1, 1, 2, 2]
    assert all(r["failed"] == 0 and r["oversells"] == 0 and r["orders"] == 200 for r in data["runs"])
    few, many = data["estates"]["2"], data["estates"]["6"]
    assert many["orders_per_s"] == [data["runs"][1]["orders_per_s"], data["runs"][3]["orders_per_s"]]
    ratio = data["throughput_ratios"]["6/2"]
    assert ratio["per_round"] == [round(m / f, 3) for m, f in zip(many["orders_per_s"], few["orders_per_s"])]
    assert ratio["of_means"] == round(many["orders_per_s_mean"] / few["orders_per_s_mean"], 3)
    assert data["peak_rss_mb"] == max(r["peak_rss_mb"] for r in data["runs"]) > 0


def test_bench_orders_refuses_an_estate_list_it_cannot_compare(tmp_path):
    for bad, words in (("10", "two or more"), ("10,x", "commas"), ("4,60", "the 50 locations")):
        result = CliRunner().invoke(app, ["bench", "orders", "--backend", BACKEND, "--locations-per-sku", bad])
        assert result.exit_code == 2, (bad, result.output)
        assert words in " ".join(result.output.split()), (bad, result.output)
