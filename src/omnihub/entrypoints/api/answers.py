"""What the API answers, as types: the base of every response model, the problem+json
body, and the error responses each route declares.

A route's answer is validated against its model before it leaves (FastAPI's
`response_model`), so the OpenAPI document says what the hub really sends and a
drifting shape fails a test instead of surprising a client. The models keep today's
bytes: values are first made JSON the way FastAPI always did (`jsonable_encoder`:
datetimes as `isoformat()`), timestamps stay that text, and members a route did not
send are not added (`response_model_exclude_unset`).
"""

from __future__ import annotations

from collections.abc import Iterable
from datetime import date, datetime
from typing import Annotated, Any

import sqlalchemy as sa
from fastapi.encoders import jsonable_encoder
from pydantic import BaseModel, BeforeValidator, ConfigDict, Field, WithJsonSchema, create_model, model_validator

from omnihub.entrypoints.api.problems import PROBLEM


def _as_text(value: object) -> object:
    return value.isoformat() if isinstance(value, datetime | date) else value


#: A date-time as the hub writes it: ISO 8601 text, with its offset where the database
#: keeps one (SQLite's are UTC written without it, so not RFC 3339's `date-time`).
Instant = Annotated[str, BeforeValidator(_as_text), WithJsonSchema({
    "type": "string", "pattern": r"^\d{4}-\d{2}-\d{2}T\d{2}:\d{2}:\d{2}(\.\d+)?(Z|[+-]\d{2}:\d{2})?$",
    "description": "ISO 8601 date-time; UTC where it has no offset"})]
#: A number the hub may hold as an integer or a float (kept as it was sent).
Number = int | float


class Answer(BaseModel):
    """A response body: exactly these members (an unknown one fails validation)."""

    model_config = ConfigDict(extra="forbid")

    @model_validator(mode="before")
    @classmethod
    def _as_json(cls, data: Any) -> Any:
        return jsonable_encoder(data) if isinstance(data, dict) else data


class OpenAnswer(Answer):
    """A body whose named members are typed and which may carry more (a stored payload's
    headers, a channel's own fields)."""

    model_config = ConfigDict(extra="allow")


class ProblemDetail(BaseModel):
    field: str = Field(description="where in the request: `lines[0].sku`, `query.limit` (problems.py)")
    message: str
    line: int | None = None
    column: int | None = None
    offset: int | None = None


class Problem(BaseModel):
    """RFC 9457 problem details, as every error of the API is answered."""

    model_config = ConfigDict(extra="allow", title="Problem")
    type: str = "about:blank"
    title: str
    status: int
    detail: str
    instance: str | None = None
    code: str | None = None
    errors: list[ProblemDetail] | None = None


_WHY = {
    400: "malformed request (a body that is not JSON, a Host this hub does not answer to)",
    401: "not authenticated: no bearer token or session, or one that is unknown, revoked or expired "
         "(WWW-Authenticate: Bearer); a webhook whose signature does not match",
    403: "refused: the principal's role, locations or scopes do not allow this here; a write a browser sends "
         "from another site",
    404: "no such resource",
    409: "conflict with the resource's state (a version moved on, an idempotency key reused, an illegal transition)",
    410: "gone: what was asked for was erased since",
    413: "request body over the size limit",
    415: "body not of the media type the route takes",
    422: "invalid request: against the schema, or naming what the hub does not know (an unknown SKU), or refused "
         "by the ledger",
    429: "too many failed sign-ins (Retry-After says when to try again)",
}


def problems(*statuses: int, why: dict[int, str] | None = None) -> dict[int | str, dict[str, Any]]:
    """`responses=` for a route: these statuses, each answered as problem+json."""
    return {s: {"model": Problem, "description": (why or {}).get(s, _WHY[s]), "content": {PROBLEM: {}}}
            for s in statuses}


#: what every route behind a principal may answer besides its own errors
SIGNED = (401, 403)
#: and one that also reads a body
SIGNED_BODY = (400, 401, 403, 413, 415, 422)

_COLUMN_TYPES: list[tuple[type, Any]] = [
    (sa.Boolean, bool), (sa.Integer, int), (sa.Float, float), (sa.DateTime, Instant), (sa.String, str), (sa.JSON, Any),
]

def row_answer(name: str, table: sa.Table, *, columns: Iterable[str] | None = None, drop: Iterable[str] = (),
               base: type[Answer] = Answer, doc: str = "", **fields: Any) -> type[Answer]:
    """A model of a stored row as a route answers it (`dict(row)`): one member per column,
    typed from the column, None where the column allows it; `fields` replace or add."""
    wanted = list(columns) if columns is not None else [c.name for c in table.columns]
    spec: dict[str, Any] = {}
    for column in (table.c[n] for n in wanted if n not in set(drop)):
        kind = next((k for sql, k in _COLUMN_TYPES if isinstance(column.type, sql)), Any)
        spec[column.name] = (kind | None if column.nullable and kind is not Any else kind, ...)
    spec.update(fields)
    return create_model(name, __base__=base, __doc__=doc or f"A row of {table.name}.", **spec)

