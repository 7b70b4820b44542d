"""Stock: movements (idempotent), use-case operations, positions, ATP, explanations,
ledger history, ERP snapshot import, oversell incidents."""

from __future__ import annotations

from typing import Annotated

from fastapi import APIRouter, Depends, Header, Query, Request, Response

from omnihub.adapters.db.stock_store import StockResult
from omnihub.domain.ledger import LedgerError, Movement, StockState
from omnihub.domain.access import Principal
from omnihub.entrypoints.api.access import CurrentPrincipal
from omnihub.entrypoints.api.deps import get_hub
from omnihub.entrypoints.api.answers import SIGNED, SIGNED_BODY, problems
from omnihub.entrypoints.api.answers_stock import (
    AtpExplanationOut,
    AtpOut,
    ChannelQuantityOut,
    LedgerPage,
    OversellOut,
    PositionsOut,
    SnapshotReportOut,
    StockWritten,
)
from omnihub.entrypoints.api.problems import problem
from omnihub.entrypoints.api.schemas import (
    AfterId,
    BulkAtpIn,
    CatalogAfterId,
    CodePath,
    CodeQuery,
    CountIn,
    MovementIn,
    ReceiveIn,
    SkuPath,
    SkuQuery,
    StockOp,
    TransferIn,
    TransferReceiveIn,
)
from omnihub.hub import Hub
from omnihub.services.erp_snapshot import import_snapshot
from omnihub.services.inventory import Context

router = APIRouter(tags=["stock"])
HubDep = Annotated[Hub, Depends(get_hub)]
IdemKey = Annotated[str | None, Header(alias="Idempotency-Key", max_length=200)]


def _answer(result: StockResult, response: Response) -> dict:
    if result.replayed:
        response.headers["Idempotent-Replayed"] = "true"
    return result.as_dict()


def actor_of(principal: Principal, on_behalf_of: str | None = None) -> str:
    """The ledger's actor: the authenticated principal, and whom it says it acts for (a
    POS token naming the cashier); a client cannot write someone else's name alone."""
    if not on_behalf_of or on_behalf_of == principal.actor:
        return principal.actor
    return f"{principal.actor} for {on_behalf_of}"[:200]


def _ctx(body, key: str | None, principal: Principal) -> Context:
    return Context(actor=actor_of(principal, getattr(body, "actor", None)), channel=getattr(body, "channel", None),
                   reference=getattr(body, "reference", None), idempotency_key=key)


@router.post("/movements", status_code=201, response_model=StockWritten, responses=problems(*SIGNED_BODY, 404, 409))
def post_movement(body: MovementIn, hub: HubDep, response: Response, principal: CurrentPrincipal,
                  idempotency_key: IdemKey = None) -> dict:
    """Record one movement. The same `Idempotency-Key` twice records it once and answers
    the same result. With `expected_version`, a position that moved on answers 409."""
    m = Movement(body.sku, body.location, body.quantity, body.from_state, body.to_state, body.reason,
                 body.reference, body.channel, actor_of(principal, body.actor), idempotency_key)
    return _answer(hub.inventory.record(m, expected_version=body.expected_version), response)


@router.post("/stock/receive", status_code=201, response_model=StockWritten, responses=problems(*SIGNED_BODY, 404, 409))
def receive(body: ReceiveIn, hub: HubDep, response: Response, principal: CurrentPrincipal,
            idempotency_key: IdemKey = None) -> dict:
    r = hub.inventory.receive(body.sku, body.location, body.quantity, source=body.source,
                              to_state=StockState(body.to_state), ctx=_ctx(body, idempotency_key, principal))
    return _answer(r, response)


@router.post("/stock/transfers", status_code=201, response_model=StockWritten, responses=problems(*SIGNED_BODY, 404, 409))
def ship_transfer(body: TransferIn, hub: HubDep, response: Response, principal: CurrentPrincipal,
                  idempotency_key: IdemKey = None) -> dict:
    r = hub.inventory.ship_transfer(body.sku, body.from_location, body.to_location, body.quantity,
                                    ctx=_ctx(body, idempotency_key, principal))
    return _answer(r, response)


@router.post("/stock/transfers/receive", status_code=201, response_model=StockWritten, responses=problems(*SIGNED_BODY, 404, 409))
def receive_transfer(body: TransferReceiveIn, hub: HubDep, response: Response, principal: CurrentPrincipal,
                     idempotency_key: IdemKey = None) -> dict:
    r = hub.inventory.receive_transfer(body.sku, body.location, body.quantity, damaged=body.damaged,
                                       ctx=_ctx(body, idempotency_key, principal))
    return _answer(r, response)


@router.post("/stock/counts", status_code=201, response_model=StockWritten, responses=problems(*SIGNED_BODY, 404, 409))
def count(body: CountIn, hub: HubDep, response: Response, principal: CurrentPrincipal,
          idempotency_key: IdemKey = None) -> dict:
    r = hub.inventory.count(body.sku, body.location, body.counted, damaged=body.damaged,
                            ctx=_ctx(body, idempotency_key, principal))
    return _answer(r, response)


@router.post("/stock/snapshots", status_code=200, response_model=SnapshotReportOut,
             responses=problems(*SIGNED_BODY, why={422: "rows not applied (each with its line, column and field; the report "
                                               "as `report`), or text that is not UTF-8/UTF-16"}), openapi_extra={
    "requestBody": {"required": True, "content": {"text/csv": {"schema": {"type": "string"}}}}})
async def erp_snapshot(request: Request, hub: HubDep, principal: CurrentPrincipal) -> Response:
    """Import an ERP snapshot (CSV: sku,location,on_hand[,damaged]; UTF-8 with or without
    BOM, or UTF-16 with BOM). Bad rows are listed in line order with their `line` and
    `column` (1-based; the header is line 1) and the column's name as `field`; good rows
    apply. 200 if all applied, 207-like 422 if some failed. The body must be declared
    `Content-Type: text/csv` (415 otherwise): a browser posts text/plain cross-site."""
    from starlette.concurrency import run_in_threadpool

    from omnihub.entrypoints.api.request_guards import unsupported_media_type
    from omnihub.entrypoints.csv_text import CsvEncodingError, decode_csv

    if (refused := unsupported_media_type(request, "text/csv")) is not None:
        return refused
    raw = await request.body()
    try:
        text = decode_csv(raw, name="the snapshot")
    except CsvEncodingError as exc:
        return problem(422, "unreadable text", str(exc), code="invalid_encoding", instance=request.url.path,
                       errors=[{"field": "", "message": str(exc), **({"offset": exc.offset} if exc.offset is not None else {})}])

    report = await run_in_threadpool(import_snapshot, hub.writer, text, actor=actor_of(principal, request.headers.get("X-Actor")))
    body = report.as_dict()
    if report.errors:
        return problem(422, "some rows were not applied", f"{len(report.errors)} row(s) failed; {report.applied} applied",
                       code="snapshot_rows_failed", errors=[e.as_dict() for e in report.errors], report=body,
                       instance=request.url.path)
    from fastapi.responses import JSONResponse

    return JSONResponse(body)


_OPS = {
    "damage": "mark_damaged",
    "quality-control": "hold_for_quality_control",
    "reserve": "reserve",
    "release": "release",
    "consume": "consume",
    "sale": "record_sale",
}


@router.post("/stock/{operation}", status_code=201, response_model=StockWritten, responses=problems(*SIGNED_BODY, 404, 409))
def stock_operation(operation: str, body: StockOp, hub: HubDep, response: Response, principal: CurrentPrincipal,
                    idempotency_key: IdemKey = None) -> dict:
    """damage, quality-control, reserve, release, consume (ship reserved units), sale (POS)."""
    name = _OPS.get(operation)
    if name is None:
        raise LedgerError(f"unknown operation {operation!r}; one of {', '.join(_OPS)}", field="operation", code="not_found")
    r = getattr(hub.inventory, name)(body.sku, body.location, body.quantity, ctx=_ctx(body, idempotency_key, principal))
    return _answer(r, response)


@router.get("/positions/{sku}", response_model=PositionsOut, responses=problems(*SIGNED, 404, 422))
def positions(sku: SkuPath, hub: HubDep) -> dict:
    return {"sku": sku, "locations": {loc: p.as_dict() for loc, p in hub.queries.positions(sku).items()}}


@router.get("/atp/{sku}", response_model=AtpOut, responses=problems(*SIGNED, 404, 422))
def atp(sku: SkuPath, hub: HubDep, channel: CodeQuery = None) -> dict:
    return hub.queries.atp([sku], channel)[0]


@router.post("/atp/bulk", response_model=list[AtpOut], responses=problems(*SIGNED_BODY, 404))
def atp_bulk(body: BulkAtpIn, hub: HubDep, channel: CodeQuery = None) -> list[dict]:
    return hub.queries.atp(list(dict.fromkeys(body.skus)), channel)


@router.get("/atp/{sku}/explain", response_model=AtpExplanationOut, responses=problems(*SIGNED, 404, 422))
def explain(sku: SkuPath, hub: HubDep, channel: CodeQuery = None) -> dict:
    """Why ATP is N: every term per location, then the queue, allocation and buffer."""
    return hub.queries.explain(sku, channel)


@router.get("/channels/{code}/availability", response_model=list[ChannelQuantityOut], responses=problems(*SIGNED, 404, 422))
def channel_availability(code: CodePath, hub: HubDep, sku: SkuQuery) -> list[dict]:
    hub.catalog.get_channel(code)
    return hub.queries.channel_availability(code, sku)


@router.get("/ledger/{sku}", response_model=LedgerPage, responses=problems(*SIGNED, 404, 422))
def ledger(sku: SkuPath, hub: HubDep, after_id: AfterId = 0, limit: Annotated[int, Query(ge=1, le=1000)] = 100) -> dict:
    """A SKU's movements, oldest first; page with `after_id` = the last id you saw."""
    items = hub.queries.history(sku, after_id=after_id, limit=limit)
    return {"sku": sku, "items": items, "next_after_id": items[-1]["id"] if len(items) == limit else None}


@router.get("/oversells", response_model=list[OversellOut], responses=problems(*SIGNED, 422))
def oversells(hub: HubDep, after_id: CatalogAfterId = 0, limit: Annotated[int, Query(ge=1, le=1000)] = 100) -> list[dict]:
    return hub.queries.oversells(after_id=after_id, limit=limit)
