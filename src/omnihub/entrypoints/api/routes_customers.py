"""Privacy requests that reach the merchant outside Shopify's webhooks (CCPA, GDPR by mail,
a store's counter): erase a customer's personal data, or export it as a file.

The work is services/customer_privacy.py's, the same that Shopify's customers/redact,
shop/redact and customers/data_request webhooks run. Errors are problem+json: a request
naming nobody is 422, an unknown data request 404, an export erased since (the customer
was redacted after asking for their data) 410.
"""

from __future__ import annotations

from typing import Annotated

from fastapi import APIRouter, Depends, Path, Query, Request
from fastapi.responses import FileResponse, JSONResponse
from pydantic import Field

from omnihub.domain.personal_data import Subject
from omnihub.entrypoints.api.deps import get_hub
from omnihub.entrypoints.api.answers import SIGNED, SIGNED_BODY, problems
from omnihub.entrypoints.api.answers_operations import DataRequestOut, Erased, PrivacyRequests
from omnihub.entrypoints.api.problems import problem
from omnihub.entrypoints.api.schemas import Strict
from omnihub.hub import Hub
from omnihub.services.customer_privacy import PrivacyRequestError

router = APIRouter(prefix="/customers", tags=["customers"])
HubDep = Annotated[Hub, Depends(get_hub)]
_Text = Annotated[str, Field(min_length=1, max_length=320, pattern=r"^[^\x00]*$")]
_Code = Annotated[str, Field(min_length=1, max_length=64, pattern=r"^[^\x00]*$")]
_Id = Annotated[str, Field(min_length=1, max_length=200, pattern=r"^[^\x00]*$")]


class ChannelCustomerIn(Strict):
    channel: _Code
    id: _Id


class ChannelOrderIn(Strict):
    channel: _Code
    external_id: _Id


class PrivacyRequestIn(Strict):
    """Whom the request is about: any of these; the hub finds the rest (the unified
    profile's other e-mails and phones, its orders on every channel)."""

    emails: Annotated[list[_Text], Field(max_length=20)] = []
    phones: Annotated[list[_Text], Field(max_length=20)] = []
    channel_customers: Annotated[list[ChannelCustomerIn], Field(max_length=20)] = []
    orders: Annotated[list[ChannelOrderIn], Field(max_length=500)] = []
    reference: _Id | None = None  # the merchant's own ticket or case number

    def subject(self) -> Subject:
        return Subject.of(emails=self.emails, phones=self.phones,
                          channel_ids=[(c.channel, c.id) for c in self.channel_customers],
                          orders=[(o.channel, o.external_id) for o in self.orders])


def _jsonable(row: dict) -> dict:
    return {k: (v.isoformat() if hasattr(v, "isoformat") else v) for k, v in row.items()}


def _problem(request: Request, exc: PrivacyRequestError):
    status = {"not_found": 404, "gone": 410}.get(exc.code, 422)
    title = {404: "not found", 410: "gone"}.get(status, "invalid privacy request")
    return problem(status, title, str(exc), type_=f"https://omnihub.dev/problems/{exc.code}",
                   errors=[{"field": exc.field, "message": str(exc)}], instance=request.url.path, code=exc.code)


def _file_url(request_id: int) -> str:
    return f"/api/v1/customers/data-requests/{request_id}/file"


@router.post("/redact", response_model=Erased, responses=problems(*SIGNED_BODY), summary="Erase a customer's personal data (orders keep their lines, totals and ledger)")
def redact(body: PrivacyRequestIn, request: Request, hub: HubDep):
    try:
        return hub.privacy.redact(body.subject(), source="api", reference=body.reference)
    except PrivacyRequestError as exc:
        return _problem(request, exc)


@router.post("/data-requests", status_code=201, response_model=DataRequestOut, responses=problems(*SIGNED_BODY),
             summary="Export a customer's data as a JSON file for the merchant (GET .../{id}/file serves it)")
def data_request(body: PrivacyRequestIn, request: Request, hub: HubDep):
    try:
        record = hub.privacy.export(body.subject(), source="api", reference=body.reference)
    except PrivacyRequestError as exc:
        return _problem(request, exc)
    return JSONResponse({**_jsonable(record), "file_url": _file_url(record["id"])}, status_code=201,
                        headers={"Location": f"/api/v1/customers/data-requests/{record['id']}"})


@router.get("/data-requests", response_model=PrivacyRequests, responses=problems(*SIGNED, 422), summary="Privacy requests, newest first (erasures and exports; never whom they were about)")
def list_requests(limit: int = Query(100, ge=1, le=1000), hub: Hub = Depends(get_hub)) -> dict:
    return {"requests": [_jsonable(r) for r in hub.privacy.list_requests(limit)]}


@router.get("/data-requests/{request_id}", response_model=DataRequestOut, responses=problems(*SIGNED, 404, 422),
            summary="A data request: its state and its file")
def get_data_request(request_id: Annotated[int, Path(ge=1, le=2**63 - 1)], request: Request, hub: HubDep):
    try:
        record = hub.privacy.get_export(request_id)
    except PrivacyRequestError as exc:
        return _problem(request, exc)
    return {**_jsonable(record), "file_url": _file_url(request_id) if record["file"] else None}


@router.get("/data-requests/{request_id}/file", summary="The customer's data, as the JSON file written for the merchant",
            response_class=FileResponse, responses={**problems(*SIGNED, 404, 410, 422), 200: {
                "description": "the JSON file", "content": {"application/json": {"schema": {"type": "object"}}}}})
def get_data_request_file(request_id: Annotated[int, Path(ge=1, le=2**63 - 1)], request: Request, hub: HubDep):
    try:
        path = hub.privacy.export_path(request_id)
    except PrivacyRequestError as exc:
        return _problem(request, exc)
    return FileResponse(path, media_type="application/json", filename=path.name,
                        headers={"Cache-Control": "no-store"})
