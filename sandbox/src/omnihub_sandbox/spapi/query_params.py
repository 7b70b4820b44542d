"""Reading SP-API query parameters the way Amazon's gateway does.

Array parameters are comma-separated (swagger 2.0's default ``csv`` collection format);
repeating the parameter is accepted too, since some clients do that.
"""

from __future__ import annotations

from fastapi import Request

from .errors import invalid_input


def csv_list(request: Request, name: str, *, required: bool = False, max_items: int | None = None) -> list[str]:
    values = [v for raw in request.query_params.getlist(name) for v in raw.split(",") if v.strip()]
    values = [v.strip() for v in values]
    if required and not values:
        raise invalid_input(f"{name} is required.")
    if max_items is not None and len(values) > max_items:
        raise invalid_input(f"{name} accepts at most {max_items} value(s).")
    return values


def single(request: Request, name: str) -> str | None:
    values = request.query_params.getlist(name)
    if len(values) > 1:
        raise invalid_input(f"{name} may be given only once.")
    return values[0] if values else None
