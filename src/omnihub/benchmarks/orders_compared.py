"""`omnihub bench orders --locations-per-sku 10,50`: the same order load on estates that
differ only in how many locations stock each SKU, measured side by side in one run.

A shared machine drifts (other work starts and stops, caches warm), so two runs minutes
apart on different estates compare the machine as much as the code. Here the estates run
alternately, A B A B, each on a fresh scratch database seeded the same way, and the
report gives every run, each estate's figures over its runs, and the ratio of each
estate's throughput to the first one's: per round (neighbours in time) and overall.
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from statistics import mean
from typing import Any

from omnihub.benchmarks.orders import bench_orders

Runner = Callable[..., dict]


def parse_locations_per_sku(text: str) -> list[int]:
    """"10,50" → [10, 50]: at least two distinct counts, each at least 1."""
    try:
        counts = [int(part) for part in text.split(",") if part.strip()]
    except ValueError:
        raise ValueError(f"--locations-per-sku takes counts separated by commas, e.g. 10,50 (got {text!r})") from None
    if len(counts) < 2 or len(set(counts)) != len(counts) or min(counts) < 1:
        raise ValueError(f"--locations-per-sku needs two or more distinct counts of at least 1, e.g. 10,50 (got {text!r})")
    return counts


def compare_estates(backend: str, per_skus: Sequence[int], *, rounds: int = 2, locations: int = 50,
                    run: Runner = bench_orders, **options: Any) -> dict:
    """Run `bench_orders` on each estate in turn, `rounds` times (A B A B ...); `options`
    go to every run alike."""
    if max(per_skus) > locations:
        raise ValueError(f"a SKU cannot be stocked at more locations ({max(per_skus)}) than there are ({locations})")
    runs: list[dict] = []
    for r in range(rounds):
        for per_sku in per_skus:
            result = run(backend, per_sku=per_sku, locations=locations, **options)
            result["round"] = r + 1
            runs.append(result)
    estates: dict[str, dict] = {}
    for per_sku in per_skus:
        mine = [x for x in runs if x["stocked_locations_per_sku"] == per_sku]
        estates[str(per_sku)] = {
            "orders_per_s": [x["orders_per_s"] for x in mine],
            "orders_per_s_mean": round(mean(x["orders_per_s"] for x in mine)),
            "p50_ms": [x["p50_ms"] for x in mine],
            "p99_ms": [x["p99_ms"] for x in mine],
            "writer_computing_s": [x["writer_seconds"].get("computing") for x in mine],
            "oversells": sum(x["oversells"] for x in mine),
            "failed": sum(x["failed"] for x in mine),
            "peak_rss_mb": max(x["peak_rss_mb"] for x in mine),
        }
    base = str(per_skus[0])
    ratios = {}
    for per_sku in per_skus[1:]:
        key = str(per_sku)
        ratios[f"{key}/{base}"] = {
            "per_round": [round(a / b, 3) for a, b in zip(estates[key]["orders_per_s"], estates[base]["orders_per_s"])],
            "of_means": round(estates[key]["orders_per_s_mean"] / estates[base]["orders_per_s_mean"], 3),
        }
    first = runs[0]
    return {
        "benchmark": "orders",
        "compared": "stocked_locations_per_sku",
        "backend": backend,
        "sequence": [x["stocked_locations_per_sku"] for x in runs],
        "rounds": rounds,
        "orders_per_run": first["orders"],
        "skus": first["skus"],
        "locations": locations,
        "processes": first["processes"],
        "estates": estates,
        "throughput_ratios": ratios,  # each estate's orders/s over the first estate's
        "peak_rss_mb": max(x["peak_rss_mb"] for x in runs),
        "core_build": first["core_build"],
        "runs": runs,
    }
