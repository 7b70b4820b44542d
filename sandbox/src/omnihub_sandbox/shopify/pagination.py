"""Relay cursor pagination over SQL, keyset-based so pages stay stable under inserts.

A cursor is opaque to clients (base64 of ``{"last_id", "last_value"}``, as Shopify's are)
and names the last row seen by its sort value and id. The next page starts strictly after
that key, so rows inserted meanwhile never shift what remains to be read, and no row is
read twice.
"""

from __future__ import annotations

import base64
import json
import sqlite3
from dataclasses import dataclass

from graphql import GraphQLError


@dataclass(frozen=True)
class PageRequest:
    first: int | None = None
    after: str | None = None
    last: int | None = None
    before: str | None = None
    reverse: bool = False


@dataclass
class Page:
    rows: list[sqlite3.Row]
    cursors: list[str]
    has_next_page: bool
    has_previous_page: bool


def encode_cursor(row_id: int, sort_value) -> str:
    raw = json.dumps({"last_id": row_id, "last_value": sort_value}, separators=(",", ":"))
    return base64.urlsafe_b64encode(raw.encode()).decode().rstrip("=")


def decode_cursor(cursor: str) -> tuple[int, object]:
    try:
        padded = cursor + "=" * (-len(cursor) % 4)
        data = json.loads(base64.urlsafe_b64decode(padded.encode()))
        return int(data["last_id"]), data["last_value"]
    except (ValueError, KeyError, TypeError) as exc:
        raise GraphQLError("Invalid cursor for current pagination sort.", extensions={"code": "BAD_REQUEST"}) from exc


def check_page_size(request: PageRequest, max_page_size: int, unlimited: bool = False) -> None:
    if unlimited:
        return
    if request.first is None and request.last is None:
        raise GraphQLError("you must provide one of first or last", extensions={"code": "BAD_REQUEST"})
    if request.first is not None and request.last is not None:
        raise GraphQLError("providing both first and last is not supported", extensions={"code": "BAD_REQUEST"})
    for name in ("first", "last"):
        size = getattr(request, name)
        if size is not None and size < 0:
            raise GraphQLError(f"Argument '{name}' must be non-negative", extensions={"code": "BAD_REQUEST"})
        if size is not None and size > max_page_size:
            raise GraphQLError(
                f"The page size of {size} exceeds the maximum of {max_page_size}",
                extensions={"code": "MAX_PAGE_SIZE_EXCEEDED", "maxPageSize": max_page_size},
            )


def paginate(
    conn: sqlite3.Connection,
    *,
    source: str,
    where: str,
    params: list,
    sort_expr: str,
    request: PageRequest,
    max_page_size: int,
    unlimited: bool = False,
    id_expr: str = "id",
) -> Page:
    """Read one page of ``SELECT * FROM source WHERE where`` ordered by (sort_expr, id)."""
    check_page_size(request, max_page_size, unlimited)
    ascending = not request.reverse
    key = f"({sort_expr}, {id_expr})"
    conditions = [f"({where})"]
    values = list(params)
    after_key = decode_cursor(request.after) if request.after else None
    before_key = decode_cursor(request.before) if request.before else None
    if after_key:
        conditions.append(f"{key} {'>' if ascending else '<'} (?, ?)")
        values += [after_key[1], after_key[0]]
    if before_key:
        conditions.append(f"{key} {'<' if ascending else '>'} (?, ?)")
        values += [before_key[1], before_key[0]]
    where_sql = " AND ".join(conditions)
    forward = request.last is None or unlimited
    direction = "ASC" if ascending == forward else "DESC"
    limit_sql = ""
    size = request.first if forward else request.last
    if not unlimited and size is not None:
        limit_sql = f" LIMIT {int(size) + 1}"
    sql = (
        f"SELECT *, {sort_expr} AS _sort_value, {id_expr} AS _row_id FROM {source} WHERE {where_sql}"
        f" ORDER BY {sort_expr} {direction}, {id_expr} {direction}{limit_sql}"
    )
    rows = conn.execute(sql, values).fetchall()
    more = not unlimited and size is not None and len(rows) > size
    if more:
        rows = rows[:size]
    if not forward:
        rows.reverse()
    has_next = more if forward else (before_key is not None and _exists(conn, source, where, params, key, before_key, ">=" if ascending else "<="))
    has_previous = (not forward and more) or (
        forward and after_key is not None and _exists(conn, source, where, params, key, after_key, "<=" if ascending else ">=")
    )
    # a bulk operation's lines carry no cursors: none is made for its (whole) connections
    cursors = [] if unlimited else [encode_cursor(row["_row_id"], row["_sort_value"]) for row in rows]
    return Page(rows, cursors, bool(has_next), bool(has_previous))


def _exists(conn, source, where, params, key, cursor_key, op) -> bool:
    sql = f"SELECT 1 FROM {source} WHERE ({where}) AND {key} {op} (?, ?) LIMIT 1"
    return conn.execute(sql, list(params) + [cursor_key[1], cursor_key[0]]).fetchone() is not None


def connection(page: Page, to_node) -> dict:
    """The GraphQL connection shape for a page, nodes mapped through ``to_node``."""
    nodes = [to_node(row) for row in page.rows]
    cursors: list[str | None] = [*page.cursors] if page.cursors else [None] * len(nodes)
    return {
        "edges": [{"cursor": c, "node": n} for c, n in zip(cursors, nodes)],
        "nodes": nodes,
        "pageInfo": {
            "hasNextPage": page.has_next_page,
            "hasPreviousPage": page.has_previous_page,
            "startCursor": page.cursors[0] if page.cursors else None,
            "endCursor": page.cursors[-1] if page.cursors else None,
        },
    }
