"""US ZIP code → geo point, offline, from the `zipcodes` package's bundled table.

Kept in its own module because it is the one place in the domain that touches data
outside the process's arguments: `zipcodes` reads its packaged (read-only, versioned with
the package) table when first imported. That is deterministic and network-free, so it is
allowed in the domain, but it is loaded lazily on first use and injected into
`store_mode.resolve_point`, so nothing else in `domain/` pays for it and tests may pass
their own lookup.
"""

from __future__ import annotations

from functools import lru_cache

from omnihub.domain.catalog import GeoPoint


@lru_cache(maxsize=4096)
def us_zip_point(zip_code: str) -> GeoPoint | None:
    """Centre of a 5-digit US ZIP code (ZIP+4 accepted), or None when unknown."""
    code = zip_code.strip()[:5]
    if len(code) != 5 or not code.isdigit():
        return None
    import zipcodes  # lazy: loads the packaged table once

    try:
        found = zipcodes.matching(code)
    except (ValueError, TypeError):
        return None
    for row in found:
        try:
            return GeoPoint(float(row["lat"]), float(row["long"]))
        except (KeyError, TypeError, ValueError):
            continue
    return None
