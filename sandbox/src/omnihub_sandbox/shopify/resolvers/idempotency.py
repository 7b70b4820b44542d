"""The ``@idempotent(key:)`` directive, mandatory since 2026-04 on Shopify's inventory and
refund mutations (inventorySetQuantities, inventoryAdjustQuantities, inventoryMoveQuantities,
inventoryActivate, refundCreate here).

The first answer for a key is stored with a fingerprint of the call; the same key again with
the same input answers that first answer (nothing is applied twice, which is what makes a
retry after a lost answer safe); the same key with other input is refused. Left out, the call
fails with Shopify's own words: "The @idempotent directive is required for this mutation but
was not provided." (``BAD_REQUEST``).
"""

from __future__ import annotations

import json
from collections.abc import Callable

from graphql import GraphQLError, value_from_ast_untyped

from ..events import Event
from ..stock import dumps

MISMATCH_MESSAGE = "The same idempotency key cannot be used with different operation parameters."

# operation(conn) -> (the answer to store, as JSON, and the events it raised)
Operation = Callable[..., tuple[dict, list[Event]]]


def idempotency_key(info) -> str:
    """The key of ``@idempotent(key:)`` on this mutation field."""
    for directive in info.field_nodes[0].directives or ():
        if directive.name.value == "idempotent":
            for argument in directive.arguments:
                if argument.name.value == "key":
                    key = value_from_ast_untyped(argument.value, info.variable_values)
                    if isinstance(key, str) and 0 < len(key) <= 255:
                        return key
            raise GraphQLError("The @idempotent directive needs a non-empty key of at most 255 characters.",
                               extensions={"code": "BAD_REQUEST"})
    raise GraphQLError("The @idempotent directive is required for this mutation but was not provided.",
                       extensions={"code": "BAD_REQUEST"})


def run_once(info, data: dict, operation: Operation, mismatch: dict) -> dict:
    """Run ``operation`` at most once per idempotency key; answers the stored answer of the
    first call, or ``mismatch`` when the key comes back with other input."""
    ctx = info.context
    key = idempotency_key(info)
    fingerprint = dumps({"field": info.field_name, "input": data})
    with ctx.store.tx() as conn:
        seen = conn.execute("SELECT * FROM idempotency_keys WHERE key = ?", (key,)).fetchone()
        if seen is not None:
            return mismatch if seen["fingerprint"] != fingerprint else json.loads(seen["payload"])
        answer, events = operation(conn)
        conn.execute("INSERT INTO idempotency_keys(key, field, fingerprint, payload, created_at) VALUES (?,?,?,?,?)",
                     (key, info.field_name, fingerprint, json.dumps(answer), ctx.now_iso()))
    ctx.events.extend(events)
    return answer
