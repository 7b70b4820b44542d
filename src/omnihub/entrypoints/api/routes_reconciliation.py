"""Reconciliation runs for operators: start one for a channel (it runs in the background:
a large catalog takes minutes of the channel's rate limit), list the runs, read one with
its classified findings."""

from __future__ import annotations

import threading
from typing import Literal

from fastapi import APIRouter, Depends, Query, Request
from fastapi.responses import JSONResponse
from pydantic import BaseModel, ConfigDict, Field

from omnihub.domain.limits import CODE_LENGTH, NO_NUL_PATTERN
from omnihub.entrypoints.api.deps import get_hub
from omnihub.entrypoints.api.answers import SIGNED, SIGNED_BODY, problems
from omnihub.entrypoints.api.answers_operations import ReconciliationRuns, ReconciliationRunWithFindings, RunStarted
from omnihub.entrypoints.api.schemas import IdPath
from omnihub.entrypoints.api.problems import problem
from omnihub.entrypoints.reconciliation_wiring import connect
from omnihub.hub import Hub
from omnihub.services.reconciliation import Reconciliation, RunInProgress, UnknownChannel

router = APIRouter(prefix="/reconciliation", tags=["reconciliation"])


class StartRun(BaseModel):
    model_config = ConfigDict(extra="forbid")
    channel: str = Field(..., min_length=1, max_length=CODE_LENGTH, pattern=NO_NUL_PATTERN, description="a connected channel, e.g. shopify or amazon_seller")
    trigger: Literal["api"] = "api"


def _jsonable(row: dict) -> dict:
    out = {}
    for k, v in row.items():
        if isinstance(v, list):
            v = [_jsonable(x) for x in v]
        out[k] = v.isoformat() if hasattr(v, "isoformat") else v
    return out


def _in_background(job: Reconciliation, close, channel: str, run_id: int) -> None:
    def work():
        try:
            job.run(channel, run_id=run_id)
        finally:
            close()

    threading.Thread(target=work, name=f"reconcile-{channel}-{run_id}", daemon=True).start()


@router.post("/runs", status_code=202, response_model=RunStarted, responses=problems(*SIGNED_BODY, 404, 409), summary="Start a reconciliation run of one channel")
def start(body: StartRun, request: Request, hub: Hub = Depends(get_hub)):
    job, close = connect(hub, body.channel)
    try:
        run_id = job.open_run(body.channel, body.trigger)
    except UnknownChannel:
        close()
        return problem(404, "channel not connected", f"no credentials for channel {body.channel!r}",
                       type_="https://omnihub.dev/problems/channel_not_connected", instance=request.url.path,
                       errors=[{"field": "channel", "message": "not a connected channel"}], code="channel_not_connected")
    except RunInProgress as exc:
        close()
        return problem(409, "run in progress", str(exc), type_="https://omnihub.dev/problems/run_in_progress",
                       instance=request.url.path, code="run_in_progress")
    _in_background(job, close, body.channel, run_id)
    location = f"{request.url.path}/{run_id}"
    return JSONResponse({"id": run_id, "channel": body.channel, "state": "running", "href": location}, status_code=202,
                        headers={"Location": location})


@router.get("/runs", response_model=ReconciliationRuns, responses=problems(*SIGNED, 422), summary="Reconciliation runs, newest first, with their counts per finding class")
def runs(channel: str | None = Query(None, max_length=CODE_LENGTH, pattern=NO_NUL_PATTERN), limit: int = Query(50, ge=1, le=500),
         hub: Hub = Depends(get_hub)) -> dict:
    job = Reconciliation(hub.engine, hub.sync, hub.orders.ingest_many, hub.inventory.record_sale)
    return {"runs": [_jsonable(r) for r in job.runs(channel, limit)]}


@router.get("/runs/{run_id}", response_model=ReconciliationRunWithFindings, responses=problems(*SIGNED, 404, 422),
            summary="One run with its findings (class, SKU, location, figures, action)")
def run(run_id: IdPath, request: Request, hub: Hub = Depends(get_hub)):
    found = Reconciliation(hub.engine, hub.sync, hub.orders.ingest_many, hub.inventory.record_sale).get(run_id)
    if found is None:
        return problem(404, "not found", f"no reconciliation run {run_id}", instance=request.url.path, code="not_found")
    return _jsonable(found)
