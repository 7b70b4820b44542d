"""What a console form sent: its text fields, read whatever the request's body is (a form,
or anything else, which sends no field), so that a page answers a bad or missing field
with itself and a message (422), never with the API's problem+json."""

from __future__ import annotations

from starlette.requests import Request

from omnihub.entrypoints.api.request_guards import media_type

FIELD_LENGTH = 2000
_FORMS = frozenset({"application/x-www-form-urlencoded", "multipart/form-data"})


async def read_form(request: Request) -> dict[str, str]:
    if media_type(request.headers.get("content-type")) not in _FORMS:
        return {}
    form = await request.form()
    try:
        return {k: v.strip()[:FIELD_LENGTH] for k, v in form.items() if isinstance(v, str) and "\x00" not in v}
    finally:
        await form.close()


def whole_number(text: str | None, *, low: int, high: int) -> int | None:
    """The field as a whole number in [low, high], or None."""
    text = (text or "").strip()
    if not text or not text.lstrip("-").isdigit() or len(text) > 12:
        return None
    value = int(text)
    return value if low <= value <= high else None


async def read_choices(request: Request, name: str) -> list[str]:
    """Every value the form sent for `name` (checkboxes of one name), in order; none for
    a body that is not a form. Starlette keeps the form it parsed, so this reads it once."""
    if media_type(request.headers.get("content-type")) not in _FORMS:
        return []
    form = await request.form()
    return [v.strip()[:FIELD_LENGTH] for v in form.getlist(name) if isinstance(v, str) and "\x00" not in v]
