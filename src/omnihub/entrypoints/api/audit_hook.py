"""Every change made through the API goes into the audit trail, whatever the route.

An ASGI middleware inside the app: for each unsafe request (POST, PUT, PATCH, DELETE)
it opens a change in progress (services/audit_trail.py), lets the route run, and when
the answer is a success (2xx, 3xx) records, before the answer leaves: who (the principal
the route acted as, `request.state.principal`, set by the access resolver), from where
(the client's address as uvicorn gives it: a trusted proxy's X-Forwarded-For applied
under `serve --behind-proxy`, never a header's word otherwise),
what (`<area>.<route name>`, e.g. `stock.receive`, and a target: the path's parameters
and the identifying fields of a JSON body: SKU, location, channel, external id, code),
and whatever the route or the services noted (a setting's before and after). A new
route is audited the day it is added.

Not recorded: refused and failed requests (nothing changed), posts that say they change
nothing (`note_nothing_changed`: a rule's preview), and requests that acted as
no principal: the channels' webhooks, verified by their own signatures and kept, every
one, in the inbox. Bodies are never recorded whole: an order's body holds a customer's
address; only the fields named in `TARGET_FIELDS` and `DETAIL_FIELDS` are kept.
"""

from __future__ import annotations

from urllib.parse import parse_qsl

import orjson

from omnihub.entrypoints.api.request_guards import SAFE_METHODS, media_type
from omnihub.services.audit_trail import Actor, AuditEvent, change_in_progress, without_secrets

#: identifying fields of a JSON body, in the order the target names them
TARGET_FIELDS = ("sku", "location", "from_location", "to_location", "channel", "external_id", "code")
#: other fields of a JSON body worth keeping beside them (quantities, states)
DETAIL_FIELDS = ("quantity", "counted", "damaged", "to_state", "state", "role", "source")
BODY_LIMIT = 64 * 1024  # larger bodies (snapshots, big orders) are not read for fields


def action_of(scope) -> str:
    """`routes_stock.receive` → `stock.receive`; a route of another module keeps its
    module's last part."""
    route = scope.get("route")
    endpoint = getattr(route, "endpoint", None) or scope.get("endpoint")
    module = (getattr(endpoint, "__module__", "") or "").rsplit(".", 1)[-1].removeprefix("routes_")
    name = str(getattr(route, "name", None) or getattr(endpoint, "__name__", "request"))
    return f"{module}.{name}" if module else name


def _body_fields(body: bytes) -> dict:
    try:
        doc = orjson.loads(body)
    except orjson.JSONDecodeError:
        return {}
    if not isinstance(doc, dict):
        return {}
    return {k: (v[:200] if isinstance(v, str) else v) for k in (*TARGET_FIELDS, *DETAIL_FIELDS)
            if isinstance(v := doc.get(k), (str, int, float, bool)) and v is not None}


def target_of(path_params: dict, fields: dict) -> str:
    parts = [f"{k}={v}" for k, v in path_params.items()]
    parts += [f"{k}={fields[k]}" for k in TARGET_FIELDS if k in fields and k not in path_params]
    return " ".join(parts)


class AuditUnsafeRequests:
    def __init__(self, app) -> None:
        self.app = app

    async def __call__(self, scope, receive, send):
        if scope["type"] != "http" or scope.get("method", "GET").upper() in SAFE_METHODS:
            return await self.app(scope, receive, send)
        content_type = next((v.decode("latin-1") for k, v in scope.get("headers", []) if k == b"content-type"), None)
        sent = media_type(content_type)
        keep_body = sent is not None and (sent == "application/json" or sent.endswith("+json"))
        body = bytearray()

        async def tee():
            message = await receive()
            if keep_body and message["type"] == "http.request" and len(body) <= BODY_LIMIT:
                body.extend(message.get("body", b""))
            return message

        with change_in_progress() as change:
            async def send_recording(message):
                if message["type"] == "http.response.start" and 200 <= message["status"] < 400 \
                        and not change.nothing_changed:
                    self._record(scope, message["status"], change, bytes(body) if len(body) <= BODY_LIMIT else b"")
                await send(message)

            await self.app(scope, tee, send_recording)

    @staticmethod
    def _record(scope, status: int, change, body: bytes) -> None:
        principal = (scope.get("state") or {}).get("principal")
        hub = getattr(getattr(scope.get("app"), "state", None), "hub", None)
        if principal is None or hub is None or getattr(hub, "audit", None) is None:
            return
        fields = _body_fields(body) if body else {}
        path_params = {k: str(v) for k, v in (scope.get("path_params") or {}).items()}
        details = {"method": scope.get("method"), "path": scope.get("path"), "status": status}
        if extra := {k: v for k, v in fields.items() if k in DETAIL_FIELDS}:
            details["fields"] = extra
        if query := scope.get("query_string"):
            details["query"] = without_secrets(dict(parse_qsl(query.decode("latin-1"))))
        details.update(change.details)
        client = scope.get("client")
        hub.audit.record(AuditEvent(
            actor=Actor.of(principal), address=(client[0] if client else "") or "unknown",
            action=change.action or action_of(scope), target=change.target or target_of(path_params, fields),
            before=change.before, after=change.after, details=details))
