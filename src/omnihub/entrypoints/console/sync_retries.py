"""The channels page's Retry buttons: a dead letter, an inbox row, a shipment not told,
or every dead letter or inbox row at once, sent through again by the same services the
API's retries call (ChannelSync.retry_dead_letter / retry_dead_letters, InboxProcessor.retry
/ retry_all, FulfilmentSync.retry: POST /api/v1/sync/...), then a redirect back to the page
the button was on. Each is audited as the API's route is (`sync.retry`, ...), from the
console's door. An item gone meanwhile (retried by someone else, or gone in) answers 404
with a page that says so; nothing else changes.
"""

from __future__ import annotations

import re
from collections.abc import Callable

from fastapi import APIRouter, Request
from fastapi.responses import RedirectResponse, Response
from starlette.concurrency import run_in_threadpool

from omnihub.domain.limits import CODE_LENGTH, MAX_ID
from omnihub.entrypoints.console.forms import read_form, whole_number
from omnihub.entrypoints.console.page_access import PagePrincipal
from omnihub.entrypoints.console.pages import render
from omnihub.services.audit_trail import note_change
from omnihub.services.fulfilment_sync import FulfilmentSync

router = APIRouter(include_in_schema=False)
HOME = "/console/channels"
_BACK = re.compile(r"^/console/channels(/[A-Za-z0-9_.~-]{1,64})?$")
_CODE = re.compile(rf"^[A-Za-z0-9_.~-]{{1,{CODE_LENGTH}}}$")


def back_of(form: dict[str, str]) -> str:
    """The page to go back to: the channels page or one channel's, nothing else."""
    back = form.get("back", "")
    return back if _BACK.match(back) else HOME


def _gone(request: Request, what: str, back: str) -> Response:
    return render(request, "missing.html", {"title": "Nothing to retry", "back": back,
                                            "detail": f"There is no {what} to retry: it was sent again or went in meanwhile."},
                  status_code=404)


async def _retry_one(request: Request, raw_id: str, what: str, done: str, action: str, key: str,
                     retry: Callable[[int], object]) -> Response:
    form = await read_form(request)
    back = back_of(form)
    item = whole_number(raw_id, low=1, high=MAX_ID)
    result = None if item is None else await run_in_threadpool(retry, item)
    if not result:
        return _gone(request, f"{what} {raw_id}", back)
    note_change(action=action, target=f"{key}={item}", door="console")
    return RedirectResponse(f"{back}?done={done}", status_code=303)


@router.post("/console/sync/dead-letters/{intent_id}/retry")
async def retry_dead_letter(request: Request, intent_id: str, principal: PagePrincipal) -> Response:
    hub = request.app.state.hub
    return await _retry_one(request, intent_id, "dead letter", "dead-letter", "sync.retry", "intent_id",
                            hub.sync.retry_dead_letter)


@router.post("/console/sync/inbox/{row_id}/retry")
async def retry_inbox_row(request: Request, row_id: str, principal: PagePrincipal) -> Response:
    hub = request.app.state.hub
    return await _retry_one(request, row_id, "parked or retrying inbox row", "inbox", "sync.inbox_retry", "row_id",
                            hub.inbox.retry)


@router.post("/console/sync/fulfilments/{fulfilment_id}/retry")
async def retry_fulfilment(request: Request, fulfilment_id: str, principal: PagePrincipal) -> Response:
    sync = FulfilmentSync(request.app.state.hub.engine)
    return await _retry_one(request, fulfilment_id, "failed or parked shipment", "fulfilment", "sync.fulfilment_retry",
                            "fulfilment_id", sync.retry)


def _scope(form: dict[str, str], name: str) -> str | None:
    value = form.get(name, "")
    return value if _CODE.match(value) else None


@router.post("/console/sync/dead-letters/retry")
async def retry_all_dead_letters(request: Request, principal: PagePrincipal) -> Response:
    form = await read_form(request)
    channel = _scope(form, "channel")
    n = await run_in_threadpool(request.app.state.hub.sync.retry_dead_letters, channel)
    note_change(action="sync.retry_all", target=f"channel={channel}" if channel else "all", retried=n, door="console")
    return RedirectResponse(f"{back_of(form)}?done=dead-letters", status_code=303)


@router.post("/console/sync/inbox/retry")
async def retry_all_inbox_rows(request: Request, principal: PagePrincipal) -> Response:
    form = await read_form(request)
    source = _scope(form, "source")
    n = await run_in_threadpool(lambda: request.app.state.hub.inbox.retry_all(source=source))
    note_change(action="sync.inbox_retry_all", target=f"source={source}" if source else "all", retried=n, door="console")
    return RedirectResponse(f"{back_of(form)}?done=inbox-all", status_code=303)
