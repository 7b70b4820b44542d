"""Shopify global ids: ``gid://shopify/<Type>/<number>``.

An inventory level's id carries its item as a query parameter, as in Shopify:
``gid://shopify/InventoryLevel/<location id>?inventory_item_id=<item id>``.
"""

from __future__ import annotations

import re

_GID = re.compile(r"^gid://shopify/(?P<type>[A-Za-z]+)/(?P<id>\d+)(?:\?(?P<query>[^#]*))?$")


class InvalidGlobalId(ValueError):
    pass


def to_gid(type_name: str, number: int) -> str:
    return f"gid://shopify/{type_name}/{number}"


def inventory_level_gid(location_id: int, inventory_item_id: int) -> str:
    return f"gid://shopify/InventoryLevel/{location_id}?inventory_item_id={inventory_item_id}"


def parse_gid(gid: str, expected_type: str | None = None) -> tuple[str, int, dict[str, str]]:
    match = _GID.match(gid or "")
    if not match:
        raise InvalidGlobalId(f"Invalid global id '{gid}'")
    type_name = match.group("type")
    if expected_type is not None and type_name != expected_type:
        raise InvalidGlobalId(f"Invalid global id '{gid}': expected a {expected_type}")
    params: dict[str, str] = {}
    if match.group("query"):
        for pair in match.group("query").split("&"):
            key, _, value = pair.partition("=")
            params[key] = value
    return type_name, int(match.group("id")), params


def number_of(gid: str, expected_type: str) -> int | None:
    """The numeric id of a gid of the expected type, or None when it is not one."""
    try:
        return parse_gid(gid, expected_type)[1]
    except InvalidGlobalId:
        return None
