"""Every 202 settles through a transaction: Processing, then Success or Failure.

A submission (an acknowledgement, an inventory update, shipment confirmations, a label
request, an ASN...) is recorded with the request as sent and a due time drawn from the
seed within its kind's processing range (``config.transaction_seconds``). When the
sandbox clock passes it, the kind's processor does the work at that moment, whether or
not anyone is polling, and the transaction ends Success, or Failure with the errors in
the model's shape. A processor may have decided at submission already (an inventory
update's outcome depends on nothing but the update) and only reveal it when due.

Three APIs read them: the Direct Fulfillment Transactions API (``api='df'``), the
Vendor Transaction Status API for retail procurement (``api='retail'``) and the Sandbox
Data API's getOrderScenarios (``api='scenarios'``); each finds only its own.
"""

from __future__ import annotations

import json
import random
import sqlite3
import uuid
from dataclasses import dataclass, field
from datetime import datetime, timezone
from typing import Any, Callable, Mapping

from fastapi import APIRouter
from fastapi.responses import JSONResponse

from ..spapi.errors import invalid_request, not_found
from ..spapi.lwa import operation
from .context import VendorContext
from .usage_plans import DF_TRANSACTIONS, RETAIL_TRANSACTIONS

router = APIRouter()

PROCESSING, SUCCESS, FAILURE = "Processing", "Success", "Failure"


def error(code: str, message: str, details: str = "") -> dict[str, str]:
    return {"code": code, "message": message, "details": details}


@dataclass
class Outcome:
    """What a processor did: the errors (none is Success) and anything to show with it."""

    errors: list[dict[str, str]] = field(default_factory=list)
    result: Any = None


#: kind -> processor(vendor, db, request, submitted_at, completed_at)
Processor = Callable[[VendorContext, sqlite3.Connection, Any, float, float], Outcome]


def _transaction_id(vendor: VendorContext, seq: int, now: float) -> str:
    rng = random.Random(f"amazon-vendor-transaction:{vendor.config.seed}:{seq}")
    stamp = datetime.fromtimestamp(now, tz=timezone.utc).strftime("%Y%m%d%H%M%S")
    return f"{stamp}-{uuid.UUID(int=rng.getrandbits(128), version=4)}"


def submit(vendor: VendorContext, db: sqlite3.Connection, api: str, kind: str, request: Any,
           decided: Outcome | None = None) -> str:
    """Record a submission; return its transactionId. `decided`: an outcome known already."""
    seq = vendor.store.next_sequence("transaction")
    now = vendor.now()
    low, high = vendor.config.processing_range(kind)
    delay = random.Random(f"amazon-vendor-delay:{vendor.config.seed}:{seq}").uniform(low, high)
    transaction_id = _transaction_id(vendor, seq, now)
    db.execute(
        "INSERT INTO transactions (transaction_id, api, kind, request, submitted_at, due_at, status, errors, result) "
        "VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?)",
        (transaction_id, api, kind, json.dumps(request), now, now + delay, PROCESSING,
         json.dumps(decided.errors) if decided else None, json.dumps(decided.result) if decided else None))
    vendor.store.bump(f"transactions_{kind}")
    return transaction_id


def complete_due(vendor: VendorContext, processors: Mapping[str, Processor]) -> int:
    """Settle every transaction whose time has come, oldest due first."""
    done = 0
    with vendor.store.tx() as db:
        due = db.execute("SELECT * FROM transactions WHERE status = ? AND due_at <= ? ORDER BY due_at, transaction_id",
                         (PROCESSING, vendor.now())).fetchall()
        for row in due:
            decided = json.loads(row["errors"]) if row["errors"] is not None else []
            if decided:  # failed at submission already: nothing to do but say so
                outcome = Outcome(decided)
            else:
                outcome = processors[row["kind"]](vendor, db, json.loads(row["request"]), row["submitted_at"],
                                                  row["due_at"])
            status = FAILURE if outcome.errors else SUCCESS
            db.execute("UPDATE transactions SET status = ?, errors = ?, result = ?, completed_at = ? "
                       "WHERE transaction_id = ?",
                       (status, json.dumps(outcome.errors), json.dumps(outcome.result), row["due_at"],
                        row["transaction_id"]))
            vendor.store.bump(f"transactions_{status.lower()}")
            done += 1
    return done


def find(db: sqlite3.Connection, api: str, transaction_id: str) -> sqlite3.Row:
    if not transaction_id.strip() or len(transaction_id) > 200:
        raise invalid_request("Request is missing or has invalid parameters", "transactionId is not valid.")
    row: sqlite3.Row | None = db.execute("SELECT * FROM transactions WHERE transaction_id = ? AND api = ?",
                                         (transaction_id, api)).fetchone()
    if row is None:
        raise not_found("The requested resource was not found.", f"No transaction {transaction_id}.")
    return row


def errors_of(row: sqlite3.Row) -> list[dict[str, str]]:
    return json.loads(row["errors"]) if row["status"] == FAILURE and row["errors"] else []


@router.get("/vendor/directFulfillment/transactions/2021-12-28/transactions/{transaction_id}")
def get_transaction_status(transaction_id: str, vendor: VendorContext = operation(
        f"{DF_TRANSACTIONS}:getTransactionStatus", error_shape="single")) -> JSONResponse:
    with vendor.store.tx() as db:
        row = find(db, "df", transaction_id)
    transaction: dict[str, Any] = {"transactionId": row["transaction_id"], "status": row["status"]}
    if errors_of(row):
        transaction["errors"] = {"errors": errors_of(row)}
    return JSONResponse({"transactionStatus": transaction})


@router.get("/vendor/transactions/v1/transactions/{transaction_id}")
def get_transaction(transaction_id: str,
                    vendor: VendorContext = operation(f"{RETAIL_TRANSACTIONS}:getTransaction")) -> JSONResponse:
    with vendor.store.tx() as db:
        row = find(db, "retail", transaction_id)
    transaction: dict[str, Any] = {"transactionId": row["transaction_id"], "status": row["status"]}
    if errors_of(row):
        transaction["errors"] = errors_of(row)
    return JSONResponse({"payload": {"transactionStatus": transaction}})
