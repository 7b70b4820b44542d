"""Many levels at once as one Shopify bulk mutation (the seeds' "GraphQL file").

The per-call road spends ten points of the shop's bucket on every batch of 250 levels;
a bulk mutation spends a handful of points whatever its size, because Shopify runs the
calls itself. The hub writes one line of `inventorySetQuantities` variables per batch of
250 (the very variables, compare-and-swap base and idempotency key the per-call road would
send for that batch), stages and uploads the file (a form POST of the target's parameters,
then the file, as Shopify's storage expects), runs `bulkOperationRunMutation`, polls the
operation by id, and reads the result file line by line: each line is read exactly as a
per-call answer is (`ShopifyInventoryPusher.answered`, stale levels re-read), and handed
to `fold` at once, so the engine settles a line's intents before the next line is read.

Lines the result does not answer (the operation failed, was refused or never started) are
returned: the per-call road takes them, and their compare-and-swap base (or, for the same
batch, the same idempotency key) means a line Shopify did apply is never applied twice.
"""

from __future__ import annotations

from collections.abc import Callable

import httpx
import orjson

from omnihub.adapters.channels.mapping import ChannelMapping
from omnihub.adapters.channels.shopify import documents as docs
from omnihub.adapters.channels.shopify.admin_client import ShopifyError
from omnihub.adapters.channels.shopify.bulk_query import BulkOperationFailed, BulkQuery
from omnihub.adapters.channels.shopify.inventory_push import MAX_QUANTITIES, ShopifyInventoryPusher
from omnihub.domain.channel_sync import PushItem, PushOutcome, PushStatus
from omnihub.domain.push_policy import PushPolicy

FILE_NAME = "omnihub-inventory-levels.jsonl"
#: Line errors a later try can get past; any other error in a line is the hub's own
#: mistake (a variable Shopify refuses), which a retry would only repeat.
RETRYABLE_LINE_ERRORS = ("THROTTLED", "INTERNAL_SERVER_ERROR", "TIMEOUT")


class ShopifyBulkInventoryPush:
    def __init__(self, pusher: ShopifyInventoryPusher, *, policy: PushPolicy, first_poll_s: float = 0.1,
                 max_poll_s: float = 2.0, timeout_s: float = 3600.0) -> None:
        self.pusher = pusher
        self.client = pusher.client
        self.policy = policy
        self.operations = BulkQuery(self.client, first_poll_s=first_poll_s, max_poll_s=max_poll_s, timeout_s=timeout_s)
        self.files_sent = 0

    def push(self, items: list[PushItem], mapping: ChannelMapping, fold: Callable[[list[PushOutcome]], None],
             keep_alive: Callable[[], None] = lambda: None) -> list[PushItem]:
        """Send `items` as one bulk mutation; each line's outcomes go to `fold` as soon as
        the result file yields it. Returns the items no result line answered."""
        refused, ready = self.pusher.prepare(items, mapping)
        if refused:
            fold(refused)
        if not ready:
            return []
        batches = [ready[start:start + MAX_QUANTITIES] for start in range(0, len(ready), MAX_QUANTITIES)]
        try:
            operation_id = self._start(batches)
        except ShopifyError:
            return [it for batch in batches for it, _, _ in batch]
        if operation_id is None:
            return [it for batch in batches for it, _, _ in batch]
        url = None
        try:
            url = self.operations.wait(operation_id, on_poll=lambda _op: keep_alive()).url
        except BulkOperationFailed as failed:
            url = failed.operation.partialDataUrl  # the lines it did run before it failed
        except ShopifyError:
            pass
        answered: set[int] = set()
        try:
            for number, line in enumerate(self.operations.lines(url)):
                index = line.get("__lineNumber")
                if not isinstance(index, int) or not 0 <= index < len(batches) or index in answered:
                    continue
                answered.add(index)
                fold(self._line_outcomes(batches[index], line))
                if number % 20 == 19:
                    keep_alive()
        except ShopifyError:
            pass  # the lines not read yet go by the per-call road
        return [it for index, batch in enumerate(batches) if index not in answered for it, _, _ in batch]

    def _start(self, batches: list[list[tuple[PushItem, str, str]]]) -> str | None:
        """Stage, upload and start the bulk mutation; its id, or None when Shopify will not
        run one now (another is in progress)."""
        content = b"".join(orjson.dumps(self.pusher.variables(batch)) + b"\n" for batch in batches)
        staged = self.client.execute(docs.STAGED_UPLOADS_CREATE, {"input": [{
            "resource": "BULK_MUTATION_VARIABLES", "filename": FILE_NAME, "mimeType": "text/jsonl",
            "httpMethod": "POST", "fileSize": str(len(content))}]})["stagedUploadsCreate"]
        targets = staged.get("stagedTargets") or []
        if staged.get("userErrors") or not targets or not targets[0].get("url"):
            raise ShopifyError(f"Shopify gave no upload target: {staged.get('userErrors')}")
        parameters = {p["name"]: p["value"] for p in targets[0].get("parameters") or []}
        if "key" not in parameters:
            raise ShopifyError("Shopify's upload target has no key")
        try:  # the target is Shopify's storage, not the Admin API: no access token
            upload = self.client.http.post(targets[0]["url"], data=parameters,
                                           files={"file": (FILE_NAME, content, "text/jsonl")},
                                           timeout=httpx.Timeout(30.0, write=300.0))
        except httpx.TransportError as exc:
            raise ShopifyError(f"bulk variables upload failed: {exc}", retryable=True) from exc
        if upload.status_code not in (200, 201, 204):
            raise ShopifyError(f"bulk variables upload answered {upload.status_code}",
                               retryable=upload.status_code >= 500)
        run = self.client.execute(docs.BULK_RUN_MUTATION, {
            "mutation": docs.INVENTORY_SET_QUANTITIES, "stagedUploadPath": parameters["key"],
            "clientIdentifier": "omnihub-sync"})["bulkOperationRunMutation"]
        if run.get("userErrors") or not run.get("bulkOperation"):
            return None
        self.files_sent += 1
        return run["bulkOperation"]["id"]

    def _line_outcomes(self, batch: list[tuple[PushItem, str, str]], line: dict) -> list[PushOutcome]:
        result = (line.get("data") or {}).get("inventorySetQuantities")
        if result is not None:
            return self.pusher.answered(batch, result)
        errors = line.get("errors") or [{"message": "no answer for this line"}]
        codes = {(e.get("extensions") or {}).get("code") for e in errors if isinstance(e, dict)}
        status = PushStatus.RETRY if codes & set(RETRYABLE_LINE_ERRORS) else PushStatus.FAILED
        message = "; ".join(str(e.get("message")) for e in errors if isinstance(e, dict))[:500]
        return [PushOutcome(it.intent_id, status, error=f"bulk line refused: {message}") for it, _, _ in batch]
