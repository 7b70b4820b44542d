"""``nextToken``: the whole query and a keyset cursor, so paging is complete and stable.

A token names the operation it came from and carries the query's filters and the sort
key of the last row returned; the next page is the rows after it in the same order. New
orders arriving while a client pages land where the order puts them, never twice and
never skipped. A token from another operation, or not from this API, is a 400.
"""

from __future__ import annotations

import base64
import json
from typing import Any

from ..spapi.errors import invalid_request


def encode(operation: str, query: dict[str, Any], cursor: list[Any]) -> str:
    text = json.dumps({"op": operation, "q": query, "k": cursor}, separators=(",", ":"))
    return base64.urlsafe_b64encode(text.encode()).decode()


def decode(operation: str, token: str) -> tuple[dict[str, Any], list[Any]]:
    try:
        state = json.loads(base64.urlsafe_b64decode(token.encode() + b"=" * (-len(token) % 4)))
        if not isinstance(state, dict) or state.get("op") != operation:
            raise ValueError(token)
        return dict(state["q"]), list(state["k"])
    except (ValueError, KeyError, TypeError):
        raise invalid_request("The request is invalid.", "nextToken is malformed or was not issued for this operation.") from None


def keyset_sql(column: str, id_column: str, descending: bool) -> tuple[str, str]:
    """The WHERE fragment after a cursor and the ORDER BY for one sort direction."""
    if descending:
        return f"({column}, {id_column}) < (?, ?)", f"{column} DESC, {id_column} DESC"
    return f"({column}, {id_column}) > (?, ?)", f"{column}, {id_column}"


def documents_page(db: Any, request: Any, operation: str, *, table: str, time_column: str, id_column: str,
                   warehouse_column: str, extra_where: str = "", now: float) -> tuple[list[Any], str | None]:
    """One page of a direct-fulfilment document list (labels, packing slips): the
    ``createdAfter``/``createdBefore`` window (required, at most 7 days), ``shipFromPartyId``,
    ``limit`` (1-100, default 50), ``sortOrder`` (default ASC) and ``nextToken``."""
    from . import query  # the window and limits are read the same way everywhere

    window = query.window(request, "createdAfter", "createdBefore", required=True, max_days=7)
    assert window is not None
    token = request.query_params.get("nextToken")
    if token:
        wanted, cursor = decode(operation, token)
    else:
        wanted = {"a": window[0], "b": window[1], "w": query.party_id(request, "shipFromPartyId"),
                  "n": query.limit(request, 50), "d": query.choice(request, "sortOrder", ("ASC", "DESC"), "ASC") == "DESC"}
        cursor = []
    after_cursor, order_by = keyset_sql(time_column, id_column, wanted["d"])
    where = [f"{time_column} >= ?", f"{time_column} < ?", f"{time_column} <= ?"] + ([extra_where] if extra_where else [])
    args: list[Any] = [wanted["a"], wanted["b"], now]
    if wanted["w"]:
        where.append(f"{warehouse_column} = ?")
        args.append(wanted["w"])
    if cursor:
        where.append(after_cursor)
        args.extend(cursor)
    rows = db.execute(f"SELECT * FROM {table} WHERE {' AND '.join(where)} ORDER BY {order_by} LIMIT ?",  # noqa: S608
                      (*args, wanted["n"] + 1)).fetchall()
    page = rows[: wanted["n"]]
    next_token = encode(operation, wanted, [page[-1][time_column], page[-1][id_column]]) if len(rows) > wanted["n"] else None
    return page, next_token
