"""Feeds API: ``POST /v3/feeds?feedType=inventory|MP_INVENTORY``, ``GET /v3/feeds/{feedId}``
(``includeDetails``, ``offset``, ``limit``) and ``GET /v3/feeds``.

The file comes as Walmart takes it, a multipart ``file`` part (a raw JSON body is taken
too); the answer is ``{feedId}`` at once. The feed then stays RECEIVED for
``feed_received_seconds``, INPROGRESS for ``feed_processing_seconds``, and ends
PROCESSED (items judged one by one, the good ones applied at that moment) or ERROR (the
file as a whole was not an inventory feed). Until it ends its items read INPROGRESS. A
file over ``feed_max_bytes`` or with more than ``feed_max_items`` items is 413.
"""

from __future__ import annotations

import json
import secrets
import sqlite3
from typing import Any

from fastapi import APIRouter, Request
from fastapi.responses import JSONResponse

from .clock import epoch_ms
from .context import SandboxContext
from .errors import FEEDS, WalmartError, bad_param, not_found, too_large
from .gateway import api
from .inventory import apply_quantity
from .inventory_feed import FEED_TYPES, judge_item, parse_feed

router = APIRouter()


async def _file(request: Request) -> tuple[bytes, str | None]:
    content_type = request.headers.get("content-type", "")
    if content_type.startswith("multipart/form-data"):
        form = await request.form()
        part = form.get("file")
        if part is None or isinstance(part, str):
            raise WalmartError("MISSING_REQUEST_PARAM", "The multipart body needs a file part.", field="file",
                               service=FEEDS)
        return await part.read(), part.filename
    return await request.body(), None


@router.post("/v3/feeds")
async def submit_feed(request: Request, sandbox: SandboxContext = api("feeds_submit", feed=True)) -> JSONResponse:
    feed_type = request.query_params.get("feedType")
    if not feed_type:
        raise WalmartError("MISSING_REQUEST_PARAM", "feedType is required.", field="feedType", service=FEEDS)
    if feed_type not in FEED_TYPES:
        raise bad_param("feedType", f"This sandbox takes feedType inventory or MP_INVENTORY, not {feed_type}.", FEEDS)
    raw, file_name = await _file(request)
    if len(raw) > sandbox.config.feed_max_bytes:
        raise too_large(sandbox.config.feed_max_bytes, "feed file")
    parsed = parse_feed(raw)
    if len(parsed.items) > sandbox.config.feed_max_items:
        raise WalmartError("REQUEST_ENTITY_TOO_LARGE", f"A feed carries at most {sandbox.config.feed_max_items} items.",
                           info="Payload too large.")
    feed_id = secrets.token_hex(16).upper() + "@AQMBAQA"
    now = sandbox.now()
    with sandbox.store.tx() as db:
        db.execute("INSERT INTO feeds (feed_id, feed_type, received_at, status, file_name, modified_at, ingestion_errors) "
                   "VALUES (?, ?, ?, 'RECEIVED', ?, ?, ?)",
                   (feed_id, feed_type, now, file_name, now, json.dumps([parsed.fatal] if parsed.fatal else [])))
        for index, item in enumerate(parsed.items):
            sku = item.get("sku") if isinstance(item, dict) and isinstance(item.get("sku"), str) else None
            db.execute("INSERT INTO feed_items (feed_id, idx, sku, payload, status) VALUES (?, ?, ?, ?, 'INPROGRESS')",
                       (feed_id, index, sku, json.dumps(item)))
    sandbox.store.bump("feeds_received")
    return JSONResponse({"feedId": feed_id})


def advance_feeds(sandbox: SandboxContext) -> None:
    """Move feeds on to where they should be by now, processing each at its due moment."""
    cfg = sandbox.config
    now = sandbox.now()
    with sandbox.store.tx() as db:
        for feed in db.execute("SELECT * FROM feeds WHERE status IN ('RECEIVED', 'INPROGRESS') ORDER BY received_at")\
                .fetchall():
            started = feed["received_at"] + cfg.feed_received_seconds
            done = started + cfg.feed_processing_seconds
            if now >= done:
                _process(sandbox, db, feed, done)
            elif now >= started and feed["status"] == "RECEIVED":
                db.execute("UPDATE feeds SET status = 'INPROGRESS', modified_at = ? WHERE feed_id = ?",
                           (started, feed["feed_id"]))


def _process(sandbox: SandboxContext, db: sqlite3.Connection, feed: sqlite3.Row, when: float) -> None:
    if json.loads(feed["ingestion_errors"]):
        db.execute("UPDATE feeds SET status = 'ERROR', modified_at = ? WHERE feed_id = ?", (when, feed["feed_id"]))
        return
    nodes = {n.id for n in sandbox.config.ship_nodes}
    for row in db.execute("SELECT idx, payload FROM feed_items WHERE feed_id = ? ORDER BY idx", (feed["feed_id"],))\
            .fetchall():
        updates, errors = judge_item(db, feed["feed_type"], json.loads(row["payload"]), nodes,
                                     sandbox.config.default_ship_node)
        sku = json.loads(row["payload"]).get("sku") if not errors else None
        for node, amount in updates:
            apply_quantity(sandbox, db, str(sku), node, amount, when)
        db.execute("UPDATE feed_items SET status = ?, errors = ? WHERE feed_id = ? AND idx = ?",
                   ("DATA_ERROR" if errors else "SUCCESS", json.dumps(errors), feed["feed_id"], row["idx"]))
    db.execute("UPDATE feeds SET status = 'PROCESSED', modified_at = ? WHERE feed_id = ?", (when, feed["feed_id"]))
    sandbox.store.bump("feeds_processed")


def _counts(db: sqlite3.Connection, feed_id: str) -> dict[str, int]:
    rows = {r["status"]: r["n"] for r in db.execute("SELECT status, count(*) AS n FROM feed_items WHERE feed_id = ? "
                                                    "GROUP BY status", (feed_id,))}
    failed = rows.get("DATA_ERROR", 0) + rows.get("SYSTEM_ERROR", 0) + rows.get("TIMEOUT_ERROR", 0)
    return {"itemsReceived": sum(rows.values()), "itemsSucceeded": rows.get("SUCCESS", 0), "itemsFailed": failed,
            "itemsProcessing": rows.get("INPROGRESS", 0), "itemDataErrorCount": rows.get("DATA_ERROR", 0),
            "itemSystemErrorCount": rows.get("SYSTEM_ERROR", 0), "itemTimeoutErrorCount": rows.get("TIMEOUT_ERROR", 0)}


def _bounded(request: Request, name: str, default: int, top: int) -> int:
    raw = request.query_params.get(name, str(default))
    if not raw.isdigit() or int(raw) > top:
        raise bad_param(name, f"{name} must be an integer from 0 to {top}.", FEEDS)
    return int(raw)


@router.get("/v3/feeds/{feed_id}")
def feed_status(feed_id: str, request: Request, sandbox: SandboxContext = api("feeds_status")) -> JSONResponse:
    include = request.query_params.get("includeDetails", "false")
    if include not in ("true", "false"):
        raise bad_param("includeDetails", "includeDetails must be true or false.", FEEDS)
    offset = _bounded(request, "offset", 0, 10**9)
    limit = _bounded(request, "limit", 50, 1000)
    with sandbox.store.tx() as db:
        feed = db.execute("SELECT * FROM feeds WHERE feed_id = ?", (feed_id,)).fetchone()
        if feed is None:
            raise not_found(f"No feed {feed_id} for this seller.", FEEDS)
        counts = _counts(db, feed_id)
        body: dict[str, Any] = {"feedId": feed_id, "feedStatus": feed["status"],
                                "ingestionErrors": {"ingestionError": json.loads(feed["ingestion_errors"])},
                                **{k: counts[k] for k in ("itemsReceived", "itemsSucceeded", "itemsFailed",
                                                          "itemsProcessing")},
                                "offset": offset, "limit": limit}
        if include == "true":
            rows = db.execute("SELECT * FROM feed_items WHERE feed_id = ? ORDER BY idx LIMIT ? OFFSET ?",
                              (feed_id, limit, offset)).fetchall()
            details = []
            for row in rows:
                entry: dict[str, Any] = {"martId": 0}
                if row["sku"]:
                    entry["sku"] = row["sku"]
                entry.update({"index": row["idx"], "ingestionStatus": row["status"],
                              "ingestionErrors": {"ingestionError": json.loads(row["errors"])}})
                details.append(entry)
            body["itemDetails"] = {"itemIngestionStatus": details}
    return JSONResponse(body)


@router.get("/v3/feeds")
def all_feeds(request: Request, sandbox: SandboxContext = api("feeds_list")) -> JSONResponse:
    offset = _bounded(request, "offset", 0, 10**9)
    limit = _bounded(request, "limit", 50, 50)
    only = request.query_params.get("feedId")
    with sandbox.store.tx() as db:
        where, args = ("WHERE feed_id = ?", [only]) if only else ("", [])
        total = db.execute(f"SELECT count(*) AS n FROM feeds {where}", args).fetchone()["n"]  # noqa: S608
        rows = db.execute(f"SELECT * FROM feeds {where} ORDER BY received_at DESC, feed_id LIMIT ? OFFSET ?",  # noqa: S608
                          (*args, limit, offset)).fetchall()
        feeds = []
        for feed in rows:
            record: dict[str, Any] = {"feedId": feed["feed_id"], "feedSource": "MARKETPLACE_PARTNER",
                                      "feedType": feed["feed_type"], "partnerId": sandbox.config.partner_id}
            counts = _counts(db, feed["feed_id"])
            record.update({k: counts[k] for k in ("itemsReceived", "itemsSucceeded", "itemsFailed", "itemsProcessing")})
            record.update({"feedStatus": feed["status"], "feedDate": epoch_ms(feed["received_at"]),
                           "modifiedDtm": epoch_ms(feed["modified_at"])})
            if feed["file_name"]:
                record["fileName"] = feed["file_name"]
            record.update({k: counts[k] for k in ("itemDataErrorCount", "itemSystemErrorCount", "itemTimeoutErrorCount")})
            feeds.append(record)
    return JSONResponse({"totalResults": total, "offset": offset, "limit": limit, "results": {"feed": feeds}})
