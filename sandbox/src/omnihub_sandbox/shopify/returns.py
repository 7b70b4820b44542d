"""Returns, as Shopify keeps them.

- A customer asks (``returnRequest``: REQUESTED) and the merchant approves (OPEN) or
  declines (DECLINED); or the merchant opens one at once (``returnCreate``: OPEN, approved).
- Each return has one reverse fulfillment order; each of its line items mirrors one return
  line item (the units coming back from one fulfillment line item).
- ``returnProcess`` confirms units received, each with dispositions on its reverse
  fulfillment order line item: RESTOCKED puts units back at the disposition's location
  (available and the physical shelf go up, ``inventory_levels/update``); PROCESSING_REQUIRED,
  NOT_RESTOCKED and MISSING move no stock. It may refund the processed units
  (``financialTransfer.issueRefund``): a refund linked to the return, restock type
  NO_RESTOCK, since the dispositions did the restocking (refunds.py). The return stays OPEN
  until ``returnClose``; ``returnReopen`` opens a closed one; ``returnCancel`` cancels one on
  which nothing was processed or refunded.
- Returnable: a fulfillment line item's units less what live returns (REQUESTED, OPEN,
  CLOSED) already take, and never more than its line item's fulfilled units not refunded
  outside a return.

Webhooks (bodies in rest_returns.py): returns/request, returns/approve (also for
returnCreate, which opens a return already approved), returns/decline, returns/process,
returns/close, returns/reopen, returns/cancel; and refunds/create for a refund.
"""

from __future__ import annotations

import sqlite3
from collections.abc import Callable
from dataclasses import dataclass
from decimal import Decimal

from . import rest_returns
from .events import Event
from .gid import number_of
from .refunds import RefundAsk, RefundLine, create_refund, sale_transaction_id
from .stock import apply_delta, inventory_level_event, level_row, put_on_shelf

NextId = Callable[[str], int]
LIVE = ("REQUESTED", "OPEN", "CLOSED")  # statuses whose returns hold units


def _error(field: list[str], message: str, code: str) -> dict:
    return {"field": field, "message": message, "code": code}


@dataclass(frozen=True)
class ReturnLineAsk:
    fulfillment_line_item_gid: str
    quantity: int
    reason: str = "UNKNOWN"
    reason_note: str = ""
    customer_note: str | None = None


def _live_units(conn, column: str, value: int) -> int:
    return conn.execute(f"SELECT coalesce(sum(rli.quantity), 0) AS n FROM return_line_items rli JOIN returns r"
                        f" ON r.id = rli.return_id WHERE rli.{column} = ? AND r.status IN ({','.join('?' * len(LIVE))})",
                        (value, *LIVE)).fetchone()["n"]


def _line_room(conn, item: sqlite3.Row) -> int:
    """Fulfilled units of a line item that a new return may still take."""
    via_returns = conn.execute("SELECT coalesce(sum(refunded_quantity), 0) AS n FROM return_line_items"
                               " WHERE line_item_id = ?", (item["id"],)).fetchone()["n"]
    refunded_outside = item["refunded_quantity"] - via_returns
    return item["fulfilled_quantity"] - refunded_outside - _live_units(conn, "line_item_id", item["id"])


def open_return(conn: sqlite3.Connection, next_id: NextId, order_gid: str, asked: list[ReturnLineAsk], status: str,
                field: str, now_iso: str) -> tuple[int | None, list[dict], list[Event]]:
    """returnCreate (status OPEN) and returnRequest (REQUESTED); ``field`` names the input."""
    order_id = number_of(order_gid, "Order")
    order = conn.execute("SELECT * FROM orders WHERE id = ?", (order_id,)).fetchone() if order_id else None
    if order is None:
        return None, [_error([field, "orderId"], "Order does not exist.", "NOT_FOUND")], []
    if not asked:
        return None, [_error([field, "returnLineItems"], "A return needs at least one line item.", "BLANK")], []
    errors: list[dict] = []
    planned: list[tuple[sqlite3.Row, ReturnLineAsk]] = []
    taking: dict[tuple[str, int], int] = {}
    for index, line in enumerate(asked):
        path = [field, "returnLineItems", str(index)]
        fli_id = number_of(line.fulfillment_line_item_gid, "FulfillmentLineItem")
        fli = conn.execute("SELECT fli.* FROM fulfillment_line_items fli JOIN fulfillments f ON f.id = fli.fulfillment_id"
                           " WHERE fli.id = ? AND f.order_id = ?", (fli_id, order["id"])).fetchone() if fli_id else None
        if fli is None:
            errors.append(_error(path + ["fulfillmentLineItemId"], "Fulfillment line item does not exist on this order.",
                                 "NOT_FOUND"))
            continue
        if line.quantity <= 0:
            errors.append(_error(path + ["quantity"], "Quantity must be greater than 0.", "GREATER_THAN"))
            continue
        if len(line.reason_note) > 255 or len(line.customer_note or "") > 300:
            errors.append(_error(path + ["returnReasonNote"], "The note is too long.", "TOO_LONG"))
            continue
        item = conn.execute("SELECT * FROM line_items WHERE id = ?", (fli["line_item_id"],)).fetchone()
        room = min(fli["quantity"] - _live_units(conn, "fulfillment_line_item_id", fli["id"])
                   - taking.get(("fli", fli["id"]), 0),
                   _line_room(conn, item) - taking.get(("line", item["id"]), 0))
        if line.quantity > room:
            errors.append(_error(path + ["quantity"], f"Only {max(room, 0)} units of this fulfillment line item can be "
                                                      "returned.", "LESS_THAN_OR_EQUAL_TO"))
            continue
        taking[("fli", fli["id"])] = taking.get(("fli", fli["id"]), 0) + line.quantity
        taking[("line", item["id"])] = taking.get(("line", item["id"]), 0) + line.quantity
        planned.append((fli, line))
    if errors:
        return None, errors, []
    return_id = next_id("Return")
    number = conn.execute("SELECT count(*) AS n FROM returns WHERE order_id = ?", (order["id"],)).fetchone()["n"] + 1
    conn.execute("INSERT INTO returns(id, order_id, name, status, reverse_fulfillment_order_id, reverse_status,"
                 " requested_at, request_approved_at, created_at, updated_at) VALUES (?,?,?,?,?,?,?,?,?,?)",
                 (return_id, order["id"], f"{order['name']}-R{number}", status, next_id("ReverseFulfillmentOrder"),
                  "OPEN", now_iso, now_iso if status == "OPEN" else None, now_iso, now_iso))
    for fli, line in planned:
        conn.execute("INSERT INTO return_line_items(id, return_id, reverse_line_item_id, fulfillment_line_item_id,"
                     " line_item_id, quantity, return_reason, return_reason_note, customer_note)"
                     " VALUES (?,?,?,?,?,?,?,?,?)",
                     (next_id("ReturnLineItem"), return_id, next_id("ReverseFulfillmentOrderLineItem"), fli["id"],
                      fli["line_item_id"], line.quantity, line.reason, line.reason_note, line.customer_note))
    _touch_order(conn, order["id"], now_iso)
    topic = "returns/approve" if status == "OPEN" else "returns/request"
    return return_id, [], [Event(topic, rest_returns.full(conn, return_id), now_iso)]


def _touch_order(conn, order_id: int, now_iso: str) -> None:
    conn.execute("UPDATE orders SET updated_at = ?, closed_at = NULL WHERE id = ?", (now_iso, order_id))


def _load(conn, return_gid: str, field: list[str]) -> tuple[sqlite3.Row | None, list[dict]]:
    return_id = number_of(return_gid, "Return")
    row = conn.execute("SELECT * FROM returns WHERE id = ?", (return_id,)).fetchone() if return_id else None
    if row is None:
        return None, [_error(field, "Return does not exist.", "NOT_FOUND")]
    return row, []


def _transition(conn, return_gid: str, field: list[str], allowed: tuple[str, ...], status: str, now_iso: str,
                **columns) -> tuple[int | None, list[dict]]:
    row, errors = _load(conn, return_gid, field)
    if row is None:
        return None, errors
    if row["status"] not in allowed:
        return None, [_error(field, f"The return is {row['status'].lower()}: it can't become {status.lower()}.",
                             "INVALID_STATE")]
    assignments = ", ".join(f"{k} = ?" for k in columns)
    conn.execute(f"UPDATE returns SET status = ?, updated_at = ?{', ' + assignments if columns else ''} WHERE id = ?",
                 (status, now_iso, *columns.values(), row["id"]))
    _touch_order(conn, row["order_id"], now_iso)
    return row["id"], []


def approve(conn, return_gid: str, now_iso: str) -> tuple[int | None, list[dict], list[Event]]:
    return_id, errors = _transition(conn, return_gid, ["input", "id"], ("REQUESTED",), "OPEN", now_iso,
                                    request_approved_at=now_iso)
    return return_id, errors, [Event("returns/approve", rest_returns.full(conn, return_id), now_iso)] if return_id else []


def decline(conn, return_gid: str, reason: str, note: str | None, now_iso: str
            ) -> tuple[int | None, list[dict], list[Event]]:
    if note is not None and len(note) > 500:
        return None, [_error(["input", "declineNote"], "The decline note is too long.", "TOO_LONG")], []
    return_id, errors = _transition(conn, return_gid, ["input", "id"], ("REQUESTED",), "DECLINED", now_iso,
                                    decline_reason=reason, decline_note=note, reverse_status="CANCELED")
    return return_id, errors, [Event("returns/decline", rest_returns.declined(conn, return_id), now_iso)] if return_id else []


def close(conn, return_gid: str, now_iso: str) -> tuple[int | None, list[dict], list[Event]]:
    return_id, errors = _transition(conn, return_gid, ["id"], ("OPEN",), "CLOSED", now_iso, closed_at=now_iso,
                                    reverse_status="CLOSED")
    return return_id, errors, [Event("returns/close", rest_returns.status(conn, return_id), now_iso)] if return_id else []


def reopen(conn, return_gid: str, now_iso: str) -> tuple[int | None, list[dict], list[Event]]:
    return_id, errors = _transition(conn, return_gid, ["id"], ("CLOSED",), "OPEN", now_iso, closed_at=None,
                                    reverse_status="OPEN")
    return return_id, errors, [Event("returns/reopen", rest_returns.status(conn, return_id), now_iso)] if return_id else []


def cancel(conn, return_gid: str, now_iso: str) -> tuple[int | None, list[dict], list[Event]]:
    row, errors = _load(conn, return_gid, ["id"])
    if row is not None:
        worked = conn.execute("SELECT coalesce(sum(processed_quantity + refunded_quantity), 0) AS n FROM return_line_items"
                              " WHERE return_id = ?", (row["id"],)).fetchone()["n"]
        if worked:
            return None, [_error(["id"], "A return can only be canceled before any of it was processed or refunded.",
                                 "INVALID_STATE")], []
    return_id, errors = _transition(conn, return_gid, ["id"], ("REQUESTED", "OPEN"), "CANCELED", now_iso,
                                    reverse_status="CANCELED")
    return return_id, errors, [Event("returns/cancel", rest_returns.status(conn, return_id), now_iso)] if return_id else []


@dataclass(frozen=True)
class Disposition:
    reverse_line_item_gid: str
    quantity: int
    type: str
    location_gid: str | None


@dataclass(frozen=True)
class ProcessLine:
    return_line_item_gid: str
    quantity: int
    dispositions: tuple[Disposition, ...] = ()


@dataclass(frozen=True)
class ProcessAsk:
    return_gid: str
    lines: list[ProcessLine]
    refund_amount: Decimal | None = None  # None: no refund issued
    refund_parent_gids: tuple[str, ...] = ()
    allow_over_refunding: bool = False
    note: str | None = None


def _disposition_errors(conn, rli: sqlite3.Row, line: ProcessLine, path: list[str]
                        ) -> tuple[list[tuple[Disposition, int | None]], list[dict]]:
    planned: list[tuple[Disposition, int | None]] = []
    errors: list[dict] = []
    if sum(d.quantity for d in line.dispositions) > line.quantity:
        errors.append(_error(path + ["dispositions"], "The dispositions dispose of more units than are processed.",
                             "LESS_THAN_OR_EQUAL_TO"))
    for n, disposition in enumerate(line.dispositions):
        where = path + ["dispositions", str(n)]
        if number_of(disposition.reverse_line_item_gid, "ReverseFulfillmentOrderLineItem") != rli["reverse_line_item_id"]:
            errors.append(_error(where + ["reverseFulfillmentOrderLineItemId"], "The reverse fulfillment order line item "
                                 "is not the one of this return line item.", "INVALID"))
            continue
        if disposition.quantity <= 0:
            errors.append(_error(where + ["quantity"], "Quantity must be greater than 0.", "GREATER_THAN"))
            continue
        location_id = number_of(disposition.location_gid, "Location") if disposition.location_gid else None
        if disposition.type == "RESTOCKED":
            item = conn.execute("SELECT inventory_item_id FROM line_items WHERE id = ?", (rli["line_item_id"],)).fetchone()
            if location_id is None:
                errors.append(_error(where + ["locationId"], "A restocked item needs the location it is restocked at.",
                                     "BLANK"))
                continue
            if item["inventory_item_id"] is None or level_row(conn, item["inventory_item_id"], location_id) is None:
                errors.append(_error(where + ["locationId"], "The item isn't stocked at that location.", "INVALID"))
                continue
        planned.append((disposition, location_id))
    return planned, errors


def process(conn: sqlite3.Connection, next_id: NextId, ask: ProcessAsk, now_iso: str
            ) -> tuple[int | None, list[dict], list[Event]]:
    row, errors = _load(conn, ask.return_gid, ["input", "returnId"])
    if row is None:
        return None, errors, []
    if row["status"] != "OPEN":
        return None, [_error(["input", "returnId"], f"The return is {row['status'].lower()}: only an open return can be "
                                                   "processed.", "INVALID_STATE")], []
    if not ask.lines:
        return None, [_error(["input", "returnLineItems"], "Nothing to process.", "BLANK")], []
    work: list[tuple[sqlite3.Row, ProcessLine, list[tuple[Disposition, int | None]]]] = []
    for index, line in enumerate(ask.lines):
        path = ["input", "returnLineItems", str(index)]
        rli_id = number_of(line.return_line_item_gid, "ReturnLineItem")
        rli = conn.execute("SELECT * FROM return_line_items WHERE id = ? AND return_id = ?",
                           (rli_id, row["id"])).fetchone() if rli_id else None
        if rli is None:
            errors.append(_error(path + ["id"], "Return line item does not exist on this return.", "NOT_FOUND"))
            continue
        processable = rli["quantity"] - rli["processed_quantity"] - sum(w[1].quantity for w in work if w[0]["id"] == rli["id"])
        if not 0 < line.quantity <= processable:
            errors.append(_error(path + ["quantity"], f"Only {processable} units of this line can be processed.",
                                 "LESS_THAN_OR_EQUAL_TO"))
            continue
        planned, problems = _disposition_errors(conn, rli, line, path)
        errors += problems
        work.append((rli, line, planned))
    sale = f"gid://shopify/OrderTransaction/{sale_transaction_id(row['order_id'])}"
    for n, parent in enumerate(ask.refund_parent_gids):
        if parent != sale:
            errors.append(_error(["input", "financialTransfer", "issueRefund", "orderTransactions", str(n), "parentId"],
                                 "The parent transaction is not a payment of this order.", "INVALID"))
    if errors:
        return None, errors, []
    events: list[Event] = []
    for rli, line, planned in work:
        conn.execute("UPDATE return_line_items SET processed_quantity = processed_quantity + ? WHERE id = ?",
                     (line.quantity, rli["id"]))
        for disposition, location_id in planned:
            conn.execute("INSERT INTO return_dispositions(id, reverse_line_item_id, type, location_id, quantity, created_at)"
                         " VALUES (?,?,?,?,?,?)", (next_id("ReverseFulfillmentOrderDisposition"), rli["reverse_line_item_id"],
                                                   disposition.type, location_id, disposition.quantity, now_iso))
            if disposition.type == "RESTOCKED":
                assert location_id is not None  # _disposition_errors refused a restock without a location
                item_id = conn.execute("SELECT inventory_item_id FROM line_items WHERE id = ?",
                                       (rli["line_item_id"],)).fetchone()["inventory_item_id"]
                apply_delta(conn, item_id, location_id, "available", disposition.quantity, now_iso)
                put_on_shelf(conn, item_id, location_id, disposition.quantity, now_iso)
                events.append(inventory_level_event(conn, item_id, location_id, now_iso))
    if ask.refund_amount is not None:
        refund_id, refund_errors, refund_events = create_refund(conn, next_id, RefundAsk(
            row["order_id"], [RefundLine(rli["line_item_id"], line.quantity, "NO_RESTOCK") for rli, line, _ in work],
            ask.refund_amount, ask.note, row["id"], ask.allow_over_refunding,
            lines_field=["input", "returnLineItems"]), now_iso)
        if refund_id is None:
            raise RefundRefused(refund_errors)
        for rli, line, _ in work:
            conn.execute("UPDATE return_line_items SET refunded_quantity = refunded_quantity + ? WHERE id = ?",
                         (line.quantity, rli["id"]))
        events = refund_events + events
    conn.execute("UPDATE returns SET updated_at = ? WHERE id = ?", (now_iso, row["id"]))
    _touch_order(conn, row["order_id"], now_iso)
    return row["id"], [], [Event("returns/process", rest_returns.full(conn, row["id"]), now_iso)] + events


class RefundRefused(Exception):
    """returnProcess's refund was refused after its stock moved: the caller rolls the whole
    call back (a ReturnUserError answer, nothing changed)."""

    def __init__(self, errors: list[dict]) -> None:
        super().__init__("; ".join(e["message"] for e in errors))
        self.errors = [dict(e, code="INVALID") for e in errors]


def return_status_of_order(conn: sqlite3.Connection, order_id: int) -> str:
    """Order.returnStatus: the most telling status of the order's returns."""
    statuses = {r["status"] for r in conn.execute("SELECT status FROM returns WHERE order_id = ?", (order_id,))}
    if "REQUESTED" in statuses:
        return "RETURN_REQUESTED"
    if "OPEN" in statuses:
        return "IN_PROGRESS"
    if "CLOSED" in statuses:
        return "RETURNED"
    return "NO_RETURN"
