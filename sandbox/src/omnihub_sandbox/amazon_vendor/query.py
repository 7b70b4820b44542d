"""Query parameters of the Vendor APIs: date-time windows, limits, sort orders, flags.

Every problem is answered 400 ``InvalidRequest``, the code the Vendor models' own
examples give for a bad parameter (a body's problems are ``InvalidInput``). Windows are
half-open the way Amazon describes them ("after" and "before"): a purchase order made
exactly at ``createdAfter`` is in, one made exactly at ``createdBefore`` is not.
"""

from __future__ import annotations

from typing import Sequence

from fastapi import Request

from ..spapi.clock import parse_iso
from ..spapi.errors import invalid_request
from ..spapi.query_params import single

DAY = 86_400.0


def date_time(request: Request, name: str, *, required: bool = False) -> float | None:
    raw = single(request, name)
    if raw is None or raw == "":
        if required:
            raise invalid_request("Request is missing or has invalid parameters", f"{name} is required.")
        return None
    try:
        return parse_iso(raw)
    except ValueError:
        raise invalid_request("The request is invalid.", f"{name} is not an ISO 8601 date-time: {raw}") from None


def window(request: Request, after: str, before: str, *, required: bool,
           max_days: float | None = None) -> tuple[float, float] | None:
    """The (after, before) window named by two parameters; both or neither."""
    start = date_time(request, after, required=required)
    end = date_time(request, before, required=required)
    if start is None and end is None:
        return None
    if start is None or end is None:
        raise invalid_request("The request is invalid.", f"{after} and {before} go together.")
    if start >= end:
        raise invalid_request("The request is invalid.", f"{before} must be later than {after}.")
    if max_days is not None and end - start > max_days * DAY:
        raise invalid_request("The request is invalid.", f"The date range must not be more than {max_days:g} days.")
    return start, end


def limit(request: Request, default: int, maximum: int = 100) -> int:
    raw = single(request, "limit")
    if raw is None:
        return default
    if not raw.isdigit() or not 1 <= int(raw) <= maximum:
        raise invalid_request("The request is invalid.", f"limit must be an integer from 1 to {maximum}.")
    return int(raw)


def choice(request: Request, name: str, values: Sequence[str], default: str | None = None) -> str | None:
    raw = single(request, name)
    if raw is None:
        return default
    if raw not in values:
        raise invalid_request("The request is invalid.", f"{name} must be one of {', '.join(values)}.")
    return raw


def flag(request: Request, name: str, default: bool) -> bool:
    raw = single(request, name)
    if raw is None:
        return default
    if raw.lower() not in ("true", "false"):
        raise invalid_request("The request is invalid.", f"{name} must be true or false.")
    return raw.lower() == "true"


def party_id(request: Request, name: str) -> str | None:
    raw = single(request, name)
    if raw is not None and not raw.strip():
        raise invalid_request("The request is invalid.", f"{name} must not be blank.")
    return raw
