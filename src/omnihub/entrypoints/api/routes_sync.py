"""Sync engine status for operators: intents pending per channel, the dead-letter list
with a retry action, what the inbox could not take in (parked or retrying, each readable
with its stored body and sent through again on request), and shipments the channels could
not be told about (failed or parked) with a retry action."""

from __future__ import annotations

from typing import Annotated

from fastapi import APIRouter, Depends, Query, Request
from fastapi.responses import JSONResponse

from omnihub.domain.limits import CODE_LENGTH, MAX_ID, NO_NUL_PATTERN
from omnihub.domain.access import Permission
from omnihub.domain.personal_data import MASKED, masked_payload
from omnihub.entrypoints.api.access import CurrentPrincipal
from omnihub.entrypoints.api.deps import get_hub
from omnihub.entrypoints.api.answers import SIGNED, problems
from omnihub.entrypoints.api.answers_operations import (
    AllRequeued,
    DeadLetters,
    FulfilmentFailures,
    InboxFailures,
    InboxRequeued,
    InboxRowWithBody,
    Requeued,
    SyncStatus,
)
from omnihub.entrypoints.api.problems import problem
from omnihub.entrypoints.api.schemas import AfterId, IdPath
from omnihub.hub import Hub
from omnihub.services.audit_trail import note_change
from omnihub.services.fulfilment_sync import FulfilmentSync

router = APIRouter(prefix="/sync", tags=["sync"])


def _jsonable(row: dict) -> dict:
    return {k: (v.isoformat() if hasattr(v, "isoformat") else v) for k, v in row.items()}


@router.get("/status", response_model=SyncStatus, responses=problems(*SIGNED), summary="Intents pending and parked, per channel")
def status(hub: Hub = Depends(get_hub)) -> dict:
    return {"channels": hub.sync.pending()}


@router.get("/dead-letters", response_model=DeadLetters, responses=problems(*SIGNED, 422), summary="Intents parked after repeated failures")
def dead_letters(channel: str | None = Query(None, max_length=CODE_LENGTH, pattern=NO_NUL_PATTERN), limit: int = Query(100, ge=1, le=1000),
                 hub: Hub = Depends(get_hub)) -> dict:
    return {"dead_letters": [_jsonable(r) for r in hub.sync.dead_letters(channel, limit)]}


@router.post("/dead-letters/retry", response_model=AllRequeued, responses=problems(*SIGNED, 422),
             summary="Put every parked intent (of one channel, or of all) back in the queue")
def retry_all(channel: str | None = Query(None, min_length=1, max_length=CODE_LENGTH, pattern=NO_NUL_PATTERN),
              hub: Hub = Depends(get_hub)) -> dict:
    n = hub.sync.retry_dead_letters(channel)
    note_change(target=f"channel={channel}" if channel else "all", retried=n)
    return {"retried": n}


@router.post("/dead-letters/{intent_id}/retry", response_model=Requeued, responses=problems(*SIGNED, 404, 422), summary="Put a parked intent back in the queue")
def retry(intent_id: IdPath, request: Request, hub: Hub = Depends(get_hub)):
    if not hub.sync.retry_dead_letter(intent_id):
        return problem(404, "not found", f"no dead letter {intent_id}", instance=request.url.path, code="not_found")
    return JSONResponse({"id": intent_id, "state": "pending"})


@router.get("/fulfilments/failures", response_model=FulfilmentFailures, responses=problems(*SIGNED, 422), summary="Shipments not yet told to their channel: parked, or failed and retrying")
def fulfilment_failures(channel: str | None = Query(None, max_length=CODE_LENGTH, pattern=NO_NUL_PATTERN), hub: Hub = Depends(get_hub)) -> dict:
    rows = FulfilmentSync(hub.engine).failures()
    return {"failures": [_jsonable(r) for r in rows if channel is None or r["channel"] == channel]}


@router.post("/fulfilments/{fulfilment_id}/retry", response_model=Requeued, responses=problems(*SIGNED, 404, 422),
             summary="Tell the channel about a failed or parked shipment again, now")
def fulfilment_retry(fulfilment_id: IdPath, request: Request, hub: Hub = Depends(get_hub)):
    if not FulfilmentSync(hub.engine).retry(fulfilment_id):
        return problem(404, "not found", f"no failed or parked fulfilment {fulfilment_id}", instance=request.url.path,
                       code="not_found")
    return JSONResponse({"id": fulfilment_id, "state": "pending"})


@router.get("/inbox/failures", response_model=InboxFailures, responses=problems(*SIGNED, 422), summary="What did not go in: deliveries parked with their reason or retrying "
            "(next_attempt_at), orders refused for what they say (topic order/refused), polled orders that failed "
            "(topic order/polled); oldest first, paged by id (next_after_id)")
def inbox_failures(limit: int = Query(100, ge=1, le=1000), after_id: AfterId = 0,
                   after: Annotated[int | None, Query(ge=0, le=MAX_ID, description="the same as after_id")] = None,
                   hub: Hub = Depends(get_hub)) -> dict:
    rows = hub.inbox.failures(limit, after=after if after is not None else after_id)
    return {"failures": [_jsonable(r) for r in rows], "next_after_id": rows[-1]["id"] if len(rows) == limit else None}


@router.get("/inbox/failures/{row_id}", response_model=InboxRowWithBody, response_model_exclude_unset=True,
            responses=problems(*SIGNED, 404, 422), summary="One inbox row with its headers and stored body, as it came")
def inbox_failure(row_id: IdPath, request: Request, principal: CurrentPrincipal, hub: Hub = Depends(get_hub)):
    """The stored body is the channel's payload, buyer and all: `[masked]` for a reader
    without customers.read_personal (domain/personal_data.masked_payload); text that is
    not JSON cannot be masked by key, so such a reader is told it is withheld."""
    row = hub.inbox.failure(row_id)
    if row is None:
        return problem(404, "not found", f"no inbox row {row_id}", instance=request.url.path, code="not_found")
    if not principal.can(Permission.CUSTOMERS_READ_PERSONAL):
        body = row.get("body")
        row = {**row, "body": masked_payload(body) if isinstance(body, (dict, list)) else MASKED,
               "personal_data": "masked"}
    return _jsonable(row)


@router.post("/inbox/retry", response_model=AllRequeued, responses=problems(*SIGNED, 422),
             summary="Send every parked or retrying inbox row (of one source: shopify, amazon; or all) through again, now")
def inbox_retry_all(source: str | None = Query(None, min_length=1, max_length=CODE_LENGTH, pattern=NO_NUL_PATTERN),
                    hub: Hub = Depends(get_hub)) -> dict:
    n = hub.inbox.retry_all(source=source)
    note_change(target=f"source={source}" if source else "all", retried=n)
    return {"retried": n}


@router.post("/inbox/failures/{row_id}/retry", response_model=InboxRequeued, responses=problems(*SIGNED, 404, 422),
             summary="Send a parked or retrying inbox row through again, now "
             "(a refused order: the delivery that brought it, or fetched again from its channel)")
def inbox_retry(row_id: IdPath, request: Request, hub: Hub = Depends(get_hub)):
    queued = hub.inbox.retry(row_id)
    if queued is None:
        return problem(404, "not found", f"no parked or retrying inbox row {row_id}", instance=request.url.path,
                       code="not_found")
    return JSONResponse({"id": row_id, "queued": queued, "state": "pending"})
