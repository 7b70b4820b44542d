"""Timestamps as read back from the database. The hub writes every one in UTC, but SQLite
hands them back without their zone (PostgreSQL's `timestamptz` keeps it): a time without
a zone is thus UTC. Typed per argument so a column known to be set stays a `datetime`."""

from __future__ import annotations

from datetime import UTC, datetime
from typing import overload


@overload
def as_utc(value: datetime) -> datetime: ...
@overload
def as_utc(value: None) -> None: ...
@overload
def as_utc(value: datetime | None) -> datetime | None: ...
def as_utc(value: datetime | None) -> datetime | None:
    return value.replace(tzinfo=UTC) if value is not None and value.tzinfo is None else value
