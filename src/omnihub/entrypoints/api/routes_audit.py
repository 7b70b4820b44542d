"""The audit trail over the API (admin: `audit.read`): newest first, a page at a time,
with filters. `next_cursor` is passed back as `cursor` for the next page; None at the end."""

from __future__ import annotations

from datetime import datetime
from typing import Annotated, Any

from fastapi import APIRouter, Depends, Query
from pydantic import AwareDatetime, BaseModel

from omnihub.domain.limits import NO_NUL_PATTERN
from omnihub.entrypoints.api.deps import get_hub
from omnihub.entrypoints.api.answers import SIGNED, problems
from omnihub.hub import Hub
from omnihub.services.audit_trail import AuditFilter

router = APIRouter(tags=["audit"])
HubDep = Annotated[Hub, Depends(get_hub)]
_Text = Annotated[str | None, Query(min_length=1, max_length=500, pattern=NO_NUL_PATTERN)]


class AuditActor(BaseModel):
    kind: str
    id: str
    name: str


class AuditEventOut(BaseModel):
    id: int
    at: datetime
    actor: AuditActor
    address: str
    action: str
    target: str
    before: Any = None
    after: Any = None
    details: dict[str, Any]


class AuditPage(BaseModel):
    items: list[AuditEventOut]
    next_cursor: str | None


@router.get("/audit", response_model=AuditPage, responses=problems(*SIGNED, 422), summary="Who changed what, when, from where (newest first)")
def audit(hub: HubDep,
          actor: Annotated[_Text, Query(description="token, user:3, the whole actor, or a user's e-mail")] = None,
          action: Annotated[_Text, Query(description="stock.receive, or a family: stock")] = None,
          target: Annotated[_Text, Query(description="the beginning of the target: sku=A, order_id=12")] = None,
          since: AwareDatetime | None = None,
          until: AwareDatetime | None = None,
          cursor: Annotated[str | None, Query(pattern=r"^[1-9][0-9]{0,18}$")] = None,
          limit: Annotated[int, Query(ge=1, le=500)] = 100) -> dict:
    after_id = int(cursor) if cursor else None
    items, last = hub.audit.page(AuditFilter(actor=actor, action=action, target=target, since=since, until=until),
                                 after_id=after_id if after_id is None or after_id < 2**63 else None, limit=limit)
    return {"items": items, "next_cursor": str(last) if last is not None else None}
