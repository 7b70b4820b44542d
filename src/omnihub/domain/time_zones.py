"""A time zone named as the IANA database names it (Europe/Paris, America/New_York):
checked the same way wherever one comes in (a location's, the retailer's setting)."""

from __future__ import annotations

from zoneinfo import ZoneInfo, ZoneInfoNotFoundError


def known_time_zone(name: str) -> str:
    """`name` if the IANA database knows it; ValueError, saying what is wanted, if not."""
    try:
        ZoneInfo(name)
    except (ZoneInfoNotFoundError, ValueError) as exc:
        raise ValueError(f"unknown time zone {name!r}: use an IANA name such as Europe/Paris") from exc
    return name
