"""Bulk operations: whole-catalog reads to a JSONL file, and mutations fed from an upload.

- ``bulkOperationRunQuery`` validates the inner query (it must contain a connection),
  runs it in the background reading every page, and writes one JSON object per line:
  nested connections are flattened, each child line carrying ``__parentId`` (the id of
  the object it belongs to), children right after their parent.
- ``stagedUploadsCreate`` hands out a form POST target on the sandbox; the client uploads
  the variables file (JSONL, at most 100 MB) as multipart, then
  ``bulkOperationRunMutation`` refuses a file that is not JSONL of objects
  (``INVALID_STAGED_UPLOAD_FILE``), then runs the mutation once per line, each line checked
  as its own call (variables against the mutation's, input arrays of at most 250: an
  ``errors`` line), and writes each result (data with its userErrors, or errors) with its
  ``__lineNumber``.
- At most ``max_concurrent_bulk_operations`` (5 since 2026-01; 2025-09 allowed one query
  and one mutation) run at once per shop; the ``bulk_operations/finish`` webhook fires when
  one ends. The result file is served by the sandbox under ``/_sandbox/bulk/<file>``.
- ``fail_with`` (config ``bulk_operation_error``, or ``PUT /_sandbox/bulk/faults``) makes
  operations fail as Shopify's do: status FAILED, an ``errorCode``, ``url`` null and the
  lines written before the failure (half of them here) behind ``partialDataUrl``.
"""

from __future__ import annotations

import hashlib
import json
import threading
import time
import uuid
from pathlib import Path
from typing import TYPE_CHECKING, Any

import orjson
from graphql import (DocumentNode, FieldNode, FragmentDefinitionNode, FragmentSpreadNode, OperationDefinitionNode,
                     OperationType, get_named_type)

from .bulk_lines import BulkLines
from .clock import iso_rest
from .events import Event
from .gid import to_gid
from .graphql_api import _longest_array, error, parse_document, pick_operation
from .resolvers.context import RequestContext

if TYPE_CHECKING:  # pragma: no cover
    from .shop import SandboxShop

MAX_UPLOAD_BYTES = 100 * 1024 * 1024
ACTIVE = ("CREATED", "RUNNING", "CANCELING")


class BulkRunner:
    def __init__(self, shop: "SandboxShop", files_dir: Path) -> None:
        self.shop = shop
        self.files_dir = files_dir
        (files_dir / "bulk").mkdir(parents=True, exist_ok=True)
        (files_dir / "uploads").mkdir(parents=True, exist_ok=True)
        self._threads: list[threading.Thread] = []
        self._cancelled: set[int] = set()
        self._lock = threading.Lock()
        self._stopping = threading.Event()
        self.fail_with: str | None = shop.config.bulk_operation_error
        # Operations a previous process left running cannot resume: they failed, as a
        # Shopify operation does when its job dies.
        with shop.store.tx() as conn:
            conn.execute(f"UPDATE bulk_operations SET status = 'FAILED', error_code = 'INTERNAL_SERVER_ERROR'"
                         f" WHERE status IN {ACTIVE}")

    # -- starting ----------------------------------------------------------------------
    def _too_many(self) -> bool:
        row = self.shop.store.row(f"SELECT count(*) AS n FROM bulk_operations WHERE status IN {ACTIVE}")
        return row["n"] >= self.shop.config.max_concurrent_bulk_operations

    def _create(self, kind: str, query: str, base_url: str, staged: str | None = None, client_id: str | None = None) -> int:
        bid = self.shop.next_id("BulkOperation")
        with self.shop.store.tx() as conn:
            conn.execute(
                "INSERT INTO bulk_operations(id, type, status, query, staged_upload_path, client_identifier, base_url,"
                " created_at) VALUES (?,?,?,?,?,?,?,?)",
                (bid, kind, "CREATED", query, staged, client_id, base_url, self.shop.now_iso()))
        thread = threading.Thread(target=self._run, args=(bid,), name=f"shopify-bulk-{bid}", daemon=True)
        self._threads.append(thread)
        thread.start()
        return bid

    def start_query(self, query: str, base_url: str) -> tuple[int | None, list[dict]]:
        document, problems = parse_document(self.shop.schema, query)
        if document is None:
            return None, [{"field": ["query"], "message": "Invalid bulk query: " + problems[0]["message"], "code": "INVALID"}]
        operation = pick_operation(document, None)
        if operation is None or operation.operation != OperationType.QUERY:
            return None, [{"field": ["query"], "message": "Bulk queries must be a single query operation.", "code": "INVALID"}]
        if not self._has_connection(operation):
            return None, [{"field": ["query"], "message": "Bulk queries must contain at least one connection.",
                           "code": "INVALID"}]
        with self._lock:
            if self._too_many():
                return None, [{"field": None, "code": "OPERATION_IN_PROGRESS", "message":
                               f"A shop can run at most {self.shop.config.max_concurrent_bulk_operations} bulk operations at once."}]
            return self._create("QUERY", query, base_url), []

    def start_mutation(self, mutation: str, staged_path: str, client_id: str | None, base_url: str
                       ) -> tuple[int | None, list[dict]]:
        document, problems = parse_document(self.shop.schema, mutation)
        if document is None:
            return None, [{"field": ["mutation"], "message": "Invalid mutation: " + problems[0]["message"],
                           "code": "INVALID_MUTATION"}]
        operation = pick_operation(document, None)
        if operation is None or operation.operation != OperationType.MUTATION or len(operation.selection_set.selections) != 1:
            return None, [{"field": ["mutation"], "message": "Bulk mutations must contain exactly one mutation field.",
                           "code": "INVALID_MUTATION"}]
        first = operation.selection_set.selections[0]
        if not isinstance(first, (FieldNode, FragmentSpreadNode)):
            return None, [{"field": ["mutation"], "message": "Bulk mutations must contain exactly one mutation field.",
                           "code": "INVALID_MUTATION"}]
        name = first.name.value
        if name.startswith("bulkOperation") or name == "stagedUploadsCreate":
            return None, [{"field": ["mutation"], "message": f"{name} is not allowed in a bulk mutation.",
                           "code": "INVALID_MUTATION"}]
        upload = self.shop.store.one("SELECT * FROM staged_uploads WHERE key = ?", (staged_path,))
        if upload is None or not upload["uploaded"] or not self.upload_path(staged_path).exists():
            return None, [{"field": ["stagedUploadPath"], "message": "The JSONL file could not be found.",
                           "code": "NO_SUCH_FILE"}]
        problem = self._unreadable_line(staged_path)
        if problem is not None:
            return None, [{"field": ["stagedUploadPath"], "message": f"The JSONL file is invalid: {problem}",
                           "code": "INVALID_STAGED_UPLOAD_FILE"}]
        with self._lock:
            if self._too_many():
                return None, [{"field": None, "code": "OPERATION_IN_PROGRESS", "message":
                               f"A shop can run at most {self.shop.config.max_concurrent_bulk_operations} bulk operations at once."}]
            return self._create("MUTATION", mutation, base_url, staged_path, client_id), []

    def _unreadable_line(self, staged_path: str) -> str | None:
        """Why the uploaded file is not JSONL of objects (None when it is): Shopify refuses
        such a file before it runs any line."""
        with self.upload_path(staged_path).open("rb") as handle:
            for number, raw in enumerate(handle):
                if not raw.strip():
                    continue
                try:
                    value = json.loads(raw)
                except ValueError as exc:
                    return f"line {number} is not JSON ({exc})"
                if not isinstance(value, dict):
                    return f"line {number} is not a JSON object"
        return None

    def _has_connection(self, operation: OperationDefinitionNode) -> bool:
        def walk(selection_set, parent) -> bool:
            for selection in selection_set.selections if selection_set else ():
                if not isinstance(selection, FieldNode):
                    target = self.shop.schema.get_type(selection.type_condition.name.value) \
                        if getattr(selection, "type_condition", None) else parent
                    if hasattr(selection, "selection_set") and walk(selection.selection_set, target):
                        return True
                    continue
                field = getattr(parent, "fields", {}).get(selection.name.value)
                if field is None:
                    continue
                named = get_named_type(field.type)
                if named.name.endswith("Connection") or walk(selection.selection_set, named):
                    return True
            return False

        return walk(operation.selection_set, self.shop.schema.query_type)

    def cancel(self, bid: int | None) -> list[dict]:
        row = self.shop.store.one("SELECT * FROM bulk_operations WHERE id = ?", (bid,)) if bid else None
        if row is None or bid is None:
            return [{"field": ["id"], "message": "Bulk operation does not exist"}]
        if row["status"] not in ACTIVE:
            return [{"field": ["id"], "message": f"A bulk operation cannot be canceled when it is {row['status'].lower()}"}]
        with self._lock:
            self._cancelled.add(bid)
        with self.shop.store.tx() as conn:
            conn.execute("UPDATE bulk_operations SET status = 'CANCELING' WHERE id = ? AND status IN ('CREATED','RUNNING')",
                         (bid,))
        return []

    # -- running -----------------------------------------------------------------------
    def _set(self, bid: int, **fields: Any) -> None:
        with self.shop.store.tx() as conn:
            assignments = ", ".join(f"{k} = ?" for k in fields)
            conn.execute(f"UPDATE bulk_operations SET {assignments} WHERE id = ?", (*fields.values(), bid))

    def _run(self, bid: int) -> None:
        row = self.shop.store.row("SELECT * FROM bulk_operations WHERE id = ?", (bid,))
        started = time.monotonic()
        file_name: str | None
        size: int | None
        self._set(bid, status="RUNNING")
        try:
            if row["type"] == "QUERY":
                file_name, size, count, roots = self._run_query(bid, row)
            else:
                lines, roots = self._run_mutation(row)
                file_name, size = self._write(bid, lines)
                count = len(lines)
            minimum = self.shop.config.bulk_operation_min_duration_s * self.shop.config.time_scale
            while time.monotonic() - started < minimum and bid not in self._cancelled:
                if self._stopping.wait(min(0.02, minimum)):
                    return  # the sandbox is shutting down; the next start marks it failed
            failure = self.fail_with
            if bid in self._cancelled:
                self._set(bid, status="CANCELED", completed_at=self.shop.now_iso())
            elif failure:
                partial = self._first_half(file_name, count)
                file_name, size = self._write(bid, partial) if partial else (None, None)
                self._set(bid, status="FAILED", error_code=failure, completed_at=self.shop.now_iso(),
                          object_count=len(partial), root_object_count=sum("__parentId" not in line for line in partial),
                          file_size=size, file_name=file_name)
            else:
                self._set(bid, status="COMPLETED", completed_at=self.shop.now_iso(), object_count=count,
                          root_object_count=roots, file_size=size, file_name=file_name)
        except Exception:  # noqa: BLE001 - a failed run is reported through the operation itself
            self._set(bid, status="FAILED", error_code="INTERNAL_SERVER_ERROR", completed_at=self.shop.now_iso())
        finally:
            with self._lock:
                self._cancelled.discard(bid)
        self._announce(bid)

    def _write(self, bid: int, lines: list[dict]) -> tuple[str, int]:
        file_name = f"bulk-{bid}-{uuid.uuid4().hex[:8]}.jsonl"
        data = "".join(json.dumps(line, separators=(",", ":")) + "\n" for line in lines).encode()
        (self.files_dir / "bulk" / file_name).write_bytes(data)
        return file_name, len(data)

    def _announce(self, bid: int) -> None:
        row = self.shop.store.row("SELECT * FROM bulk_operations WHERE id = ?", (bid,))
        body = {"admin_graphql_api_id": to_gid("BulkOperation", bid), "completed_at": iso_rest(row["completed_at"]),
                "created_at": iso_rest(row["created_at"]), "error_code": (row["error_code"] or "").lower() or None,
                "status": row["status"].lower(), "type": row["type"].lower()}
        self.shop.publish([Event("bulk_operations/finish", body, row["completed_at"] or self.shop.now_iso())])

    def _parsed(self, query: str) -> tuple[DocumentNode, OperationDefinitionNode]:
        """The document and operation of an operation's query (checked when it was started)."""
        document, problems = parse_document(self.shop.schema, query)
        operation = pick_operation(document, None) if document is not None else None
        if document is None or operation is None:
            raise ValueError(f"the bulk operation's query does not parse: {problems}")
        return document, operation

    def _run_query(self, bid: int, row) -> tuple[str, int, int, int]:
        """The query's lines written to the result file as they are resolved (bulk_lines.py):
        (file name, bytes, lines, root objects)."""
        document, operation = self._parsed(row["query"])
        context = RequestContext(self.shop, row["base_url"], bulk=True)
        walker = BulkLines(self.shop.schema, self.shop.endpoint.query_root, context, {
            d.name.value: d for d in document.definitions if isinstance(d, FragmentDefinitionNode)})
        file_name = f"bulk-{bid}-{uuid.uuid4().hex[:8]}.jsonl"
        count = size = 0
        with (self.files_dir / "bulk" / file_name).open("wb") as out:
            chunk: list[bytes] = []
            for line in walker.lines(operation):
                if bid in self._cancelled:
                    break
                chunk.append(orjson.dumps(line, option=orjson.OPT_APPEND_NEWLINE))
                count += 1
                if len(chunk) >= 10_000:
                    data = b"".join(chunk)
                    out.write(data)
                    size += len(data)
                    chunk.clear()
            if chunk:
                data = b"".join(chunk)
                out.write(data)
                size += len(data)
        return file_name, size, count, walker.roots

    def _first_half(self, file_name: str, count: int) -> list[dict]:
        """The lines a failing operation wrote before it failed (half of them, here)."""
        with (self.files_dir / "bulk" / file_name).open("rb") as handle:
            return [json.loads(raw) for _, raw in zip(range(count // 2), handle)]

    def _run_mutation(self, row) -> tuple[list[dict], int]:
        document, operation = self._parsed(row["query"])
        lines: list[dict] = []
        from graphql.execution.values import get_variable_values

        with self.upload_path(row["staged_upload_path"]).open("r", encoding="utf-8") as handle:
            for number, raw in enumerate(handle):
                if not raw.strip():
                    continue
                if row["id"] in self._cancelled:
                    break
                variables = json.loads(raw)  # checked JSONL of objects before the run began
                # Each line is one call, checked as a call is: its variables against the
                # mutation's, then the input array bound.
                coerced = get_variable_values(self.shop.schema, operation.variable_definitions or [], variables)
                if isinstance(coerced, list):
                    lines.append({"errors": [error(e.message, "INVALID_VARIABLE", locations=[
                        {"line": loc.line, "column": loc.column} for loc in (e.locations or [])]) for e in coerced],
                        "__lineNumber": number})
                    continue
                longest = _longest_array(coerced)
                if longest > self.shop.endpoint.max_input_array:
                    lines.append({"errors": [error(
                        f"The input array size of {longest} is greater than the maximum allowed of "
                        f"{self.shop.endpoint.max_input_array}.", "MAX_INPUT_SIZE_EXCEEDED")], "__lineNumber": number})
                    continue
                context = RequestContext(self.shop, row["base_url"])
                result = self.shop.endpoint.execute(document, operation, coerced, context)
                self.shop.publish(context.events)
                result["__lineNumber"] = number
                lines.append(_plain(result))
        return lines, len(lines)

    # -- staged uploads ------------------------------------------------------------------
    def upload_path(self, key: str) -> Path:
        return self.files_dir / "uploads" / hashlib.sha256(key.encode()).hexdigest()

    def staged_targets(self, inputs: list[dict], base_url: str) -> tuple[list[dict] | None, list[dict]]:
        targets, errors = [], []
        for index, item in enumerate(inputs):
            size = int(item["fileSize"]) if item.get("fileSize") is not None else None
            if size is not None and size > MAX_UPLOAD_BYTES:
                errors.append({"field": ["input", str(index), "fileSize"],
                               "message": "File size is too large; bulk mutation uploads are limited to 100 MB."})
                continue
            if (item.get("httpMethod") or "POST") != "POST":
                errors.append({"field": ["input", str(index), "httpMethod"], "message": "Only POST is supported."})
                continue
            key = f"tmp/{self.shop.shop_id}/bulk/{uuid.uuid4()}/{item['filename']}"
            with self.shop.store.tx() as conn:
                conn.execute("INSERT INTO staged_uploads(key, filename, mime_type, size, created_at) VALUES (?,?,?,?,?)",
                             (key, item["filename"], item["mimeType"], size, self.shop.now_iso()))
            parameters = {"key": key, "Content-Type": item["mimeType"], "success_action_status": "201",
                          "acl": "private", "policy": hashlib.sha256(key.encode()).hexdigest(),
                          "x-goog-algorithm": "GOOG4-RSA-SHA256", "x-goog-credential": "sandbox/omnihub",
                          "x-goog-date": self.shop.now_iso()[:19].replace("-", "").replace(":", "") + "Z",
                          "x-goog-signature": hashlib.sha256(("sig" + key).encode()).hexdigest()}
            targets.append({"url": f"{base_url}/_sandbox/staged-uploads", "resourceUrl": None,
                            "parameters": [{"name": k, "value": v} for k, v in parameters.items()]})
        return (targets if not errors else None), errors

    def receive_upload(self, key: str, content: bytes) -> bool:
        if self.shop.store.one("SELECT 1 FROM staged_uploads WHERE key = ?", (key,)) is None:
            return False
        if len(content) > MAX_UPLOAD_BYTES:
            return False
        self.upload_path(key).write_bytes(content)
        with self.shop.store.tx() as conn:
            conn.execute("UPDATE staged_uploads SET uploaded = 1, size = ? WHERE key = ?", (len(content), key))
        return True

    def stop(self, timeout: float = 2.0) -> None:
        self._stopping.set()
        self.wait(timeout)

    def wait(self, timeout: float = 10.0) -> None:
        deadline = time.monotonic() + timeout
        for thread in list(self._threads):
            thread.join(max(0.0, deadline - time.monotonic()))


def _plain(value: Any) -> Any:
    """Results may hold non-JSON values only through bugs; keep the file valid anyway."""
    return json.loads(json.dumps(value, default=str))
