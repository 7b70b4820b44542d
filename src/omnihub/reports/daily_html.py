"""The daily report written to a folder: index.html (self-contained, the charts drawn by
matplotlib as SVG inside the page, so it opens offline) and one CSV file per table. The
figures come from services/daily_report.py; this module only lays them out."""

from __future__ import annotations

import csv
import io
from pathlib import Path

from jinja2 import Environment, select_autoescape
from markupsafe import Markup

from omnihub.services.daily_report import DailyFigures

MISSING_MATPLOTLIB = "the daily report draws its charts with matplotlib: pip install 'omnihub[charts]'"

TEMPLATE = """<!doctype html>
<html lang="en"><head><meta charset="utf-8"><title>Daily report {{ f.day.day }}</title>
<style>body{font-family:sans-serif;margin:2em}table{border-collapse:collapse}td,th{border:1px solid #ccc;padding:4px 8px}</style>
</head><body>
<h1>Daily report {{ f.day.day }} ({{ f.day.zone }})</h1>
{% if f.empty %}<p class="empty">No orders were placed on this day.</p>{% endif %}
<section id="per-channel"><h2>Orders per channel</h2>
<table><tr><th>channel</th><th>orders</th><th>units</th><th>revenue</th><th>currency</th></tr>
{% for c in f.per_channel %}<tr><td>{{ c.channel }}</td><td>{{ c.orders }}</td><td>{{ c.units }}</td>
<td>{{ "%.2f"|format(c.revenue_minor / 100) }}</td><td>{{ c.currency }}</td></tr>{% endfor %}</table>
{{ channel_chart }}</section>
<section id="per-location"><h2>Orders per location</h2>
<table><tr><th>location</th><th>orders</th><th>units</th></tr>
{% for l in f.per_location %}<tr><td>{{ l.location }}</td><td>{{ l.orders }}</td><td>{{ l.units }}</td></tr>{% endfor %}
</table>{{ location_chart }}</section>
<section id="fill-rate"><h2>Fill rate</h2><p>{{ f.units_allocated }} of {{ f.units_ordered }} units ordered allocated
({{ "%.1f"|format(f.fill_rate * 100) }}%)</p></section>
<section id="split-rate"><h2>Split rate</h2><p>{{ f.split_orders }} of {{ f.orders }} orders from more than one
location ({{ "%.1f"|format(f.split_rate * 100) }}%)</p></section>
<section id="pickup-ship"><h2>Pickup against ship</h2><p>pickup {{ f.pickup_orders }}, ship {{ f.ship_orders }}</p></section>
<section id="cancellations"><h2>Cancellations</h2><p>{{ f.cancelled_orders }} cancelled</p></section>
<section id="cover"><h2>Stock-outs and days of cover</h2>{% if not f.top_sellers %}<p>No sales in the last 7 days.</p>
{% else %}<table><tr><th>sku</th><th>units sold, 7 days</th><th>on hand</th><th>days of cover</th><th>stock-out</th></tr>
{% for t in f.top_sellers %}<tr><td>{{ t.sku }}</td><td>{{ t.units_7d }}</td><td>{{ t.on_hand }}</td><td>{{ t.days_of_cover }}</td>
<td>{{ "yes" if t.stocked_out else "" }}</td></tr>{% endfor %}</table>{% endif %}</section>
<section id="oversells"><h2>Oversells</h2>{% if not f.oversells %}<p>No oversell incidents.</p>{% else %}
<table><tr><th>sku</th><th>location</th><th>channel</th><th>units</th></tr>
{% for o in f.oversells %}<tr><td>{{ o.sku }}</td><td>{{ o.location }}</td><td>{{ o.channel or "" }}</td><td>{{ o.units }}</td></tr>
{% endfor %}</table>{% endif %}</section>
<section id="discrepancies"><h2>Discrepancies found and fixed</h2>{% if not f.discrepancies %}<p>No reconciliation
findings.</p>{% else %}<table><tr><th>channel</th><th>class</th><th>found</th><th>fixed</th></tr>
{% for d in f.discrepancies %}<tr><td>{{ d.channel }}</td><td>{{ d.kind }}</td><td>{{ d.found }}</td><td>{{ d.fixed }}</td></tr>
{% endfor %}</table>{% endif %}</section>
<section id="sync-lag"><h2>Sync lag</h2><p>Not recorded: the hub deletes a sync intent when the channel confirms it,
and keeps no confirmation times to measure lag from.</p></section>
</body></html>
"""


def _bar_chart_svg(title: str, labels: list[str], values: list[float]) -> Markup:
    import matplotlib

    matplotlib.use("svg")
    from matplotlib import pyplot as plt

    fig, ax = plt.subplots(figsize=(6, 3))
    ax.bar(labels, values)
    ax.set_title(title)
    out = io.StringIO()
    fig.savefig(out, format="svg")
    plt.close(fig)
    text = out.getvalue()
    return Markup(text[text.index("<svg"):])  # matplotlib escapes the labels it writes


def _write_csv(path: Path, rows: list[dict], columns: list[str]) -> None:
    with path.open("w", newline="") as f:
        writer = csv.DictWriter(f, fieldnames=columns, extrasaction="ignore")
        writer.writeheader()
        writer.writerows(rows)


def write_daily_report(figures: DailyFigures, out: Path) -> list[Path]:
    """index.html and the CSV files in `out` (made if missing); the paths written."""
    try:
        import matplotlib  # noqa: F401
    except ImportError as exc:
        raise RuntimeError(MISSING_MATPLOTLIB) from exc
    out.mkdir(parents=True, exist_ok=True)
    written = []
    tables = {"per_channel.csv": (figures.per_channel, ["channel", "orders", "units", "units_allocated", "revenue_minor",
                                                     "currency"]),
              "per_location.csv": (figures.per_location, ["location", "orders", "units"]),
              "top_sellers.csv": (figures.top_sellers, ["sku", "units_7d", "on_hand", "days_of_cover", "stocked_out"]),
              "oversells.csv": (figures.oversells, ["sku", "location", "channel", "units"]),
              "discrepancies.csv": (figures.discrepancies, ["channel", "kind", "found", "fixed"]),
              "summary.csv": ([{"orders": figures.orders, "split_orders": figures.split_orders,
                                "pickup_orders": figures.pickup_orders, "ship_orders": figures.ship_orders,
                                "cancelled_orders": figures.cancelled_orders,
                                "units_ordered": figures.units_ordered, "units_allocated": figures.units_allocated}],
                              ["units_ordered", "units_allocated", "orders", "split_orders", "pickup_orders", "ship_orders", "cancelled_orders"])}
    for name, (rows, columns) in tables.items():
        _write_csv(out / name, rows, columns)
        written.append(out / name)
    env = Environment(autoescape=select_autoescape(default=True, default_for_string=True))
    page = env.from_string(TEMPLATE).render(
        f=figures,
        channel_chart=_bar_chart_svg("orders per channel", [c["channel"] for c in figures.per_channel],
                                     [c["orders"] for c in figures.per_channel]),
        location_chart=_bar_chart_svg("units per location", [loc["location"] for loc in figures.per_location],
                                      [loc["units"] for loc in figures.per_location]))
    (out / "index.html").write_text(page)
    written.append(out / "index.html")
    return written
