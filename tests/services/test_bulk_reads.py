"""fetch_by_keys answers exactly the stored rows whose key is asked for, in key order,
whichever way it phrases the query (grouped `IN` lists or a joined VALUES list)."""

from __future__ import annotations

import random
from datetime import UTC, datetime

import pytest

from omnihub.adapters.db.bulk_sql import db_time, fetch_by_keys, insert_many
from omnihub.adapters.db.engine import make_engine


@pytest.fixture
def availability(clean_url):
    engine = make_engine(clean_url)
    rng = random.Random(7)
    with engine.begin() as conn:
        ts = db_time(conn, datetime.now(UTC))
        rows = {(ch, f"S{s:03d}", loc): rng.randrange(50)
                for ch in ("amazon", "shopify", "walmart") for s in range(120)
                for loc in ("", *(f"L{i}" for i in range(6))) if rng.random() < 0.7}
        insert_many(conn, "channel_availability", ("channel", "sku", "location", "quantity", "updated_at"),
                    [(*k, q, ts) for k, q in rows.items()])
    yield engine, rows
    engine.dispose()


SHAPES = {
    "one channel's totals over many SKUs": lambda rng: [("shopify", f"S{s:03d}", "") for s in range(120)],
    "two channels' totals": lambda rng: [(c, f"S{s:03d}", "") for c in ("amazon", "walmart") for s in rng.sample(range(120), 60)],
    "scattered (sku, location) pairs": lambda rng: [("shopify", f"S{rng.randrange(120):03d}", f"L{rng.randrange(6)}") for _ in range(80)],
    "a few keys over every channel and location": lambda rng: [
        (rng.choice(("amazon", "shopify", "walmart")), f"S{rng.randrange(120):03d}", rng.choice(("", "L1", "L4", "L5")))
        for _ in range(30)],
    "keys that match nothing": lambda rng: [("tiktok", f"S{s:03d}", "") for s in range(40)],
}


@pytest.mark.parametrize("shape", SHAPES)
def test_rows_are_exactly_those_asked_for_in_key_order(availability, shape):
    engine, stored = availability
    keys = sorted(set(SHAPES[shape](random.Random(3))))
    with engine.connect() as conn:
        got = fetch_by_keys(conn, "channel_availability", ("channel", "sku", "location", "quantity"),
                            ("channel", "sku", "location"), keys, chunk=25)
    expected = sorted((*k, stored[k]) for k in keys if k in stored)
    assert got == expected


def test_a_key_prefix_reads_every_row_under_it(availability):
    engine, stored = availability
    prefixes = sorted({("shopify", f"S{s:03d}") for s in range(0, 120, 3)} | {("amazon", "S001")})
    with engine.connect() as conn:
        got = fetch_by_keys(conn, "channel_availability", ("channel", "sku", "location", "quantity"),
                            ("channel", "sku"), prefixes, chunk=25)
    expected = sorted((*k, q) for k, q in stored.items() if k[:2] in set(prefixes))
    assert sorted(got) == expected
    assert [r[:2] for r in got] == sorted(r[:2] for r in got)
