"""QueryRoot: the entry points of reads."""

from __future__ import annotations

from graphql import GraphQLError

from ..clock import iso_api
from ..events import TOPICS
from ..gid import InvalidGlobalId, number_of, parse_gid, to_gid
from . import return_views, views
from .connections import sort_column, sql_connection

_LOADERS = {
    "Location": views.load_location,
    "Product": views.load_product,
    "ProductVariant": views.load_variant,
    "InventoryItem": views.load_inventory_item,
    "Order": views.load_order,
    "LineItem": views.load_line_item,
    "FulfillmentOrder": views.load_fulfillment_order,
    "Fulfillment": views.load_fulfillment,
    "WebhookSubscription": views.load_webhook_subscription,
    "BulkOperation": views.load_bulk_operation,
    "MediaImage": views.load_media_image,
    "InventoryAdjustmentGroup": views.load_adjustment_group,
    "FulfillmentHold": views.load_fulfillment_hold,
    "Return": return_views.load_return,
    "Refund": return_views.load_refund,
    "ReverseFulfillmentOrder": return_views.load_reverse_fulfillment_order,
}


def load_node(info, gid: str) -> dict | None:
    try:
        type_name, number, _ = parse_gid(gid)
    except InvalidGlobalId as exc:
        raise GraphQLError(str(exc), extensions={"code": "BAD_REQUEST"}) from exc
    if type_name == "InventoryLevel":
        return views.load_inventory_level(info, gid)
    if type_name == "Shop":
        return shop(info) if number == info.context.shop.shop_id else None
    loader = _LOADERS.get(type_name)
    return loader(info, number) if loader else None


def shop(info) -> dict:
    sandbox = info.context.shop
    config = sandbox.config
    seeded = sandbox.store.get_meta("seeded_at") or sandbox.now_iso()
    return {
        "__typename": "Shop", "id": to_gid("Shop", sandbox.shop_id), "name": config.shop_name,
        "email": f"owner@{config.shop_domain}", "myshopifyDomain": config.shop_domain,
        "url": f"https://{config.shop_domain}", "currencyCode": "USD", "ianaTimezone": "Etc/UTC",
        "createdAt": iso_api(seeded), "updatedAt": iso_api(seeded),
        "plan": {"publicDisplayName": config.plan.display_name, "shopifyPlus": config.plan.value in ("plus", "enterprise"),
                 "partnerDevelopment": False},
    }


def job(job_id: int) -> dict:
    """A job the shop ran (an order's cancellation): done, and its `query` reads the shop as it is now."""
    return {"__typename": "Job", "id": to_gid("Job", job_id), "done": True, "query": lambda info: root()}


def _job(info, id: str) -> dict | None:
    number = number_of(id, "Job")
    if number is None or info.context.store.one("SELECT 1 FROM order_cancellations WHERE job_id = ?", (number,)) is None:
        return None
    return job(number)


def _gid_arg(value: str | None, type_name: str) -> int | None:
    return number_of(value, type_name) if value else None


def root() -> dict:
    """The root value: one callable per QueryRoot field."""
    return {
        "shop": shop,
        "location": lambda info, id=None: views.load_location(info, _gid_arg(id, "Location"))
        if id else views.load_location(info, _first_location(info)),
        "locations": lambda info, **args: sql_connection(
            info, source="locations", where="1=1" if args.get("includeInactive") else "active = 1", args=args,
            sort_expr=sort_column(args, {"ID": "id", "NAME": "name"}), to_node=views.location,
            rules=views.LOCATION_RULES, default_rule=views.contains_rule("name")),
        "product": lambda info, id: views.load_product(info, _gid_arg(id, "Product")),
        "products": lambda info, **args: sql_connection(
            info, source="products", args=args, sort_expr=sort_column(args, views.PRODUCT_SORT), to_node=views.product,
            rules=views.PRODUCT_RULES, default_rule=views.contains_rule("title")),
        "productVariant": lambda info, id: views.load_variant(info, _gid_arg(id, "ProductVariant")),
        "productVariants": lambda info, **args: sql_connection(
            info, source="variants", args=args, sort_expr=sort_column(args, views.VARIANT_SORT), to_node=views.variant,
            rules=views.VARIANT_RULES, default_rule=views.contains_rule("sku")),
        "inventoryItem": lambda info, id: views.load_inventory_item(info, _gid_arg(id, "InventoryItem")),
        "inventoryItems": lambda info, **args: sql_connection(
            info, source="inventory_items", args=args, to_node=views.inventory_item, rules=views.ITEM_RULES,
            default_rule=views.contains_rule("sku")),
        "inventoryLevel": lambda info, id: views.load_inventory_level(info, id),
        "job": _job,
        "order": lambda info, id: views.load_order(info, _gid_arg(id, "Order")),
        "return": lambda info, id: return_views.load_return(info, _gid_arg(id, "Return")),
        "orders": lambda info, **args: sql_connection(
            info, source="orders", args=args, sort_expr=sort_column(args, views.ORDER_SORT), to_node=views.order,
            rules=views.ORDER_RULES, default_rule=views.text_rule("name")),
        "fulfillmentOrder": lambda info, id: views.load_fulfillment_order(info, _gid_arg(id, "FulfillmentOrder")),
        "fulfillmentOrders": lambda info, **args: sql_connection(
            info, source="fulfillment_orders",
            where="1=1" if args.get("includeClosed") else "status NOT IN ('CLOSED', 'CANCELLED')", args=args,
            sort_expr=sort_column(args, views.FO_SORT), to_node=views.fulfillment_order, rules=views.FO_RULES),
        "node": lambda info, id: load_node(info, id),
        "nodes": _nodes,
        "currentBulkOperation": _current_bulk_operation,
        "webhookSubscription": lambda info, id: views.load_webhook_subscription(info, _gid_arg(id, "WebhookSubscription")),
        "webhookSubscriptions": _webhook_subscriptions,
    }


def _first_location(info) -> int | None:
    row = info.context.store.one("SELECT id FROM locations WHERE active = 1 ORDER BY id LIMIT 1")
    return row["id"] if row else None


def _nodes(info, ids: list[str]) -> list:
    if len(ids) > info.context.shop.config.max_input_array:
        raise GraphQLError(f"The input array size of {len(ids)} is greater than the maximum allowed of "
                           f"{info.context.shop.config.max_input_array}.", extensions={"code": "MAX_INPUT_SIZE_EXCEEDED"})
    return [load_node(info, gid) for gid in ids]


def _current_bulk_operation(info, type: str = "QUERY") -> dict | None:
    row = info.context.store.one("SELECT * FROM bulk_operations WHERE type = ? ORDER BY id DESC LIMIT 1", (type,))
    return views.bulk_operation(row) if row else None


def _webhook_subscriptions(info, topics=None, uri=None, **args) -> dict:
    where, params = ["1=1"], []
    if topics:
        where.append(f"topic IN ({','.join('?' * len(topics))})")
        params += [TOPICS[t] for t in topics]
    if uri:
        where.append("uri = ?")
        params.append(uri)
    return sql_connection(info, source="webhook_subscriptions", where=" AND ".join(where), params=params, args=args,
                          sort_expr=sort_column(args, {"ID": "id", "CREATED_AT": "created_at"}),
                          to_node=views.webhook_subscription)
