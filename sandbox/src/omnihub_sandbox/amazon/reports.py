"""Reports API 2021-06-30: the merchant listings report, made as Amazon makes it.

The flow is Amazon's: createReport answers 202 with a reportId; the report waits
IN_QUEUE, runs IN_PROGRESS and ends DONE (or CANCELLED, when there is nothing to report)
after the configured delays; getReport then names its reportDocumentId, and
getReportDocument hands out a short-lived presigned URL (and `compressionAlgorithm`
GZIP when the document is compressed). The document is made at the moment the report
finishes on the sandbox clock, whether or not anyone polls, from the listings as they
are then: a snapshot, which is what makes a report a fair read of a large catalog that
searchListingsItems would page through only to its first 1,000.

``GET_MERCHANT_LISTINGS_ALL_DATA`` is the one type served: tab-separated, a header line
of Amazon's column names, every listing whatever its status (one with no sellable units
is Inactive), the merchant-fulfilled quantity in ``quantity`` and ``DEFAULT`` in
``fulfillment-channel``. Its documents are stored beside the feeds' and served by the
same presigned URLs (feeds.py). Report schedules are not simulated.
"""

from __future__ import annotations

import base64
import gzip
import json
import re
import sqlite3
import uuid
import zlib
from typing import Any

from fastapi import APIRouter, Request
from fastapi.responses import JSONResponse, Response

from ..spapi.lwa import operation
from ..spapi.clock import iso, parse_iso
from .context import SandboxContext
from ..spapi.errors import invalid_input, not_found
from .feeds import presigned_url

router = APIRouter()

LISTINGS_ALL = "GET_MERCHANT_LISTINGS_ALL_DATA"
SUPPORTED_REPORT_TYPES = {LISTINGS_ALL}
STATUSES = ("CANCELLED", "DONE", "FATAL", "IN_PROGRESS", "IN_QUEUE")
REPORT_ID = re.compile(r"^\d{1,20}$")
DOCUMENT_ID = re.compile(r"^amzn1\.spdoc\.1\.4\.[a-z]{2}\.[0-9a-f-]{36}\.T[0-9A-Z]+$")
BASE = "/reports/2021-06-30"
#: Amazon's columns of the "all listings" report, in its order.
LISTINGS_COLUMNS = (
    "item-name", "item-description", "listing-id", "seller-sku", "price", "quantity", "open-date", "image-url",
    "item-is-marketplace", "product-id-type", "zshop-shipping-fee", "item-note", "item-condition",
    "zshop-category1", "zshop-browse-path", "zshop-storefront-feature", "asin1", "asin2", "asin3",
    "will-ship-internationally", "expedited-shipping", "zshop-boldface", "product-id",
    "bid-for-featured-placement", "add-delete", "pending-quantity", "fulfillment-channel",
    "merchant-shipping-group", "status",
)
CONDITION_CODES = {"new_new": "11", "used_like_new": "1", "used_very_good": "2", "used_good": "3",
                   "used_acceptable": "4", "collectible_like_new": "5"}
CONTENT_TYPE = "text/tab-separated-values; charset=UTF-8"


def _json_body(raw: bytes) -> Any:
    try:
        return json.loads(raw or b"null")
    except ValueError:
        raise invalid_input("Invalid input", "The request body is not valid JSON.") from None


def _time(body: dict, name: str) -> float | None:
    if name not in body:
        return None
    value = body[name]
    try:
        if not isinstance(value, str):
            raise ValueError(value)
        return parse_iso(value)
    except ValueError:
        raise invalid_input("Invalid input", f"{name} must be an ISO 8601 date-time.") from None


@router.post(f"{BASE}/reports", status_code=202)
async def create_report(request: Request, sandbox: SandboxContext = operation("createReport")) -> JSONResponse:
    body = _json_body(await request.body())
    if not isinstance(body, dict):
        raise invalid_input("Invalid input", "A CreateReportSpecification body is required.")
    report_type, marketplaces = body.get("reportType"), body.get("marketplaceIds")
    if not isinstance(report_type, str) or not report_type:
        raise invalid_input("Invalid input", "reportType is required.")
    if not isinstance(marketplaces, list) or not 1 <= len(marketplaces) <= 25 or not all(isinstance(m, str) for m in marketplaces):
        raise invalid_input("Invalid input", "marketplaceIds must list 1 to 25 marketplace ids.")
    options = body.get("reportOptions")
    if options is not None and not (isinstance(options, dict) and all(isinstance(v, str) for v in options.values())):
        raise invalid_input("Invalid input", "reportOptions must map names to strings.")
    start, end = _time(body, "dataStartTime"), _time(body, "dataEndTime")
    now = sandbox.now()
    if (start is not None and start > now) or (end is not None and end > now):
        raise invalid_input("Invalid input", "dataStartTime and dataEndTime must not be in the future.")
    if report_type not in SUPPORTED_REPORT_TYPES:
        raise invalid_input("Invalid input", f"Report type {report_type} is not supported; use {LISTINGS_ALL}.")
    if sandbox.config.marketplace_id not in marketplaces:
        raise invalid_input("Invalid input", f"The seller is not registered in marketplace(s) {', '.join(marketplaces)}.")
    report_id = str(60_000_000_000 + sandbox.store.next_sequence("report"))
    with sandbox.store.tx() as db:
        db.execute(
            "INSERT INTO reports (report_id, report_type, marketplace_ids, report_options, data_start, data_end, "
            "created_at, status) VALUES (?, ?, ?, ?, ?, ?, ?, 'IN_QUEUE')",
            (report_id, report_type, json.dumps(marketplaces), json.dumps(options) if options else None, start, end, now),
        )
    return JSONResponse({"reportId": report_id}, status_code=202)


def render_report(row: sqlite3.Row) -> dict[str, Any]:
    report: dict[str, Any] = {
        "reportId": row["report_id"], "reportType": row["report_type"],
        "marketplaceIds": json.loads(row["marketplace_ids"]), "createdTime": iso(row["created_at"], millis=True),
        "processingStatus": row["status"],
    }
    for key, column in (("dataStartTime", "data_start"), ("dataEndTime", "data_end"),
                        ("processingStartTime", "started_at"), ("processingEndTime", "ended_at")):
        if row[column] is not None:
            report[key] = iso(row[column], millis=True)
    if row["document_id"]:
        report["reportDocumentId"] = row["document_id"]
    return report


@router.get(f"{BASE}/reports/{{report_id}}")
def get_report(report_id: str, sandbox: SandboxContext = operation("getReport")) -> JSONResponse:
    if not REPORT_ID.match(report_id):
        raise invalid_input("Invalid input", f"Invalid reportId: {report_id}.")
    with sandbox.store.tx() as db:
        row = db.execute("SELECT * FROM reports WHERE report_id = ?", (report_id,)).fetchone()
    if row is None:
        raise not_found("Not found", f"No report {report_id} for this seller.")
    return JSONResponse(render_report(row))


def _listed(request: Request, name: str) -> list[str] | None:
    """An array query parameter, as SP-API takes it (comma-separated, or repeated)."""
    values = [v for raw in request.query_params.getlist(name) for v in raw.split(",") if v]
    return values or None


def _page_token(after: tuple[float, str], query: dict) -> str:
    return base64.urlsafe_b64encode(json.dumps({"after": after, "query": query}).encode()).decode()


@router.get(f"{BASE}/reports")
def get_reports(request: Request, sandbox: SandboxContext = operation("getReports")) -> JSONResponse:
    token = request.query_params.get("nextToken")
    if token:
        if len(request.query_params) > 1:
            raise invalid_input("Invalid input", "nextToken must be the only parameter.")
        try:
            state = json.loads(base64.urlsafe_b64decode(token.encode()))
            query, after = state["query"], tuple(state["after"])
        except (ValueError, KeyError, TypeError):
            raise invalid_input("Invalid input", "nextToken is not valid.") from None
    else:
        types, statuses = _listed(request, "reportTypes"), _listed(request, "processingStatuses")
        if types is None:
            raise invalid_input("Invalid input", "reportTypes or nextToken is required.")
        if len(types) > 10:
            raise invalid_input("Invalid input", "reportTypes takes at most 10 report types.")
        if statuses and not set(statuses) <= set(STATUSES):
            raise invalid_input("Invalid input", f"processingStatuses must be among {', '.join(STATUSES)}.")
        try:
            size = int(request.query_params.get("pageSize", "10"))
        except ValueError:
            raise invalid_input("Invalid input", "pageSize must be an integer.") from None
        if not 1 <= size <= 100:
            raise invalid_input("Invalid input", "pageSize must be 1 to 100.")
        now = sandbox.now()
        try:
            since = parse_iso(request.query_params["createdSince"]) if "createdSince" in request.query_params \
                else now - 90 * 86400  # reports are kept 90 days
            until = parse_iso(request.query_params["createdUntil"]) if "createdUntil" in request.query_params else now
        except ValueError:
            raise invalid_input("Invalid input", "createdSince and createdUntil must be ISO 8601 date-times.") from None
        query = {"types": types, "statuses": statuses, "size": size, "since": since, "until": until,
                 "marketplaces": _listed(request, "marketplaceIds")}
        after = (-1.0, "")
    sql = "SELECT * FROM reports WHERE created_at >= ? AND created_at <= ? AND (created_at, report_id) > (?, ?)"
    args: list[Any] = [query["since"], query["until"], after[0], after[1]]
    sql += f" AND report_type IN ({','.join('?' * len(query['types']))})"
    args += query["types"]
    if query["statuses"]:
        sql += f" AND status IN ({','.join('?' * len(query['statuses']))})"
        args += query["statuses"]
    with sandbox.store.tx() as db:
        rows = db.execute(sql + " ORDER BY created_at, report_id LIMIT ?", (*args, query["size"] + 1)).fetchall()
    if query["marketplaces"]:
        rows = [r for r in rows if set(json.loads(r["marketplace_ids"])) & set(query["marketplaces"])]
    page, more = rows[:query["size"]], len(rows) > query["size"]
    answer: dict[str, Any] = {"reports": [render_report(r) for r in page]}
    if more:
        answer["nextToken"] = _page_token((page[-1]["created_at"], page[-1]["report_id"]), query)
    return JSONResponse(answer)


@router.delete(f"{BASE}/reports/{{report_id}}")
def cancel_report(report_id: str, sandbox: SandboxContext = operation("cancelReport")) -> Response:
    if not REPORT_ID.match(report_id):
        raise invalid_input("Invalid input", f"Invalid reportId: {report_id}.")
    with sandbox.store.tx() as db:
        row = db.execute("SELECT status FROM reports WHERE report_id = ?", (report_id,)).fetchone()
        if row is None:
            raise not_found("Not found", f"No report {report_id} for this seller.")
        if row["status"] != "IN_QUEUE":
            raise invalid_input("Invalid input", f"Report {report_id} is {row['status']}: only a report IN_QUEUE can "
                                "be cancelled.")
        db.execute("UPDATE reports SET status = 'CANCELLED', ended_at = ? WHERE report_id = ?", (sandbox.now(), report_id))
    return Response(status_code=200)


@router.get(f"{BASE}/documents/{{document_id}}")
def get_report_document(document_id: str, request: Request,
                        sandbox: SandboxContext = operation("getReportDocument")) -> JSONResponse:
    if not DOCUMENT_ID.match(document_id):
        raise invalid_input("Invalid input", f"Invalid reportDocumentId: {document_id}.")
    with sandbox.store.tx() as db:
        row = db.execute("SELECT content_type FROM feed_documents WHERE feed_document_id = ? AND purpose = 'report'",
                         (document_id,)).fetchone()
    if row is None:
        raise not_found("Not found", f"No report document {document_id} for this seller.")
    answer = {"reportDocumentId": document_id, "url": presigned_url(sandbox, request, "GET", document_id)}
    if row["content_type"] == "application/gzip":
        answer["compressionAlgorithm"] = "GZIP"
    return JSONResponse(answer)


# -- making the reports ------------------------------------------------------------------


def listings_document(db: sqlite3.Connection, sandbox: SandboxContext) -> tuple[bytes, int]:
    """The all-listings report as Amazon writes it (tab-separated, a header line); and
    how many listings it holds."""
    lines = ["\t".join(LISTINGS_COLUMNS)]
    count = 0
    for row in db.execute("SELECT * FROM listings ORDER BY sku"):
        count += 1
        quantity = int(row["quantity"])
        values = {
            "item-name": row["item_name"], "listing-id": f"{zlib.crc32(row['sku'].encode()):010d}{row['asin'][-3:]}",
            "seller-sku": row["sku"], "price": f"{row['price_cents'] / 100:.2f}", "quantity": str(quantity),
            "open-date": iso(row["created_at"]).replace("T", " ").replace("Z", " UTC"),
            "item-is-marketplace": "y", "product-id-type": "1", "item-condition": CONDITION_CODES.get(row["condition_type"], "11"),
            "asin1": row["asin"], "product-id": row["asin"], "fulfillment-channel": "DEFAULT",
            "merchant-shipping-group": "Migrated Template", "status": "Active" if quantity > 0 else "Inactive",
        }
        lines.append("\t".join(_clean(values.get(c, "")) for c in LISTINGS_COLUMNS))
    return ("\n".join(lines) + "\n").encode("utf-8"), count


def _clean(value: str) -> str:
    return str(value).replace("\t", " ").replace("\r", " ").replace("\n", " ")


def _new_document_id(sandbox: SandboxContext) -> str:
    seq = sandbox.store.next_sequence("report_document")
    return f"amzn1.spdoc.1.4.na.{uuid.uuid4()}.T{seq:012d}"


def advance_reports(sandbox: SandboxContext) -> None:
    """Move reports along IN_QUEUE -> IN_PROGRESS -> DONE (CANCELLED: no data) as the clock says."""
    cfg = sandbox.config
    now = sandbox.now()
    with sandbox.store.tx() as db:
        rows = db.execute("SELECT * FROM reports WHERE status IN ('IN_QUEUE', 'IN_PROGRESS') "
                          "ORDER BY created_at, report_id").fetchall()
        for row in rows:
            start = row["created_at"] + cfg.report_queue_seconds
            end = start + cfg.report_processing_seconds
            if now < start:
                continue
            if now < end:
                if row["status"] == "IN_QUEUE":
                    db.execute("UPDATE reports SET status = 'IN_PROGRESS', started_at = ? WHERE report_id = ?",
                               (start, row["report_id"]))
                continue
            content, count = listings_document(db, sandbox)
            if not count:  # Amazon cancels a report with nothing in it
                db.execute("UPDATE reports SET status = 'CANCELLED', started_at = ?, ended_at = ? WHERE report_id = ?",
                           (start, end, row["report_id"]))
                continue
            gzipped = cfg.report_compression == "GZIP"
            document_id = _new_document_id(sandbox)
            db.execute(
                "INSERT INTO feed_documents (feed_document_id, content_type, content, purpose, created_at) "
                "VALUES (?, ?, ?, 'report', ?)",
                (document_id, "application/gzip" if gzipped else CONTENT_TYPE,
                 gzip.compress(content, mtime=0) if gzipped else content, end),
            )
            db.execute("UPDATE reports SET status = 'DONE', started_at = ?, ended_at = ?, document_id = ? "
                       "WHERE report_id = ?", (start, end, document_id, row["report_id"]))
            sandbox.store.bump("reports_done")
