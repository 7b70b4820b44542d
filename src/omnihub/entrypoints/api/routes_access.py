"""People and tokens over the API (admin): list users, make, list and revoke API tokens,
and `whoami` for any principal. A token revoked here is refused from the next request
on, in this process (services/api_tokens.py)."""

from __future__ import annotations

from typing import Annotated

from fastapi import APIRouter, Depends, Path, Request
from pydantic import Field

from omnihub.domain.access import Role
from omnihub.domain.limits import CODE_LENGTH, NO_NUL_PATTERN
from omnihub.entrypoints.api.access import CurrentPrincipal
from omnihub.entrypoints.api.deps import get_hub
from omnihub.entrypoints.api.answers import SIGNED, SIGNED_BODY, problems
from omnihub.entrypoints.api.answers_operations import Principal, TokenIssued, TokenRevoked, Tokens, Users
from omnihub.entrypoints.api.problems import problem
from omnihub.entrypoints.api.schemas import Strict
from omnihub.hub import Hub
from omnihub.services.api_tokens import TokenError

router = APIRouter(tags=["access"])
HubDep = Annotated[Hub, Depends(get_hub)]
_Scope = Annotated[str, Field(min_length=1, max_length=100, pattern=NO_NUL_PATTERN)]
_Code = Annotated[str, Field(min_length=1, max_length=CODE_LENGTH, pattern=NO_NUL_PATTERN)]


class TokenIn(Strict):
    name: Annotated[str, Field(min_length=1, max_length=200, pattern=r"^[^\x00]*\S[^\x00]*$")]
    role: Role
    scopes: Annotated[list[_Scope], Field(max_length=50)] = []
    locations: Annotated[list[_Code], Field(max_length=100)] = []
    expires_days: Annotated[float, Field(gt=0, le=3650, strict=True)] | None = None  # strict: true is no number of days


def _jsonable(row: dict) -> dict:
    return {k: (v.isoformat() if hasattr(v, "isoformat") else v) for k, v in row.items()}


@router.get("/whoami", response_model=Principal, responses=problems(*SIGNED), summary="The principal this request acts as")
def whoami(principal: CurrentPrincipal) -> dict:
    return {"kind": principal.kind, "id": principal.id, "name": principal.name, "role": principal.role.value,
            "locations": sorted(principal.locations), "scopes": sorted(principal.scopes)}


@router.get("/tokens", response_model=Tokens, responses=problems(*SIGNED), summary="API tokens (never the tokens themselves: their first characters)")
def list_tokens(hub: HubDep) -> dict:
    return {"tokens": [_jsonable(r) for r in hub.tokens.list()]}


@router.post("/tokens", status_code=201, response_model=TokenIssued, responses=problems(*SIGNED_BODY), summary="Make an API token; the answer is the only time it is shown")
def create_token(body: TokenIn, request: Request, hub: HubDep, principal: CurrentPrincipal):
    try:
        issued = hub.tokens.create(body.name, body.role, scopes=body.scopes, locations=body.locations,
                                   expires_days=body.expires_days, created_by=principal.actor)
    except TokenError as exc:
        return problem(422, "invalid token request", str(exc), errors=[{"field": "", "message": str(exc)}],
                       instance=request.url.path, code="invalid_token_request")
    return {"id": issued.id, "name": issued.name, "role": issued.role.value, "token": issued.token,
            "expires_at": issued.expires_at.isoformat() if issued.expires_at else None}


@router.delete("/tokens/{token_id}", status_code=200, response_model=TokenRevoked, responses=problems(*SIGNED, 404, 422),
               summary="Revoke an API token (refused from the next request on)")
def revoke_token(token_id: Annotated[int, Path(ge=1, le=2**31 - 1)], request: Request, hub: HubDep):
    try:
        revoked = hub.tokens.revoke(token_id)
    except TokenError as exc:
        return problem(404, "not found", str(exc), instance=request.url.path, code="not_found")
    return {"id": token_id, "revoked": True, "already": not revoked}


@router.get("/users", response_model=Users, responses=problems(*SIGNED), summary="People who sign in, with their roles (never their password hashes)")
def list_users(hub: HubDep) -> dict:
    return {"users": [_jsonable(r) for r in hub.users.list()]}
