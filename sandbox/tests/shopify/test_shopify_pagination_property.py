"""Property: keyset pagination reads every row exactly once, whatever is inserted meanwhile."""

from __future__ import annotations

import sqlite3

from hypothesis import given, settings
from hypothesis import strategies as st

from omnihub_sandbox.shopify.pagination import PageRequest, paginate


@settings(max_examples=60, deadline=None)
@given(
    initial=st.integers(min_value=0, max_value=40),
    page_size=st.integers(min_value=1, max_value=9),
    inserts=st.lists(st.integers(min_value=0, max_value=4), max_size=12),
    reverse=st.booleans(),
    sort_by_value=st.booleans(),
)
def test_every_row_once_across_pages(initial, page_size, inserts, reverse, sort_by_value):
    conn = sqlite3.connect(":memory:")
    conn.row_factory = sqlite3.Row
    conn.execute("CREATE TABLE things (id INTEGER PRIMARY KEY, bucket INTEGER NOT NULL)")
    next_id = iter(range(1, 10_000))
    conn.executemany("INSERT INTO things VALUES (?, ?)", [(next(next_id), i % 3) for i in range(initial)])
    original = {r[0] for r in conn.execute("SELECT id FROM things")}
    seen: list[int] = []
    after = None
    for step in range(200):
        page = paginate(conn, source="things", where="1=1", params=[], sort_expr="bucket" if sort_by_value else "id",
                        request=PageRequest(first=page_size, after=after, reverse=reverse), max_page_size=250)
        seen += [row["id"] for row in page.rows]
        for _ in range(inserts[step] if step < len(inserts) else 0):
            conn.execute("INSERT INTO things VALUES (?, ?)", (next(next_id), step % 3))
        if not page.has_next_page:
            break
        after = page.cursors[-1]
    assert len(seen) == len(set(seen))
    assert original <= set(seen)
