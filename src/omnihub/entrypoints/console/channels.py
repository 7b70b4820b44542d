"""Channels: each channel's health (connected, answering or in an outage, when it last
confirmed a push, its last error), its rate-limit budget, how far behind its stock is,
when the hub last polled it, its reconciliation runs with their kept reports, and what
is parked for an operator (dead letters, inbox rows, shipments not told) with a Retry
button beside each (sync_retries.py).

Read through services/channel_status.py; the health table refreshes in place every
`EVERY_S` seconds (htmx polls the page with `part=health` and swaps the table). Whoever
may read the sync status sees the page; only a role that may act on it (sync.act) gets
the Retry buttons, and its posts are the only ones the routes' rules accept.
"""

from __future__ import annotations

from datetime import UTC, datetime

from fastapi import APIRouter, Request
from fastapi.responses import Response
from starlette.concurrency import run_in_threadpool

from omnihub.domain.access import Permission, Principal
from omnihub.domain.limits import MAX_ID
from omnihub.entrypoints.console.forms import whole_number
from omnihub.entrypoints.console.page_access import PagePrincipal
from omnihub.entrypoints.console.pages import render
from omnihub.services import channel_status
from omnihub.services.fulfilment_sync import FulfilmentSync

router = APIRouter(include_in_schema=False)
EVERY_S = 5
LISTED = 100  # parked items listed per kind (the count says how many in all)
DONE = {
    "dead-letter": "Sent again: the dead letter is back in the queue, and the worker pushes it next.",
    "dead-letters": "Sent again: every dead letter listed is back in the queue.",
    "inbox": "Sent again: the inbox row is back in the queue, and the worker processes it next.",
    "inbox-all": "Sent again: every inbox row listed is back in the queue.",
    "fulfilment": "Sent again: the channel is told about the shipment at the worker's next round.",
}
STATE_WORDS = {"answering": "answering", "failing": "failing (retrying with back-off)", "down": "down (an outage)",
               "not_called": "connected, nothing pushed yet", "not_reported": "no worker is reporting on it",
               "not_connected": "not connected"}


def _missing(request: Request, title: str, detail: str) -> Response:
    return render(request, "missing.html", {"title": title, "detail": detail, "back": "/console/channels"},
                  status_code=404)


def _common(principal: Principal) -> dict:
    return {"may_retry": principal.can(Permission.SYNC_ACT), "state_words": STATE_WORDS, "every_s": EVERY_S,
            "now": datetime.now(UTC), "stalled": channel_status.stalled}


@router.get("/console/channels")
async def channels_page(request: Request, principal: PagePrincipal, part: str = "", done: str = "") -> Response:
    hub = request.app.state.hub
    if part == "health":
        statuses = await run_in_threadpool(channel_status.channel_statuses, hub.read_engine)
        return render(request, "_channel_health.html", {"statuses": statuses, "health_url": request.url.path,
                                                        **_common(principal)})

    def read() -> dict:
        return {"statuses": channel_status.channel_statuses(hub.read_engine),
                "dead_letters": hub.sync.dead_letters(None, LISTED),
                "inbox": hub.inbox.failures(LISTED)}

    view = await run_in_threadpool(read)
    return render(request, "channels.html", {"title": "Channels", **view, "health_url": request.url.path,
                                             "done": DONE.get(done), "listed": LISTED, **_common(principal)})


@router.get("/console/channels/{code}")
async def channel_page(request: Request, code: str, principal: PagePrincipal, part: str = "",
                       done: str = "") -> Response:
    hub = request.app.state.hub
    status = await run_in_threadpool(channel_status.channel_status, hub.read_engine, code)
    if status is None:
        return _missing(request, "No such channel", f"There is no channel {code}.")
    if part == "health":
        return render(request, "_channel_health.html", {"statuses": [status], "health_url": request.url.path,
                                                        **_common(principal)})

    def read() -> dict:
        fulfilments = [r for r in FulfilmentSync(hub.read_engine).failures() if r["channel"] == code][:LISTED]
        return {"dead_letters": hub.sync.dead_letters(code, LISTED), "fulfilments": fulfilments,
                "inbox": hub.inbox.failures(LISTED, source=status.kind or code),
                "runs": channel_status.runs_of(hub.read_engine, code)}

    view = await run_in_threadpool(read)
    return render(request, "channel.html", {"title": status.name, "c": status, "statuses": [status], **view,
                                            "health_url": request.url.path, "done": DONE.get(done), "listed": LISTED,
                                            **_common(principal)})


@router.get("/console/channels/{code}/runs/{run_id}")
async def run_page(request: Request, code: str, run_id: str, principal: PagePrincipal) -> Response:
    rid = whole_number(run_id, low=1, high=MAX_ID)
    report = None if rid is None else await run_in_threadpool(channel_status.run_report, request.app.state.hub.read_engine,
                                                              code, rid)
    if report is None:
        return _missing(request, "No such run", f"There is no reconciliation run {run_id} of channel {code}.")
    return render(request, "reconciliation_run.html", {"title": f"Reconciliation run {rid}", "run": report, "code": code,
                                                       **_common(principal)})
