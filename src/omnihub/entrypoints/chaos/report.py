"""The chaos day's HTML page: per hour, orders per channel, sync lag, discrepancies, and the
top SKUs' stock on each channel against the hub's figure. Charts by matplotlib, as SVG
inside the page (no script, no network: it opens offline)."""

from __future__ import annotations

import html
import io
import json

import matplotlib

matplotlib.use("svg")
import matplotlib.pyplot as plt  # noqa: E402


def _svg(fig) -> str:
    buf = io.StringIO()
    fig.savefig(buf, format="svg", bbox_inches="tight")
    plt.close(fig)
    text = buf.getvalue()
    return text[text.find("<svg"):]


def _orders_chart(hourly: list[dict]) -> str:
    points = [h for h in hourly if "orders" in h]
    fig, ax = plt.subplots(figsize=(8, 3))
    channels = sorted({c for h in points for c in h["orders"]})
    prev = {c: 0 for c in channels}
    for c in channels:
        per_hour = []
        for h in points:
            per_hour.append(h["orders"][c] - prev[c])
            prev[c] = h["orders"][c]
        ax.plot([h["label"] for h in points], per_hour, marker="o", label=c)
    ax.set_title("orders per hour, per channel (the simulators' own lists)")
    ax.set_ylabel("orders")
    ax.legend()
    return _svg(fig)


def _lag_chart(hourly: list[dict]) -> str:
    points = [h for h in hourly if "orders" in h]
    fig, ax = plt.subplots(figsize=(8, 3))
    for key in ("lag_p50_ms", "lag_p99_ms"):
        ax.plot([h["label"] for h in points], [h[key] if h[key] is not None else float("nan") for h in points],
                marker="o", label=key.replace("_ms", " (ms)"))
    ax.set_title("sync lag: receipt in the hub → Shopify's level moves (probes of the last hour)")
    ax.legend()
    return _svg(fig)


def _discrepancy_chart(hourly: list[dict]) -> str:
    points = [h for h in hourly if "orders" in h]
    fig, ax = plt.subplots(figsize=(8, 3))
    ax.bar([h["label"] for h in points], [h["discrepancies"] for h in points])
    ax.set_title("positions where a channel shows another figure than the hub means")
    return _svg(fig)


def _stock_chart(hourly: list[dict], skus: list[str]) -> str:
    points = [h for h in hourly if "stock" in h]
    fig, axes = plt.subplots(1, max(1, len(skus)), figsize=(4 * max(1, len(skus)), 3), squeeze=False)
    for ax, sku in zip(axes[0], skus):
        labels = [h["label"] for h in points]
        for key, style in (("shopify_shown", "-o"), ("shopify_hub", "--"), ("amazon_shown", "-s"), ("amazon_hub", "--")):
            ax.plot(labels, [h["stock"][sku][key] if h["stock"][sku][key] is not None else float("nan")
                             for h in points], style, label=key)
        ax.set_title(sku)
        ax.legend(fontsize=7)
    fig.suptitle("stock of the top SKUs: each channel's figure against the hub's")
    return _svg(fig)


def write_html(result: dict) -> str:
    hourly = result.get("hourly", [])
    headline = {k: result.get(k) for k in ("orders_by_channel", "orders_lost", "orders_duplicated", "oversold_units",
                                           "discrepancies_found", "discrepancies_fixed", "discrepancies_open_at_end",
                                           "sync_lag_p50_ms", "sync_lag_p99_ms", "reconcile_runs", "faults_injected")}
    charts = "".join(f"<section>{c}</section>" for c in (
        _orders_chart(hourly), _lag_chart(hourly), _discrepancy_chart(hourly),
        _stock_chart(hourly, result.get("top_skus", []))))
    title = (f"omnihub chaos day: {result.get('hours')} h at ×{result.get('speed')}, seed {result.get('seed')}, "
             f"{result.get('backend')}")
    return (f"<!doctype html><html><head><meta charset='utf-8'><title>{html.escape(title)}</title>"
            "<style>body{font-family:sans-serif;max-width:1100px;margin:2em auto}pre{background:#f4f4f4;padding:1em}"
            "</style></head><body>"
            f"<h1>{html.escape(title)}</h1><pre>{html.escape(json.dumps(headline, indent=2))}</pre>{charts}"
            f"<h2>faults</h2><pre>{html.escape(json.dumps(result.get('fault_log', []), indent=2))}</pre>"
            f"<h2>processes</h2><pre>{html.escape(json.dumps(result.get('processes', {}), indent=2))}</pre>"
            "</body></html>\n")
