"""Reading a request body as the Vendor APIs do: JSON only, then the model's shape.

A missing body is answered 400, one that is not ``application/json`` 415, one that is
not JSON or not the shape the operation's model draws is answered 400 ``InvalidInput`` naming the first
field at fault. Each API module declares its bodies as pydantic models that are a
subset of the official definitions (same names, the same required fields; the tests
hold them to the models); fields Amazon defines and the simulator does not use are
accepted and ignored, as Amazon accepts them.
"""

from __future__ import annotations

import json
from typing import Annotated, Any, TypeVar

from fastapi import Request
from pydantic import AfterValidator, BaseModel, ConfigDict, StrictInt, StringConstraints, ValidationError

from ..spapi.clock import parse_iso
from ..spapi.errors import invalid_input, unsupported_media_type

Body = TypeVar("Body", bound=BaseModel)


class AmazonDocument(BaseModel):
    """A part of a request body: unknown fields are kept, not refused."""

    model_config = ConfigDict(extra="allow")


async def read_body(request: Request, model: type[Body]) -> Body:
    data = await request.body()
    if not data.strip():
        raise invalid_input("The request body is missing.", "A JSON object is required.")
    content_type = request.headers.get("content-type", "")
    if content_type.split(";")[0].strip().lower() != "application/json":
        raise unsupported_media_type(content_type)
    try:
        raw: Any = json.loads(data)
    except ValueError:
        raise invalid_input("The request body is not valid JSON.") from None
    if not isinstance(raw, dict):
        raise invalid_input("The request body must be a JSON object.")
    try:
        return model.model_validate(raw)
    except ValidationError as exc:
        first = exc.errors()[0]
        where = ".".join(str(p) for p in first["loc"]) or "body"
        raise invalid_input(f"The content of {where} is not valid.", f"{where}: {first['msg']}") from None


def _date_time_text(value: str) -> str:
    try:
        parse_iso(value)
    except ValueError:
        raise ValueError("must be an ISO 8601 date-time") from None
    return value


#: A ``format: date-time`` string, kept as the client sent it.
DateTimeText = Annotated[str, AfterValidator(_date_time_text)]
#: An integer that is a JSON integer (not "5", not 5.0, not true).
JsonInt = StrictInt
NonBlank = Annotated[str, StringConstraints(min_length=1, strip_whitespace=False)]


class PartyIdentification(AmazonDocument):
    partyId: NonBlank
