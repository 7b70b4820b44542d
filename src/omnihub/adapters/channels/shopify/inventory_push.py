"""Pushing what Shopify should show: `inventorySetQuantities` on the `available` quantity,
up to 250 levels per call, each with `changeFromQuantity` = the last value Shopify
confirmed (compare-and-swap) and the call marked `@idempotent(key:)`.

The key is derived from the call's input, so a call whose answer was lost (timeout) is
re-sent with the same key and Shopify answers the first result instead of applying it
twice. Calls are all-or-nothing: when some levels are stale, none moved; the stale ones
are re-read (`nodes(ids:)` on their InventoryLevel ids) and reported with what Shopify
shows, the others are reported AGAIN so the engine resends them at once.
"""

from __future__ import annotations

import json
import uuid
from typing import TYPE_CHECKING

from omnihub.adapters.channels.mapping import ChannelMapping
from omnihub.adapters.channels.shopify import documents as docs
from omnihub.adapters.channels.shopify.admin_client import ShopifyAdminClient, ShopifyError
from omnihub.domain.channel_sync import PushItem, PushOutcome, PushStatus

if TYPE_CHECKING:  # the bulk road imports this module
    from omnihub.adapters.channels.shopify.bulk_inventory_push import ShopifyBulkInventoryPush

MAX_QUANTITIES = 250
READ_BATCH = 100
_KEYS = uuid.UUID("6f1d8a52-4c1e-4a57-9a55-0b9d1b7c2e10")


def level_gid(location_gid: str, item_gid: str) -> str:
    return f"gid://shopify/InventoryLevel/{location_gid.rsplit('/', 1)[-1]}?inventory_item_id={item_gid.rsplit('/', 1)[-1]}"


def gid(kind: str, value: str) -> str:
    return value if value.startswith("gid://") else f"gid://shopify/{kind}/{value}"


class ShopifyInventoryPusher:
    per_location = True
    max_batch = MAX_QUANTITIES

    def __init__(self, client: ShopifyAdminClient, *, reason: str = "correction",
                 reference: str = "omnihub://sync") -> None:
        self.client = client
        self.reason = reason
        self.reference = reference
        #: the bulk road for many levels at once (bulk_inventory_push.py), when the connector offers one
        self.bulk: ShopifyBulkInventoryPush | None = None

    # -- reads -----------------------------------------------------------------------------
    def read_levels(self, pairs: list[tuple[str, str]]) -> dict[tuple[str, str], int]:
        """(item gid, location gid) → available, for the levels that exist."""
        out: dict[tuple[str, str], int] = {}
        for start in range(0, len(pairs), READ_BATCH):
            chunk = pairs[start:start + READ_BATCH]
            ids = [level_gid(loc, item) for item, loc in chunk]
            data = self.client.execute(docs.levels_query(min(len(ids), 250)), {"ids": ids}, cost=4 * len(ids) + 2)
            for node in data.get("nodes") or []:
                if not node:
                    continue
                qty = next((q["quantity"] for q in node.get("quantities") or [] if q["name"] == "available"), None)
                if qty is not None:
                    out[(node["item"]["id"], node["location"]["id"])] = int(qty)
        return out

    # -- the push --------------------------------------------------------------------------
    def push(self, items: list[PushItem], mapping: ChannelMapping) -> list[PushOutcome]:
        outcomes, ready = self.prepare(items, mapping)
        for start in range(0, len(ready), MAX_QUANTITIES):
            outcomes.extend(self._send(ready[start:start + MAX_QUANTITIES]))
        return outcomes

    def prepare(self, items: list[PushItem], mapping: ChannelMapping
                ) -> tuple[list[PushOutcome], list[tuple[PushItem, str, str]]]:
        """Each item with its inventory item and location gids, and the compare-and-swap
        base read from Shopify where the hub never had one; the outcomes of those that
        cannot be sent (not mapped, or the read failed)."""
        outcomes: list[PushOutcome] = []
        ready: list[tuple[PushItem, str, str]] = []
        for it in items:
            item_id, loc_id = mapping.items.get(it.sku), mapping.locations.get(it.location)
            if not item_id or not loc_id:
                what = "SKU" if not item_id else "location"
                outcomes.append(PushOutcome(it.intent_id, PushStatus.FAILED, error=f"{what} not mapped on {mapping.channel}"))
                continue
            ready.append((it, gid("InventoryItem", item_id), gid("Location", loc_id)))
        unknown = [(ig, lg) for it, ig, lg in ready if it.confirmed is None]
        if unknown:
            try:
                seen = self.read_levels(unknown)
            except ShopifyError as exc:
                return outcomes + [PushOutcome(it.intent_id, PushStatus.RETRY, error=str(exc)) for it, _, _ in ready], []
            for it, ig, lg in ready:
                if it.confirmed is None and (ig, lg) in seen:
                    it.confirmed = seen[(ig, lg)]
        return outcomes, ready

    def variables(self, chunk: list[tuple[PushItem, str, str]]) -> dict:
        """The mutation's variables for one batch of levels. The idempotency key is derived
        from the input, so the same batch sent again (a lost answer, the per-call road after
        a bulk file that did not finish) is answered, not applied a second time."""
        quantities = [{"inventoryItemId": ig, "locationId": lg, "quantity": max(0, it.target),
                       "changeFromQuantity": it.confirmed} for it, ig, lg in chunk]
        payload = {"name": "available", "reason": self.reason, "referenceDocumentUri": self.reference,
                   "quantities": quantities}
        return {"input": payload, "key": str(uuid.uuid5(_KEYS, json.dumps(payload, sort_keys=True)))}

    def _send(self, chunk: list[tuple[PushItem, str, str]]) -> list[PushOutcome]:
        try:
            data = self.client.execute(docs.INVENTORY_SET_QUANTITIES, self.variables(chunk), cost=10)
        except ShopifyError as exc:
            status = PushStatus.RETRY if exc.retryable or not exc.errors else PushStatus.FAILED
            return [PushOutcome(it.intent_id, status, error=str(exc)[:500]) for it, _, _ in chunk]
        return self.answered(chunk, data.get("inventorySetQuantities") or {})

    def answered(self, chunk: list[tuple[PushItem, str, str]], result: dict) -> list[PushOutcome]:
        """What Shopify's answer for one batch means for each of its levels (the per-call
        answer and a bulk result line read the same)."""
        errors = result.get("userErrors") or []
        if not errors:
            return [PushOutcome(it.intent_id, PushStatus.OK, landed=max(0, it.target)) for it, _, _ in chunk]
        stale: set[int] = set()
        failed: dict[int, str] = {}
        for err in errors:
            field = err.get("field") or []
            index = int(field[2]) if len(field) > 2 and str(field[2]).isdigit() else None
            if index is None:
                failed.update({i: err.get("message", "refused") for i in range(len(chunk))})
            elif err.get("code") == "CHANGE_FROM_QUANTITY_STALE":
                stale.add(index)
            else:
                failed[index] = f"{err.get('code')}: {err.get('message')}"
        observed: dict[tuple[str, str], int] = {}
        if stale:
            try:
                observed = self.read_levels([(chunk[i][1], chunk[i][2]) for i in sorted(stale)])
            except ShopifyError:
                observed = {}
        out = []
        for i, (it, ig, lg) in enumerate(chunk):
            if i in failed:
                out.append(PushOutcome(it.intent_id, PushStatus.FAILED, error=failed[i][:500]))
            elif i in stale:
                seen = observed.get((ig, lg))
                out.append(PushOutcome(it.intent_id, PushStatus.STALE if seen is not None else PushStatus.RETRY,
                                       observed=seen, error="CHANGE_FROM_QUANTITY_STALE"))
            else:
                out.append(PushOutcome(it.intent_id, PushStatus.AGAIN))
        return out
