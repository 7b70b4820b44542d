"""Every route's access decision, in one table: which permission it needs, and where the
location (or the channel) it acts at comes from in the request.

A route of the app that is neither here nor in `PUBLIC` makes `create_app` fail (see
`undecided_routes`), and tests/api/test_access_matrix.py tries every route of the app as
every role: a new route cannot ship without a decision.

Location sources: `body:FIELD` and `path:NAME` read the request; `order` means the
locations the order (path `order_id`) is assigned to, one of which a location-bound
principal must hold; `list` means the route answers only what is at the principal's
locations (it narrows the list itself).
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass, field

from starlette.routing import BaseRoute

from omnihub.domain.access import Permission as P


@dataclass(frozen=True)
class Rule:
    permission: P | None  # None: any principal, whatever its role (who am I)
    location: str | None = None  # body:FIELD | path:NAME | order | list
    channel: str | None = None  # body:FIELD | path:NAME | query:NAME
    #: a permission per value of the path parameter `operation` (POST /stock/{operation})
    per_operation: dict[str, P] = field(default_factory=dict)

    def permission_for(self, path_params: dict) -> P | None:
        return self.per_operation.get(path_params.get("operation", ""), self.permission)


V1 = "/api/v1"

#: Routes anyone may call: health, the channels' webhooks (they carry their own HMAC
#: signatures), and the OpenAPI document with its docs page (they describe the API and
#: hold no data; a browser must be able to open them before signing in).
PUBLIC: frozenset[str] = frozenset({
    "GET /healthz", "HEAD /healthz",
    "POST /webhooks/shopify", "POST /webhooks/amazon",
    f"GET {V1}/openapi.json", f"HEAD {V1}/openapi.json", f"GET {V1}/docs", f"HEAD {V1}/docs",
    "GET /docs/oauth2-redirect", "GET /redoc",
    f"POST {V1}/session/login",  # signing in: the password is the credential (throttled)
    # the console's door: `/` sends a browser to it, its sign-in page, and its own
    # stylesheet and scripts (no data in them; the sign-in page needs them)
    "GET /", "GET /console/login", "POST /console/login", "GET /console/static/{name}",
})

_STOCK_AT = "body:location"

POLICY: dict[str, Rule] = {
    # catalog
    f"POST {V1}/locations": Rule(P.CATALOG_WRITE),
    f"GET {V1}/locations": Rule(P.CATALOG_READ),
    f"GET {V1}/locations/{{code}}": Rule(P.CATALOG_READ),
    f"PATCH {V1}/locations/{{code}}": Rule(P.CATALOG_WRITE),
    f"POST {V1}/products": Rule(P.CATALOG_WRITE),
    f"GET {V1}/products": Rule(P.CATALOG_READ),
    f"GET {V1}/products/{{product_id}}": Rule(P.CATALOG_READ),
    f"GET {V1}/variants/{{sku}}": Rule(P.CATALOG_READ),
    # channels and their stock policies
    f"PUT {V1}/channels/{{code}}": Rule(P.CHANNELS_WRITE, channel="path:code"),
    f"GET {V1}/channels": Rule(P.CHANNELS_READ),
    f"GET {V1}/channels/{{code}}": Rule(P.CHANNELS_READ),
    f"PUT {V1}/channels/{{code}}/listings": Rule(P.CHANNELS_WRITE, channel="path:code"),
    f"PUT {V1}/stock-policies": Rule(P.CHANNELS_WRITE, channel="body:channel"),
    f"GET {V1}/stock-policies": Rule(P.CHANNELS_READ),
    f"GET {V1}/channels/{{code}}/availability": Rule(P.STOCK_READ, channel="path:code"),
    # stock
    f"POST {V1}/movements": Rule(P.STOCK_MOVE, location=_STOCK_AT),
    f"POST {V1}/stock/receive": Rule(P.STOCK_RECEIVE, location=_STOCK_AT),
    f"POST {V1}/stock/transfers": Rule(P.STOCK_MOVE, location="body:from_location"),
    f"POST {V1}/stock/transfers/receive": Rule(P.STOCK_RECEIVE, location=_STOCK_AT),
    f"POST {V1}/stock/counts": Rule(P.STOCK_COUNT, location=_STOCK_AT),
    f"POST {V1}/stock/snapshots": Rule(P.STOCK_IMPORT),
    f"POST {V1}/stock/{{operation}}": Rule(P.STOCK_MOVE, location=_STOCK_AT, per_operation={"damage": P.STOCK_DAMAGE}),
    f"GET {V1}/positions/{{sku}}": Rule(P.STOCK_READ),
    f"GET {V1}/atp/{{sku}}": Rule(P.STOCK_READ),
    f"POST {V1}/atp/bulk": Rule(P.STOCK_READ),
    f"GET {V1}/atp/{{sku}}/explain": Rule(P.STOCK_READ),
    f"GET {V1}/ledger/{{sku}}": Rule(P.STOCK_READ),
    f"GET {V1}/oversells": Rule(P.STOCK_READ),
    f"GET {V1}/availability/stores": Rule(P.STOCK_READ),
    # orders
    f"POST {V1}/orders": Rule(P.ORDERS_INGEST, channel="body:channel"),
    f"GET {V1}/orders": Rule(P.ORDERS_READ, location="list"),
    f"GET {V1}/orders/{{order_id}}": Rule(P.ORDERS_READ, location="order"),
    f"POST {V1}/orders/{{order_id}}/cancel": Rule(P.ORDERS_ACT),
    f"POST {V1}/orders/{{order_id}}/hold": Rule(P.ORDERS_ACT),
    f"POST {V1}/orders/{{order_id}}/release": Rule(P.ORDERS_ACT),
    f"POST {V1}/orders/{{order_id}}/route": Rule(P.ORDERS_ACT),  # route again what has not left a shelf
    f"POST {V1}/orders/{{order_id}}/shipments": Rule(P.ORDERS_FULFIL, location=_STOCK_AT),
    f"POST {V1}/orders/{{order_id}}/pickup": Rule(P.ORDERS_FULFIL, location="order"),  # with the pickup code
    # a store's fulfilment (routes_store.py): at the store named
    f"GET {V1}/stores/{{location}}/pick-list": Rule(P.ORDERS_FULFIL, location="path:location"),
    f"POST {V1}/orders/{{order_id}}/picks": Rule(P.ORDERS_FULFIL, location=_STOCK_AT),
    f"GET {V1}/stores/{{location}}/pickups": Rule(P.ORDERS_FULFIL, location="path:location"),
    f"GET {V1}/orders/{{order_id}}/pickup": Rule(P.ORDERS_READ, location="order"),
    f"POST {V1}/orders/{{order_id}}/pickup/arrival": Rule(P.ORDERS_INGEST, channel="body:channel"),  # the channel's app
    f"POST {V1}/orders/{{order_id}}/deliveries": Rule(P.ORDERS_ACT),
    f"POST {V1}/orders/{{order_id}}/assignments/{{location}}/reject": Rule(P.ORDERS_ACT, location="path:location"),
    f"POST {V1}/orders/{{order_id}}/returns": Rule(P.ORDERS_ACT, location=_STOCK_AT),
    f"POST {V1}/brokering-queue/retry": Rule(P.ORDERS_ACT),
    f"GET {V1}/routing-rules": Rule(P.RULES_READ),
    f"PUT {V1}/routing-rules": Rule(P.RULES_WRITE),
    f"GET {V1}/routing-rules/history": Rule(P.RULES_READ),
    # customers' privacy requests (the exported file holds their personal data)
    f"POST {V1}/customers/redact": Rule(P.CUSTOMERS_PRIVACY),
    f"POST {V1}/customers/data-requests": Rule(P.CUSTOMERS_PRIVACY),
    f"GET {V1}/customers/data-requests": Rule(P.CUSTOMERS_PRIVACY),
    f"GET {V1}/customers/data-requests/{{request_id}}": Rule(P.CUSTOMERS_PRIVACY),
    f"GET {V1}/customers/data-requests/{{request_id}}/file": Rule(P.CUSTOMERS_PRIVACY),
    # channel sync and reconciliation
    f"GET {V1}/sync/status": Rule(P.SYNC_READ),
    f"GET {V1}/sync/dead-letters": Rule(P.SYNC_READ),
    f"POST {V1}/sync/dead-letters/{{intent_id}}/retry": Rule(P.SYNC_ACT),
    f"POST {V1}/sync/dead-letters/retry": Rule(P.SYNC_ACT),  # all of them (of one channel)
    f"GET {V1}/sync/fulfilments/failures": Rule(P.SYNC_READ),
    f"POST {V1}/sync/fulfilments/{{fulfilment_id}}/retry": Rule(P.SYNC_ACT),
    f"GET {V1}/sync/inbox/failures": Rule(P.SYNC_READ),
    f"GET {V1}/sync/inbox/failures/{{row_id}}": Rule(P.SYNC_READ),
    f"POST {V1}/sync/inbox/failures/{{row_id}}/retry": Rule(P.SYNC_ACT),
    f"POST {V1}/sync/inbox/retry": Rule(P.SYNC_ACT),  # all of them (of one source)
    f"POST {V1}/reconciliation/runs": Rule(P.SYNC_ACT, channel="body:channel"),
    f"GET {V1}/reconciliation/runs": Rule(P.SYNC_READ),
    f"GET {V1}/reconciliation/runs/{{run_id}}": Rule(P.SYNC_READ),
    # people and tokens
    f"GET {V1}/tokens": Rule(P.USERS_ADMIN),
    f"POST {V1}/tokens": Rule(P.USERS_ADMIN),
    f"DELETE {V1}/tokens/{{token_id}}": Rule(P.USERS_ADMIN),
    f"GET {V1}/users": Rule(P.USERS_ADMIN),
    f"GET {V1}/whoami": Rule(None),
    # one's own session: any principal (a password change needs a session, routes_session.py)
    f"GET {V1}/session": Rule(None),
    f"POST {V1}/session/logout": Rule(None),
    f"POST {V1}/session/password": Rule(None),
    # the audit trail
    f"GET {V1}/audit": Rule(P.AUDIT_READ),
    # operations
    "GET /metrics": Rule(P.METRICS_READ),
    # -- the console (entrypoints/console/): the same decisions for its pages and their
    # forms; a page refused answers 403 HTML, one without a session 303 to the sign-in
    "POST /console/logout": Rule(None),
    "GET /console/": Rule(P.SYNC_READ),  # the overview
    "GET /console/overview/live": Rule(P.SYNC_READ),  # its figures, as server-sent events
    "GET /console/inventory": Rule(P.STOCK_READ),  # find a SKU
    "GET /console/inventory/{sku}": Rule(P.STOCK_READ),  # its stock, ATP and why, its ledger
    "GET /console/orders": Rule(P.ORDERS_READ, location="list"),  # the pipeline by state, filtered
    "GET /console/orders/{order_id}": Rule(P.ORDERS_READ, location="order"),  # with its routing explanation
    "POST /console/orders/{order_id}/cancel": Rule(P.ORDERS_ACT),
    "POST /console/orders/{order_id}/hold": Rule(P.ORDERS_ACT),
    "POST /console/orders/{order_id}/release": Rule(P.ORDERS_ACT),
    "POST /console/orders/{order_id}/route": Rule(P.ORDERS_ACT),  # route again, as POST /orders/{order_id}/route
    # the store screens: at the store in the path (a store associate's own only)
    "GET /console/store": Rule(P.STOCK_RECEIVE, location="list"),  # the picker of one's stores
    "GET /console/store/{location}/receive": Rule(P.STOCK_RECEIVE, location="path:location"),
    "POST /console/store/{location}/receive": Rule(P.STOCK_RECEIVE, location="path:location"),
    "GET /console/store/{location}/count": Rule(P.STOCK_COUNT, location="path:location"),  # and the variance
    "POST /console/store/{location}/count": Rule(P.STOCK_COUNT, location="path:location"),  # confirmed
    "GET /console/store/{location}/damage": Rule(P.STOCK_DAMAGE, location="path:location"),
    "POST /console/store/{location}/damage": Rule(P.STOCK_DAMAGE, location="path:location"),
    "GET /console/store/{location}/picks": Rule(P.ORDERS_FULFIL, location="path:location"),  # the pick list
    "POST /console/store/{location}/picks/{order_id}": Rule(P.ORDERS_FULFIL, location="path:location"),  # found
    "POST /console/store/{location}/shipments/{order_id}": Rule(P.ORDERS_FULFIL, location="path:location"),
    "GET /console/store/{location}/pickups": Rule(P.ORDERS_FULFIL, location="path:location"),  # ready for pickup
    "GET /console/store/{location}/pickups/{order_id}": Rule(P.ORDERS_FULFIL, location="path:location"),
    "POST /console/store/{location}/pickups/{order_id}": Rule(P.ORDERS_FULFIL, location="path:location"),  # code
    # Store Mode: what a store can promise for pickup, as the shop shows every shopper (console/store_mode.py)
    "GET /console/store-mode": Rule(P.CATALOG_READ),
    # safety stock, thresholds and channel allocations: as PUT /stock-policies and /channels/{code}
    "GET /console/rules": Rule(P.CHANNELS_READ),
    "POST /console/rules/stock-policies": Rule(P.CHANNELS_WRITE),
    "POST /console/rules/channels/{code}": Rule(P.CHANNELS_WRITE, channel="path:code"),
    # channels: health, budgets, sync, reconciliation reports, what is parked; retries as the API's
    "GET /console/channels": Rule(P.SYNC_READ),  # every channel (part=health: its live table)
    "GET /console/channels/{code}": Rule(P.SYNC_READ),  # one channel, its polls, runs and parked items
    "GET /console/channels/{code}/runs/{run_id}": Rule(P.SYNC_READ),  # a reconciliation run's kept report
    "POST /console/sync/dead-letters/{intent_id}/retry": Rule(P.SYNC_ACT),
    "POST /console/sync/dead-letters/retry": Rule(P.SYNC_ACT),
    "POST /console/sync/inbox/{row_id}/retry": Rule(P.SYNC_ACT),
    "POST /console/sync/inbox/retry": Rule(P.SYNC_ACT),
    "POST /console/sync/fulfilments/{fulfilment_id}/retry": Rule(P.SYNC_ACT),
    # admin: the audit trail, people and tokens
    "GET /console/audit": Rule(P.AUDIT_READ),
    "GET /console/users": Rule(P.USERS_ADMIN),
    "POST /console/users": Rule(P.USERS_ADMIN),
    "POST /console/users/{user_id}/role": Rule(P.USERS_ADMIN),
    "POST /console/users/{user_id}/disable": Rule(P.USERS_ADMIN),
    "POST /console/users/{user_id}/enable": Rule(P.USERS_ADMIN),
    "POST /console/tokens/{token_id}/revoke": Rule(P.USERS_ADMIN),
    "POST /console/rules/routing": Rule(P.RULES_WRITE),  # as PUT /routing-rules
    # an edit's effect before it is saved: reads only (a post for the rule set's length)
    "POST /console/rules/preview": Rule(P.CHANNELS_READ),
}


def effective_routes(routes: Sequence[BaseRoute]) -> list[tuple[str, str, object]]:
    """(method, full path, endpoint) of every route, those of included routers too
    (FastAPI keeps an included router as one entry whose routes carry its prefix)."""
    try:
        from fastapi.routing import _iter_routes_with_context
    except ImportError:  # a FastAPI that flattens included routers itself
        pairs: list[tuple[BaseRoute, object]] = [(r, None) for r in routes]
    else:
        pairs = list(_iter_routes_with_context(routes))
    out: list[tuple[str, str, object]] = []
    for route, ctx in pairs:
        path = str(getattr(ctx, "path_format", None) or getattr(route, "path", ""))
        for method in sorted(getattr(route, "methods", None) or ()):
            out.append((method, path, getattr(route, "endpoint", None)))
    return out


def undecided_routes(routes) -> list[str]:
    """The `METHOD path` of every route with neither a rule nor a place in PUBLIC."""
    return [f"{m} {p}" for m, p, _ in effective_routes(routes)
            if m != "HEAD" and f"{m} {p}" not in POLICY and f"{m} {p}" not in PUBLIC]


def rules_by_endpoint(routes) -> dict[tuple[object, str], Rule]:
    """The rule of each (endpoint, method), as a request finds its route (scope["endpoint"])."""
    out: dict[tuple[object, str], Rule] = {}
    for method, path, endpoint in effective_routes(routes):
        rule = POLICY.get(f"{method} {path}") or (POLICY.get(f"GET {path}") if method == "HEAD" else None)
        if rule is not None:
            if (endpoint, method) in out and out[(endpoint, method)] != rule:
                raise RuntimeError(f"{endpoint} serves two routes with different access rules")
            out[(endpoint, method)] = rule
    return out
