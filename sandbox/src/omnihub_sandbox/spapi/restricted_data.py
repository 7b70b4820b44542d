"""Restricted Data Tokens (Tokens API 2021-03-01): what Amazon withholds without one.

Personal data (a shopper's name, street and phone; a buyer's name) comes only through a
restricted operation called with a Restricted Data Token. The app asks for one with its
LWA access token (``POST /tokens/2021-03-01/restrictedDataToken``), naming the restricted
resources it will read: a method, a path (a specific one such as
``/orders/v0/orders/902-1845936-5435065``, or a generic one such as
``/orders/v0/orders/{orderId}``) and, where the API has them, the data elements it needs
(``buyerInfo``, ``shippingAddress``). The token lives an hour and opens exactly those
resources, nothing else: sent to any other path it is refused 403.

Each simulator names its restricted operations (:class:`RestrictedOperation`); an
operation that is restricted through and through (``getOrderAddress``, a vendor's
purchase orders) refuses an LWA token, one that merely withholds (``getOrder``) answers
without the personal data. The model of the Tokens API is not among the shared contracts:
its shapes here follow Amazon's published reference.
"""

from __future__ import annotations

import json
import secrets
from dataclasses import dataclass
from typing import Any

from fastapi import APIRouter, Request
from fastapi.responses import JSONResponse

from .account import SpApiAccount
from .errors import invalid_input

router = APIRouter()

RDT_PREFIX = "Atz.sprdt|"
RDT_LIFETIME = 3600
DATA_ELEMENTS_STATE_KEY = "amzn_data_elements"
TOKENS_USAGE_PLAN_NAME = "createRestrictedDataToken"


@dataclass(frozen=True)
class RestrictedOperation:
    """A restricted resource: `template` is its path with ``{name}`` segments; `elements`
    the data elements it may be asked for (empty: the API has none)."""

    method: str
    template: str
    elements: frozenset[str] = frozenset()

    def covers(self, method: str, path: str) -> bool:
        return method == self.method and _matches(self.template, path)


def _segments(path: str) -> list[str]:
    return [part for part in path.split("/") if part]


def _matches(pattern: str, path: str) -> bool:
    """Whether `path` is `pattern`, a ``{name}`` segment standing for any one segment."""
    want, got = _segments(pattern), _segments(path)
    return len(want) == len(got) and all(w == g or (w.startswith("{") and w.endswith("}")) for w, g in zip(want, got))


def _resource(account: SpApiAccount, n: int, given: Any) -> dict[str, Any]:
    where = f"restrictedResources[{n}]"
    if not isinstance(given, dict):
        raise invalid_input("Each restricted resource is an object.", where)
    method, path, elements = given.get("method"), given.get("path"), given.get("dataElements", [])
    if method not in ("GET", "PUT", "POST", "DELETE"):
        raise invalid_input("method must be GET, PUT, POST or DELETE.", f"{where}.method")
    if not isinstance(path, str) or not path.startswith("/"):
        raise invalid_input("path must be the path of a restricted operation.", f"{where}.path")
    operation = next((op for op in account.restricted_operations
                      if op.method == method and (_matches(op.template, path) or op.template == path)), None)
    if operation is None:
        raise invalid_input(f"{method} {path} is not a restricted operation.", f"{where}.path")
    if not isinstance(elements, list) or not all(isinstance(e, str) for e in elements):
        raise invalid_input("dataElements must list names.", f"{where}.dataElements")
    unknown = sorted(set(elements) - operation.elements)
    if unknown:
        raise invalid_input(f"dataElements {', '.join(unknown)} are not available for {method} {path}.",
                            f"{where}.dataElements")
    return {"method": method, "path": path, "dataElements": sorted(set(elements))}


@router.post("/tokens/2021-03-01/restrictedDataToken")
async def create_restricted_data_token(request: Request) -> JSONResponse:
    from .lwa import operation_guard  # the same guard as every operation: LWA token, then the usage plan

    account = operation_guard(request, TOKENS_USAGE_PLAN_NAME)
    try:
        body = json.loads(await request.body() or b"null")
    except ValueError:
        raise invalid_input("The request body is not valid JSON.") from None
    resources = body.get("restrictedResources") if isinstance(body, dict) else None
    if not isinstance(resources, list) or not resources:
        raise invalid_input("restrictedResources must list at least one resource.", "restrictedResources")
    granted = [_resource(account, n, given) for n, given in enumerate(resources)]
    token = RDT_PREFIX + secrets.token_urlsafe(48)
    with account.store.tx() as db:
        db.execute("DELETE FROM restricted_tokens WHERE expires_at < ?", (account.now() - 86400,))
        db.execute("INSERT INTO restricted_tokens (token, client_id, expires_at, resources) VALUES (?, ?, ?, ?)",
                   (token, account.lwa.lwa_client_id, account.now() + RDT_LIFETIME, json.dumps(granted)))
    account.store.bump("restricted_data_tokens")
    return JSONResponse({"restrictedDataToken": token, "expiresIn": RDT_LIFETIME})


def grant(account: SpApiAccount, row: Any, method: str, path: str) -> frozenset[str] | None:
    """The data elements a restricted data token gives for this request; None: it does not cover it."""
    for resource in json.loads(row["resources"]):
        if resource["method"] == method and _matches(resource["path"], path):
            return frozenset(resource["dataElements"])
    return None
