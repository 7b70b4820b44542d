"""Feeds API 2021-06-30 and the presigned document URLs it hands out.

The flow is Amazon's: createFeedDocument returns an id and a short-lived presigned URL;
the client PUTs the document there (with the same Content-Type it declared), then
createFeed points at the document. The feed waits IN_QUEUE, runs IN_PROGRESS and ends
DONE or FATAL after the configured delays; the sandbox does the work at the moment the
feed finishes on the sandbox clock (whether or not anyone is polling), and the
processing report is another feed document, fetched through getFeedDocument.

The presigned URLs are served by the sandbox itself under ``/s3/feeds/``; they carry
an expiry and an HMAC signature the way S3's do, so a client that mangles or reuses
them late gets S3's 403, not a silent success.
"""

from __future__ import annotations

import hashlib
import hmac
import json
import re
import sqlite3
import uuid
from typing import Any
from urllib.parse import urlencode

from fastapi import APIRouter, Request
from fastapi.responses import JSONResponse, Response

from ..spapi.lwa import operation
from ..spapi.clock import iso
from .context import SandboxContext, sandbox_of
from ..spapi.errors import invalid_input, not_found
from .listings_feed import process_listings_feed

router = APIRouter()

SUPPORTED_FEED_TYPES = {"JSON_LISTINGS_FEED"}
FEED_ID = re.compile(r"^\d{1,20}$")
DOCUMENT_ID = re.compile(r"^amzn1\.tortuga\.4\.[a-z]{2}\.[0-9a-f-]{36}\.T[0-9A-Z]+$")
URL_LIFETIME = 300  # seconds, as S3 presigned URLs from SP-API
MAX_DOCUMENT_BYTES = 100 * 1024 * 1024


def _signature(sandbox: SandboxContext, method: str, document_id: str, expires: int) -> str:
    key = f"{sandbox.config.lwa_client_secret}:{sandbox.config.seed}".encode()
    return hmac.new(key, f"{method}\n{document_id}\n{expires}".encode(), hashlib.sha256).hexdigest()


def document_host(sandbox: SandboxContext, request: Request) -> str:
    """Where the sandbox's "S3" is: ``public_base_url``, else the address the server itself
    listens on. Never the request's Host header: S3's URLs name S3, whoever asked, so a
    client (or a proxy) cannot point a presigned URL elsewhere by sending another Host."""
    if sandbox.config.public_base_url:
        return sandbox.config.public_base_url.rstrip("/")
    server = request.scope.get("server")
    if not server:  # a transport without a socket (none in use): the app's own root
        return str(request.base_url).rstrip("/")
    host, port = server[0], server[1]
    host = f"[{host}]" if ":" in str(host) else host
    return f"{request.scope.get('scheme', 'http')}://{host}:{port}"


def presigned_url(sandbox: SandboxContext, request: Request, method: str, document_id: str) -> str:
    base = document_host(sandbox, request)
    expires = int(sandbox.now()) + URL_LIFETIME
    query = urlencode({"X-Amz-Expires": expires, "X-Amz-Signature": _signature(sandbox, method, document_id, expires)})
    return f"{base}/s3/feeds/{document_id}?{query}"


def _new_document_id(sandbox: SandboxContext) -> str:
    seq = sandbox.store.next_sequence("feed_document")
    return f"amzn1.tortuga.4.na.{uuid.uuid4()}.T{seq:012d}"


def _json_body(raw: bytes) -> Any:
    try:
        return json.loads(raw or b"null")
    except ValueError:
        raise invalid_input("Invalid input", "The request body is not valid JSON.") from None


# -- SP-API operations ---------------------------------------------------------------


@router.post("/feeds/2021-06-30/documents", status_code=201)
async def create_feed_document(request: Request, sandbox: SandboxContext = operation("createFeedDocument")) -> JSONResponse:
    body = _json_body(await request.body())
    if not isinstance(body, dict) or not isinstance(body.get("contentType"), str) or not body["contentType"].strip():
        raise invalid_input("Invalid input", "contentType is required.")
    document_id = _new_document_id(sandbox)
    with sandbox.store.tx() as db:
        db.execute(
            "INSERT INTO feed_documents (feed_document_id, content_type, purpose, created_at) VALUES (?, ?, 'input', ?)",
            (document_id, body["contentType"], sandbox.now()),
        )
    return JSONResponse({"feedDocumentId": document_id, "url": presigned_url(sandbox, request, "PUT", document_id)},
                        status_code=201)


@router.post("/feeds/2021-06-30/feeds", status_code=202)
async def create_feed(request: Request, sandbox: SandboxContext = operation("createFeed")) -> JSONResponse:
    body = _json_body(await request.body())
    if not isinstance(body, dict):
        raise invalid_input("Invalid input", "A CreateFeedSpecification body is required.")
    feed_type, marketplaces, document_id = body.get("feedType"), body.get("marketplaceIds"), body.get("inputFeedDocumentId")
    if not isinstance(feed_type, str) or not feed_type:
        raise invalid_input("Invalid input", "feedType is required.")
    if not isinstance(marketplaces, list) or not 1 <= len(marketplaces) <= 25 or not all(isinstance(m, str) for m in marketplaces):
        raise invalid_input("Invalid input", "marketplaceIds must list 1 to 25 marketplace ids.")
    if not isinstance(document_id, str) or not document_id:
        raise invalid_input("Invalid input", "inputFeedDocumentId is required.")
    if "feedOptions" in body and not (isinstance(body["feedOptions"], dict)
                                      and all(isinstance(v, str) for v in body["feedOptions"].values())):
        raise invalid_input("Invalid input", "feedOptions must map names to strings.")
    if feed_type not in SUPPORTED_FEED_TYPES:
        raise invalid_input("Invalid input", f"Feed type {feed_type} is not supported; use JSON_LISTINGS_FEED.")
    if sandbox.config.marketplace_id not in marketplaces:
        raise invalid_input("Invalid input", f"The seller is not registered in marketplace(s) {', '.join(marketplaces)}.")
    with sandbox.store.tx() as db:
        doc = db.execute("SELECT content FROM feed_documents WHERE feed_document_id = ? AND purpose = 'input'",
                         (document_id,)).fetchone()
        if doc is None:
            raise invalid_input("Invalid input", f"inputFeedDocumentId {document_id} does not exist.")
        if doc["content"] is None:
            raise invalid_input("Invalid input", f"Nothing was uploaded for inputFeedDocumentId {document_id}.")
        feed_id = str(50_000_000_000 + sandbox.store.next_sequence("feed"))
        db.execute(
            "INSERT INTO feeds (feed_id, feed_type, marketplace_ids, input_document_id, created_at, status) "
            "VALUES (?, ?, ?, ?, ?, 'IN_QUEUE')",
            (feed_id, feed_type, json.dumps(marketplaces), document_id, sandbox.now()),
        )
    return JSONResponse({"feedId": feed_id}, status_code=202)


def render_feed(row: sqlite3.Row) -> dict[str, Any]:
    feed: dict[str, Any] = {
        "feedId": row["feed_id"], "feedType": row["feed_type"], "marketplaceIds": json.loads(row["marketplace_ids"]),
        "createdTime": iso(row["created_at"], millis=True), "processingStatus": row["status"],
    }
    if row["started_at"] is not None:
        feed["processingStartTime"] = iso(row["started_at"], millis=True)
    if row["ended_at"] is not None:
        feed["processingEndTime"] = iso(row["ended_at"], millis=True)
    if row["result_document_id"]:
        feed["resultFeedDocumentId"] = row["result_document_id"]
    return feed


@router.get("/feeds/2021-06-30/feeds/{feed_id}")
def get_feed(feed_id: str, sandbox: SandboxContext = operation("getFeed")) -> JSONResponse:
    if not FEED_ID.match(feed_id):
        raise invalid_input("Invalid input", f"Invalid feedId: {feed_id}.")
    with sandbox.store.tx() as db:
        row = db.execute("SELECT * FROM feeds WHERE feed_id = ?", (feed_id,)).fetchone()
    if row is None:
        raise not_found("Not found", f"No feed {feed_id} for this seller.")
    return JSONResponse(render_feed(row))


@router.get("/feeds/2021-06-30/documents/{document_id}")
def get_feed_document(document_id: str, request: Request, sandbox: SandboxContext = operation("getFeedDocument")) -> JSONResponse:
    if not DOCUMENT_ID.match(document_id):
        raise invalid_input("Invalid input", f"Invalid feedDocumentId: {document_id}.")
    with sandbox.store.tx() as db:
        row = db.execute("SELECT feed_document_id FROM feed_documents WHERE feed_document_id = ?", (document_id,)).fetchone()
    if row is None:
        raise not_found("Not found", f"No feed document {document_id} for this seller.")
    return JSONResponse({"feedDocumentId": document_id, "url": presigned_url(sandbox, request, "GET", document_id)})


# -- processing ----------------------------------------------------------------------


def advance_feeds(sandbox: SandboxContext) -> None:
    """Move feeds along IN_QUEUE -> IN_PROGRESS -> DONE/FATAL as the clock says."""
    cfg = sandbox.config
    now = sandbox.now()
    with sandbox.store.tx() as db:
        rows = db.execute("SELECT * FROM feeds WHERE status IN ('IN_QUEUE', 'IN_PROGRESS') ORDER BY created_at, feed_id").fetchall()
        for row in rows:
            start = row["created_at"] + cfg.feed_queue_seconds
            end = start + cfg.feed_processing_seconds
            if now < start:
                continue
            if now < end:
                if row["status"] == "IN_QUEUE":
                    db.execute("UPDATE feeds SET status = 'IN_PROGRESS', started_at = ? WHERE feed_id = ?", (start, row["feed_id"]))
                continue
            doc = db.execute("SELECT content FROM feed_documents WHERE feed_document_id = ?", (row["input_document_id"],)).fetchone()
            status, report = process_listings_feed(sandbox, db, row["feed_id"], doc["content"] if doc else None)
            result_id = _new_document_id(sandbox)
            db.execute(
                "INSERT INTO feed_documents (feed_document_id, content_type, content, purpose, created_at) "
                "VALUES (?, 'application/json', ?, 'result', ?)",
                (result_id, json.dumps(report).encode(), end),
            )
            db.execute(
                "UPDATE feeds SET status = ?, started_at = ?, ended_at = ?, result_document_id = ? WHERE feed_id = ?",
                (status, start, end, result_id, row["feed_id"]),
            )
            sandbox.store.bump(f"feeds_{status.lower()}")


# -- the presigned URLs (S3's role) ----------------------------------------------------


def _s3_error(status: int, code: str, message: str) -> Response:
    xml = f'<?xml version="1.0" encoding="UTF-8"?>\n<Error><Code>{code}</Code><Message>{message}</Message></Error>'
    return Response(xml, status_code=status, media_type="application/xml")


def _check_presigned(sandbox: SandboxContext, request: Request, method: str, document_id: str) -> Response | None:
    expires = request.query_params.get("X-Amz-Expires", "")
    signature = request.query_params.get("X-Amz-Signature", "")
    if not expires.isdigit() or not hmac.compare_digest(signature, _signature(sandbox, method, document_id, int(expires))):
        return _s3_error(403, "SignatureDoesNotMatch", "The request signature we calculated does not match the signature you provided.")
    if sandbox.now() > int(expires):
        return _s3_error(403, "AccessDenied", "Request has expired")
    return None


@router.put("/s3/feeds/{document_id}")
async def upload_document(document_id: str, request: Request) -> Response:
    sandbox = sandbox_of(request)
    refused = _check_presigned(sandbox, request, "PUT", document_id)
    if refused:
        return refused
    content = await request.body()
    if len(content) > MAX_DOCUMENT_BYTES:
        return _s3_error(400, "EntityTooLarge", "Your proposed upload exceeds the maximum allowed size")
    with sandbox.store.tx() as db:
        row = db.execute("SELECT content_type FROM feed_documents WHERE feed_document_id = ? AND purpose = 'input'",
                         (document_id,)).fetchone()
        if row is None:
            return _s3_error(404, "NoSuchKey", "The specified key does not exist.")
        sent_type = request.headers.get("content-type", "")
        if sent_type.replace(" ", "").lower() != row["content_type"].replace(" ", "").lower():
            return _s3_error(403, "SignatureDoesNotMatch",
                             "The Content-Type must be the contentType given to createFeedDocument.")
        db.execute("UPDATE feed_documents SET content = ? WHERE feed_document_id = ?", (content, document_id))
    return Response(status_code=200, headers={"ETag": '"' + hashlib.md5(content).hexdigest() + '"'})  # noqa: S324


@router.get("/s3/feeds/{document_id}")
def download_document(document_id: str, request: Request) -> Response:
    sandbox = sandbox_of(request)
    refused = _check_presigned(sandbox, request, "GET", document_id)
    if refused:
        return refused
    with sandbox.store.tx() as db:
        row = db.execute("SELECT content_type, content FROM feed_documents WHERE feed_document_id = ?", (document_id,)).fetchone()
    if row is None or row["content"] is None:
        return _s3_error(404, "NoSuchKey", "The specified key does not exist.")
    return Response(row["content"], media_type=row["content_type"])
