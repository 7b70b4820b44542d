"""The audit trail (admin): who changed what, when, and from which door (the API, the
console, the CLI), newest first, a page at a time, filtered by who, by action (one, or a
family: `stock`) and by days, as GET /api/v1/audit reads it (services/audit_trail.py).

Days are the retailer's (settings.timezone): "from 3 December" starts at midnight there.
A filter that is not one (a date that is no date, a range that ends before it starts)
is shown beside its field, and the page lists nothing rather than the wrong thing.
"""

from __future__ import annotations

from datetime import date, datetime, time, timedelta
from urllib.parse import urlencode
from zoneinfo import ZoneInfo

from fastapi import APIRouter, Request
from fastapi.responses import Response
from starlette.concurrency import run_in_threadpool

from omnihub.entrypoints.console.page_access import PagePrincipal
from omnihub.entrypoints.console.pages import render
from omnihub.services.audit_trail import CLI_ADDRESS, AuditFilter

router = APIRouter(include_in_schema=False)
PAGE = 50
FIELD = 200
#: who to filter by, besides each person: every API token, the CLI's local admin
KINDS = (("token", "any API token"), ("local_admin", "the command line (local admin)"))


def door_of(event: dict) -> str:
    """Which door the change came through: the CLI, the console's pages, or the API."""
    if event["address"] == CLI_ADDRESS or event["actor"]["kind"] == "local_admin":
        return "CLI"
    path = str((event.get("details") or {}).get("path") or "")
    return "console" if path.startswith("/console/") else "API"


def _day(text: str, label: str, errors: dict[str, str], name: str) -> date | None:
    if not text:
        return None
    try:
        return date.fromisoformat(text)
    except ValueError:
        errors[name] = f"{label}: a date such as 2026-12-03."
        return None


@router.get("/console/audit")
async def audit_page(request: Request, principal: PagePrincipal, actor: str = "", action: str = "", since: str = "",
                     until: str = "", cursor: str = "") -> Response:
    hub = request.app.state.hub
    zone = ZoneInfo(hub.settings.timezone)
    actor, action = actor.strip()[:FIELD], action.strip()[:FIELD]
    errors: dict[str, str] = {}
    first, last = _day(since.strip(), "From", errors, "since"), _day(until.strip(), "To", errors, "until")
    if first and last and last < first:
        errors["until"] = "To: the same day as From, or later."
    for name, value, label in (("actor", actor, "Who"), ("action", action, "Action")):
        if "\x00" in value:
            errors[name] = f"{label}: text without control characters."
    after = int(cursor) if cursor.isdigit() and 0 < len(cursor) <= 18 else None
    f = AuditFilter(actor=actor or None, action=action or None,
                    since=datetime.combine(first, time(), zone) if first else None,
                    until=datetime.combine(last + timedelta(days=1), time(), zone) if last else None)

    def read() -> tuple[list[dict], int | None, list[dict]]:
        items, next_cursor = ([], None) if errors else hub.audit.page(f, after_id=after, limit=PAGE)
        return items, next_cursor, hub.users.list()

    items, next_cursor, users = await run_in_threadpool(read)
    for e in items:
        e["door"] = door_of(e)
    query = {k: v for k, v in (("actor", actor), ("action", action), ("since", since), ("until", until)) if v}
    return render(request, "audit.html", {
        "title": "Audit", "items": items, "errors": errors, "users": users, "kinds": KINDS, "zone": hub.settings.timezone,
        "form": {"actor": actor, "action": action, "since": since.strip(), "until": until.strip()},
        "first_page": after is None,
        "first_url": "/console/audit" + (f"?{urlencode(query)}" if query else ""),
        "next_url": f"/console/audit?{urlencode({**query, 'cursor': next_cursor})}" if next_cursor else None,
    }, status_code=422 if errors else 200)
