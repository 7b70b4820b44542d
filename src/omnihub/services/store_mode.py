"""Store Mode: for a SKU or a basket and a point (ZIP code or lat/lng), the nearby stores
with pickup-available quantity, distance and pickup-ready time, and whether express
shipping is possible. Reads only the positions of the asked SKUs."""

from __future__ import annotations

from datetime import UTC, datetime

from sqlalchemy.engine import Engine

from omnihub.adapters.db.bulk_sql import fetch_by_keys
from omnihub.adapters.db.channel_config import load_config, policies_for, rules_for_sku
from omnihub.adapters.db.stock_store import positions_by_sku
from omnihub.domain.atp import location_atp, resolve_policy
from omnihub.domain.ledger import LedgerError
from omnihub.domain.store_mode import resolve_point, store_availability


def store_mode(engine: Engine, basket: dict[str, int], where: str, *, radius_km: float = 50.0, limit: int = 10,
               only_available: bool = False) -> dict:
    try:
        point = resolve_point(where)
    except ValueError as exc:
        raise LedgerError(str(exc), field="near", code="invalid_point") from exc
    with engine.connect() as conn:
        cfg = load_config(conn)
        skus = sorted(basket)
        known = {r[0] for r in fetch_by_keys(conn, "variants", ("sku",), ("sku",), [(s,) for s in skus])}
        unknown = [s for s in skus if s not in known]
        if unknown:
            raise LedgerError(f"unknown SKU(s): {', '.join(unknown)}", field="sku", code="unknown_sku")
        positions = positions_by_sku(conn, skus)
        policies = policies_for(conn, skus)
    stock: dict[tuple[str, int], int] = {}
    for sku, by_loc in positions.items():
        rules = rules_for_sku(policies, sku)
        for loc, pos in by_loc.items():
            lid = cfg.id_of.get(loc)
            if lid is not None:
                # Pickup counts every store, including "pickup only" ones and those not selling online.
                stock[(sku, lid)] = location_atp(pos, resolve_policy(rules, None, sku, loc))
    result = store_availability(point, basket, cfg.locations.values(), stock, datetime.now(UTC),
                                radius_km=radius_km, limit=limit, only_available=only_available)
    return {
        "point": {"lat": point.lat, "lng": point.lng},
        "basket": basket,
        "stores": [
            {"location": cfg.code_of[s.location_id], "name": s.name, "distance_km": s.distance_km,
             "available": dict(s.available), "can_fulfil_basket": s.can_fulfil_basket,
             "pickup_ready_at": s.pickup_ready_at, "curbside": s.curbside}
            for s in result.stores
        ],
        "express": None if result.express is None else {
            "location": cfg.code_of[result.express.location_id], "distance_km": result.express.distance_km,
            "ready_at": result.express.promise.ready_at, "earliest_delivery": result.express.promise.earliest_delivery,
            "latest_delivery": result.express.promise.latest_delivery,
        },
        "express_possible": result.express_possible,
    }
