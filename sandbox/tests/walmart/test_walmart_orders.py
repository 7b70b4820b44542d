"""Reading orders: released to the seller after Walmart's checks, created and released lists
with windows, filters, limit and nextCursor."""

from __future__ import annotations

from datetime import datetime, timezone

from omnihub_sandbox.walmart.contract import problems
from walmart_sandbox_harness import Seller

SKU = "WM-00001"


def _iso(ts: float) -> str:
    return datetime.fromtimestamp(ts, tz=timezone.utc).strftime("%Y-%m-%dT%H:%M:%SZ")


def _stock(seller: Seller, units: int = 500) -> None:
    seller.set_item(SKU, **{"10001": {"quantity": units, "shelf": units}})
    seller.set_item("WM-00002", **{"10001": {"quantity": units, "shelf": units}})


def _list(seller: Seller, path: str = "/v3/orders", **params) -> dict:
    answer = seller.call("GET", path, params=params)
    assert answer.status_code == 200, answer.text
    assert problems("OrderList", answer.json()) == []
    return dict(answer.json()["list"])


def _ids(page: dict) -> list[str]:
    return [o["purchaseOrderId"] for o in page["elements"]["order"]]


def test_an_order_reaches_the_seller_when_released(make_seller, make_config, clock) -> None:
    seller = make_seller(make_config(release_delay_seconds=60))
    _stock(seller)
    po = seller.bought((SKU, 1))
    assert _ids(_list(seller)) == [] and seller.call("GET", f"/v3/orders/{po}").status_code == 404
    clock.advance(60)
    order = seller.order(po)
    assert problems("Order", order) == []
    line = order["orderLines"]["orderLine"][0]
    assert line["orderLineStatuses"]["orderLineStatus"] == [
        {"status": "Created", "statusQuantity": {"unitOfMeasurement": "EACH", "amount": "1"}}]
    assert order["shipNode"]["id"] == "10001" and order["orderDate"] == int((clock() - 60) * 1000)
    assert _ids(_list(seller, "/v3/orders/released")) == [po]


def test_created_windows_default_to_the_last_seven_days(seller: Seller, clock) -> None:
    _stock(seller)
    old = seller.bought((SKU, 1))
    clock.advance(3 * 86400)
    middle = seller.bought((SKU, 1))
    clock.advance(5 * 86400)
    new = seller.bought((SKU, 1))
    now = clock()
    assert _ids(_list(seller)) == [middle, new]  # createdStartDate defaults to now - 7 days
    assert _ids(_list(seller, createdStartDate=_iso(now - 9 * 86400))) == [old, middle, new]
    assert _ids(_list(seller, createdStartDate=_iso(now - 9 * 86400), createdEndDate=_iso(now - 4 * 86400))) == [old, middle]
    day = datetime.fromtimestamp(now - 4 * 86400, tz=timezone.utc).strftime("%Y-%m-%d")
    assert _ids(_list(seller, createdStartDate=day)) == [new]  # yyyy-MM-dd is midnight UTC


def test_cursor_paging_is_complete_and_stable_while_orders_arrive(seller: Seller, clock) -> None:
    _stock(seller)
    placed = []
    for _ in range(7):
        placed.append(seller.bought((SKU, 1)))
        clock.advance(10)
    page = _list(seller, limit=3)
    assert page["meta"]["totalCount"] == 7 and page["meta"]["limit"] == 3
    seen = _ids(page)
    clock.advance(1)
    late = seller.bought((SKU, 1))  # after the first page: outside the pinned window
    while "nextCursor" in page["meta"]:
        cursor = page["meta"]["nextCursor"]
        assert cursor.startswith("?") and "createdEndDate=" in cursor
        answer = seller.call("GET", "/v3/orders" + cursor)  # appended to the path, as Walmart's cursors are
        assert answer.status_code == 200 and problems("OrderList", answer.json()) == []
        page = answer.json()["list"]
        seen += _ids(page)
    assert seen == placed
    assert late in _ids(_list(seller, limit=200))
    # the cursor is also taken as a parameter holding the query string
    first = _list(seller, limit=3)
    second = _list(seller, limit=3, nextCursor=first["meta"]["nextCursor"])
    assert _ids(second) == placed[3:6]


def test_status_sku_and_modified_filters(seller: Seller, clock) -> None:
    _stock(seller)
    a = seller.bought((SKU, 1))
    b = seller.bought(("WM-00002", 1))
    clock.advance(100)
    assert seller.acknowledge(a).status_code == 200
    assert _ids(_list(seller, status="Acknowledged")) == [a]
    assert _ids(_list(seller, status="Created")) == [b]
    assert _ids(_list(seller, "/v3/orders/released")) == [b]
    assert _ids(_list(seller, sku="WM-00002")) == [b]
    assert _ids(_list(seller, purchaseOrderId=a)) == [a]
    assert _ids(_list(seller, lastModifiedStartDate=_iso(clock() - 1))) == [a]
    assert _ids(_list(seller, shipNodeType="WFSFulfilled")) == []


def test_bad_list_parameters_are_refused_with_the_field(seller: Seller) -> None:
    for params, field in [({"limit": "201"}, "limit"), ({"limit": "0"}, "limit"), ({"status": "Pending"}, "status"),
                          ({"createdStartDate": "yesterday"}, "createdStartDate"), ({"productInfo": "yes"}, "productInfo"),
                          ({"createdStartDate": "2026-02-01", "createdEndDate": "2026-01-01"}, "createdStartDate"),
                          ({"poIndex": "123"}, "nextCursor")]:
        answer = seller.call("GET", "/v3/orders", params=params)
        assert answer.status_code == 400, params
        assert problems("ErrorResponse", answer.json()) == [] and answer.json()["errors"][0]["field"] == field


def test_an_unknown_order_is_content_not_found(seller: Seller) -> None:
    answer = seller.call("GET", "/v3/orders/1234567890123")
    assert answer.status_code == 404 and answer.json()["errors"][0]["code"] == "CONTENT_NOT_FOUND.GMP_ORDER_API"
