"""Returns and refunds mutations: returnCreate, returnRequest, returnApproveRequest,
returnDeclineRequest, returnProcess, returnClose, returnReopen, returnCancel (returns.py
has the rules) and refundCreate (refunds.py; ``@idempotent`` since 2026-04)."""

from __future__ import annotations

from decimal import Decimal, InvalidOperation

from .. import returns
from ..gid import number_of
from ..refunds import RefundAsk, RefundLine, create_refund, sale_transaction_id
from .idempotency import MISMATCH_MESSAGE, run_once
from .return_views import load_refund, load_return
from .views import load_order


def _answer(info, return_id, errors) -> dict:
    return {"return": load_return(info, return_id) if return_id and not errors else None, "userErrors": errors}


def _run(info, operation, *args) -> dict:
    ctx = info.context
    with ctx.store.tx() as conn:
        return_id, errors, events = operation(conn, *args, ctx.now_iso())
    ctx.events.extend(events)
    return _answer(info, return_id, errors)


def _lines(items: list[dict], reason_key: str) -> list[returns.ReturnLineAsk]:
    return [returns.ReturnLineAsk(i["fulfillmentLineItemId"], i["quantity"], i.get(reason_key) or "UNKNOWN",
                                  i.get("returnReasonNote") or "", i.get("customerNote")) for i in items]


def return_create(info, returnInput: dict) -> dict:
    ctx = info.context
    return _run(info, lambda conn, now: returns.open_return(
        conn, ctx.shop.next_id, returnInput["orderId"], _lines(returnInput["returnLineItems"], "returnReason"), "OPEN",
        "returnInput", now))


def return_request(info, input: dict) -> dict:
    ctx = info.context
    return _run(info, lambda conn, now: returns.open_return(
        conn, ctx.shop.next_id, input["orderId"], _lines(input["returnLineItems"], "returnReason"), "REQUESTED",
        "input", now))


def return_approve_request(info, input: dict) -> dict:
    return _run(info, returns.approve, input["id"])


def return_decline_request(info, input: dict) -> dict:
    return _run(info, returns.decline, input["id"], input["declineReason"], input.get("declineNote"))


def return_close(info, id: str) -> dict:
    return _run(info, returns.close, id)


def return_reopen(info, id: str) -> dict:
    return _run(info, returns.reopen, id)


def return_cancel(info, id: str, notifyCustomer: bool = False) -> dict:
    return _run(info, returns.cancel, id)


def _amount(value, field: list[str]) -> tuple[Decimal | None, list[dict]]:
    try:
        return Decimal(str(value)), []
    except (InvalidOperation, ValueError):
        return None, [{"field": field, "message": f"{value!r} is not an amount.", "code": "INVALID"}]


def return_process(info, input: dict) -> dict:
    ctx = info.context
    lines = [returns.ProcessLine(line["id"], line["quantity"], tuple(
        returns.Disposition(d["reverseFulfillmentOrderLineItemId"], d["quantity"], d["dispositionType"], d.get("locationId"))
        for d in line.get("dispositions") or ())) for line in input.get("returnLineItems") or []]
    issue = ((input.get("financialTransfer") or {}).get("issueRefund"))
    amount, parents, errors = None, (), []
    if issue is not None:
        amount = Decimal(0)
        for n, tx in enumerate(issue["orderTransactions"]):
            value, problems = _amount(tx["transactionAmount"]["amount"], [
                "input", "financialTransfer", "issueRefund", "orderTransactions", str(n), "transactionAmount"])
            errors += problems
            amount += value or 0
        parents = tuple(tx["parentId"] for tx in issue["orderTransactions"])
    if errors:
        return _answer(info, None, errors)
    ask = returns.ProcessAsk(input["returnId"], lines, amount, parents, bool(issue and issue.get("allowOverRefunding")),
                             input.get("note"))
    try:
        return _run(info, returns.process, ctx.shop.next_id, ask)
    except returns.RefundRefused as refused:  # the transaction rolled back: nothing changed
        return _answer(info, None, refused.errors)


def refund_create(info, input: dict) -> dict:
    """refundCreate: once per idempotency key; the answer names the refund."""
    ctx = info.context
    order_id = number_of(input["orderId"], "Order")
    errors: list[dict] = []
    amount = Decimal(0)
    for n, tx in enumerate(input.get("transactions") or []):
        path = ["transactions", str(n)]
        value, problems = _amount(tx["amount"], path + ["amount"])
        errors += [{"field": e["field"], "message": e["message"]} for e in problems]
        if tx["kind"] != "REFUND":
            errors.append({"field": path + ["kind"], "message": "A refund's transactions are of kind REFUND."})
        if number_of(tx["orderId"], "Order") != order_id:
            errors.append({"field": path + ["orderId"], "message": "The transaction is not for this order."})
        if tx.get("parentId") and order_id is not None \
                and number_of(tx["parentId"], "OrderTransaction") != sale_transaction_id(order_id):
            errors.append({"field": path + ["parentId"], "message": "The parent transaction is not a payment of this order."})
        amount += value or 0
    lines = [RefundLine(number_of(line["lineItemId"], "LineItem"), line["quantity"], line.get("restockType") or "NO_RESTOCK",
                        number_of(line["locationId"], "Location") if line.get("locationId") else None)
             for line in input.get("refundLineItems") or []]

    def apply(conn) -> tuple[dict, list]:
        if errors:
            return {"refund_id": None, "order_id": None, "userErrors": errors}, []
        if order_id is None:
            return {"refund_id": None, "order_id": None,
                    "userErrors": [{"field": ["orderId"], "message": "Order does not exist."}]}, []
        refund_id, problems, events = create_refund(conn, ctx.shop.next_id, RefundAsk(
            order_id, lines, amount, input.get("note"), allow_over_refunding=bool(input.get("allowOverRefunding"))),
            ctx.now_iso())
        return {"refund_id": refund_id, "order_id": order_id if refund_id else None, "userErrors": problems}, events

    answer = run_once(info, input, apply, {"refund_id": None, "order_id": None, "userErrors": [
        {"field": ["input"], "message": MISMATCH_MESSAGE}]})
    return {"refund": (lambda info: load_refund(info, answer["refund_id"])) if answer["refund_id"] else None,
            "order": (lambda info: load_order(info, answer["order_id"])) if answer["order_id"] else None,
            "userErrors": answer["userErrors"]}


def root() -> dict:
    return {
        "refundCreate": refund_create,
        "returnApproveRequest": return_approve_request,
        "returnCancel": return_cancel,
        "returnClose": return_close,
        "returnCreate": return_create,
        "returnDeclineRequest": return_decline_request,
        "returnProcess": return_process,
        "returnReopen": return_reopen,
        "returnRequest": return_request,
    }
