"""Privacy requests: erase a customer's personal data, or hand it to the merchant as a file.

One service for every way a request arrives: Shopify's mandatory webhooks
(`customers/redact`, `shop/redact`, `customers/data_request`, processed by the inbox),
the API (`POST /api/v1/customers/redact`, `/customers/data-requests`) and the CLI
(`omnihub customers redact|export`) for the requests that reach the merchant directly
(CCPA, GDPR by e-mail, a store's counter).

Where the hub keeps a person's data, and what erasing does there:

- `customers`, `customer_keys`, `customer_channel_ids`: the unified profile, its e-mail
  and phone keys and its channel ids are deleted; the orders keep no customer id.
- `orders.document`: each order of the person keeps its lines, prices, state,
  assignments and shipping country and loses the e-mail, phone, channel customer id,
  street, city, postal code, coordinates and note (domain/personal_data.py). Totals,
  lines, assignments and the stock ledger are untouched.
- `channel_inbox.body` (webhooks and notifications as they arrived) and its `error`: the
  payloads about the person (their orders by id, anything naming their e-mail or phone,
  the privacy webhook itself) are erased by key, then every literal occurrence of their
  e-mails and phones is replaced.
- Free-text columns where a channel's error may quote a payload (sync, fulfilment and
  reconciliation errors, the brokering queue's reason): literal replacement.
- Exports made earlier for the person (files under `settings.privacy_export_dir`) are
  deleted: they are copies of the same data.

Each request is recorded in `privacy_requests` (kind, where it came from, the channel's
reference, counts, the export file), never with the identifiers it was about: the record
must survive the erasure it documents.

A person is found by any e-mail or phone (normalized as unified customers are:
domain/customers.py), by their id on a channel, and by the orders the channel names.
Profiles found bring their other keys, so an erasure asked by e-mail also finds the
orders placed with the person's phone at the till.
"""

from __future__ import annotations

import json
import os
import uuid
from collections.abc import Iterable
from dataclasses import dataclass, field
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import orjson
import sqlalchemy as sa
import structlog
from sqlalchemy.engine import Connection, Engine

from omnihub.adapters.db import tables as t
from omnihub.adapters.db.order_documents import order_from_doc, order_to_doc
from omnihub.domain.orders import SHOPIFY, SHOPIFY_POS
from omnihub.domain.personal_data import (
    Subject,
    anonymized,
    erase_identifiers,
    erase_payload,
    payload_names_subject,
)

log = structlog.get_logger(__name__)

#: (table, column) holding free text an error message may have copied a payload into
ERROR_TEXT_COLUMNS = ((t.channel_inbox, "error"), (t.sync_intents, "last_error"), (t.channel_fulfilments, "last_error"),
                      (t.reconciliation_runs, "error"), (t.reconciliation_findings, "action"),
                      (t.brokering_queue, "reason"))
PRIVACY_TOPICS = ("customers/redact", "shop/redact", "customers/data_request")


class PrivacyRequestError(ValueError):
    """A request that names nobody, or an export that is not there."""

    def __init__(self, message: str, *, code: str = "invalid_privacy_request", field: str = "") -> None:
        super().__init__(message)
        self.code = code
        self.field = field


@dataclass
class Found:
    customer_ids: set[int] = field(default_factory=set)
    order_ids: set[int] = field(default_factory=set)
    subject: Subject = field(default_factory=Subject)


def _load(doc: Any) -> dict:
    return doc if isinstance(doc, dict) else orjson.loads(doc)


class CustomerPrivacy:
    def __init__(self, engine: Engine, export_dir: Path | str, *, shopify_channels: Iterable[str] = (SHOPIFY, SHOPIFY_POS),
                 clock=lambda: datetime.now(UTC)) -> None:
        self.engine = engine
        self.export_dir = Path(export_dir)
        self.shopify_channels = tuple(shopify_channels)
        self.clock = clock

    # -- finding the person ----------------------------------------------------------------
    def _find(self, conn: Connection, subject: Subject) -> Found:
        found = Found(subject=subject)
        ck, cc, o = t.customer_keys, t.customer_channel_ids, t.orders
        keys = sorted(subject.keys)
        if keys:
            found.customer_ids |= set(conn.execute(sa.select(ck.c.customer_id).where(ck.c.key.in_(keys))).scalars())
        for channel, ext in sorted(subject.channel_ids):
            found.customer_ids |= set(conn.execute(sa.select(cc.c.customer_id).where(
                cc.c.channel == channel, cc.c.channel_customer_id == ext)).scalars())
        if found.customer_ids:  # the profiles' other e-mails and phones are the person's too
            more = conn.execute(sa.select(ck.c.key).where(ck.c.customer_id.in_(sorted(found.customer_ids)))).scalars()
            found.subject = subject = subject.with_keys(more)
            ids = conn.execute(sa.select(cc.c.channel, cc.c.channel_customer_id)
                               .where(cc.c.customer_id.in_(sorted(found.customer_ids)))).all()
            found.subject = subject = Subject(subject.emails, subject.phones,
                                              subject.channel_ids | {(c, e) for c, e in ids}, subject.orders)
            found.order_ids |= set(conn.execute(sa.select(o.c.id).where(
                o.c.customer_id.in_(sorted(found.customer_ids)))).scalars())
        for channel, ext in sorted(subject.orders):
            found.order_ids |= set(conn.execute(sa.select(o.c.id).where(o.c.channel == channel,
                                                                        o.c.external_id == ext)).scalars())
        return found

    def _order_refs(self, conn: Connection, order_ids: set[int]) -> set[tuple[str, str]]:
        if not order_ids:
            return set()
        o = t.orders
        return {(c, e) for c, e in conn.execute(sa.select(o.c.channel, o.c.external_id).where(o.c.id.in_(sorted(order_ids))))}

    # -- erasing -----------------------------------------------------------------------------
    def redact(self, subject: Subject, *, source: str, reference: str | None = None) -> dict:
        """Erase the person's data everywhere the hub keeps it (see the module docstring);
        the counts of what was erased, recorded with the request."""
        if subject.is_empty:
            raise PrivacyRequestError("a redaction names the customer by e-mail, phone, channel customer id or orders",
                                      field="email")
        with self.engine.begin() as conn:
            found = self._find(conn, subject)
            refs = self._order_refs(conn, found.order_ids) | set(subject.orders)
            orders = self._anonymize_orders(conn, found.order_ids, found.subject)
            customers = self._delete_profiles(conn, found.customer_ids)
            payloads = self._erase_payloads(conn, found.subject, refs)
            texts = self._erase_texts(conn, found.subject)
            exports = self._erase_exports(conn, found.subject)
            summary = {"orders": orders, "customers": customers, "payloads": payloads, "texts": texts, "exports": exports}
            request_id = self._record(conn, "redact", source, reference, summary)
        log.info("personal data erased", request=request_id, source=source, **summary)
        return {"id": request_id, "kind": "redact", **summary}

    def redact_shop(self, *, source: str = "shopify", reference: str | None = None, shop_domain: str | None = None) -> dict:
        """Shopify's shop/redact (48 hours after the app was uninstalled): the personal
        data of every customer of the shop. Its orders are anonymized, its profiles deleted
        unless the person bought on another channel too (then only the shop's channel ids
        go), every payload the shop sent is erased."""
        o, cc, ib = t.orders, t.customer_channel_ids, t.channel_inbox
        with self.engine.begin() as conn:
            order_ids = set(conn.execute(sa.select(o.c.id).where(o.c.channel.in_(self.shopify_channels))).scalars())
            touched = set(conn.execute(sa.select(o.c.customer_id).where(
                o.c.id.in_(sorted(order_ids)), o.c.customer_id.is_not(None))).scalars()) if order_ids else set()
            touched |= set(conn.execute(sa.select(cc.c.customer_id).where(cc.c.channel.in_(self.shopify_channels))).scalars())
            orders = self._anonymize_orders(conn, order_ids, Subject())
            conn.execute(cc.delete().where(cc.c.channel.in_(self.shopify_channels)))
            elsewhere = set(conn.execute(sa.select(o.c.customer_id).where(
                o.c.customer_id.in_(sorted(touched)))).scalars()) if touched else set()
            gone = touched - elsewhere
            customers = self._delete_profiles(conn, gone)
            payloads = 0
            for rid, body, headers in conn.execute(sa.select(ib.c.id, ib.c.body, ib.c.headers).where(ib.c.source == "shopify")).all():
                domain = (headers or {}).get("x-shopify-shop-domain") if isinstance(headers, dict) else None
                if shop_domain and domain and domain != shop_domain:
                    continue
                erased = self._erased_body(body, Subject(), whole=True)
                if erased != body:
                    conn.execute(ib.update().where(ib.c.id == rid).values(body=erased))
                    payloads += 1
            summary = {"orders": orders, "customers": customers, "payloads": payloads, "texts": 0,
                       "exports": self._erase_exports(conn, None)}
            request_id = self._record(conn, "shop_redact", source, reference, summary)
        log.info("shop's personal data erased", request=request_id, source=source, **summary)
        return {"id": request_id, "kind": "shop_redact", **summary}

    def _anonymize_orders(self, conn: Connection, order_ids: set[int], subject: Subject) -> int:
        if not order_ids:
            return 0
        o = t.orders
        q = sa.select(o.c.id, o.c.document).where(o.c.id.in_(sorted(order_ids))).order_by(o.c.id)
        if conn.dialect.name == "postgresql":
            q = q.with_for_update()  # the stock writer reads an order FOR UPDATE before it writes it back
        n = 0
        for oid, doc in conn.execute(q).all():
            order = anonymized(order_from_doc(_load(doc), oid))
            new_doc = erase_identifiers(order_to_doc(order), subject) if not subject.is_empty else order_to_doc(order)
            conn.execute(o.update().where(o.c.id == oid).values(document=new_doc, customer_id=None))
            n += 1
        return n

    def _delete_profiles(self, conn: Connection, customer_ids: set[int]) -> int:
        if not customer_ids:
            return 0
        ids = sorted(customer_ids)
        conn.execute(t.orders.update().where(t.orders.c.customer_id.in_(ids)).values(customer_id=None))
        conn.execute(t.customer_keys.delete().where(t.customer_keys.c.customer_id.in_(ids)))
        conn.execute(t.customer_channel_ids.delete().where(t.customer_channel_ids.c.customer_id.in_(ids)))
        return conn.execute(t.customers.delete().where(t.customers.c.id.in_(ids))).rowcount

    def _erased_body(self, body: str, subject: Subject, *, whole: bool) -> str:
        try:
            doc = json.loads(body)
        except ValueError:
            return erase_identifiers(body, subject) if not subject.is_empty else body
        erased = erase_payload(doc) if whole else doc
        if not subject.is_empty:
            erased = erase_identifiers(erased, subject)
        return body if erased == doc else json.dumps(erased, separators=(",", ":"))

    def _names_orders(self, source: str, topic: str, doc: Any, refs: set[tuple[str, str]]) -> bool:
        """Whether a payload is one of the person's orders, or a privacy webhook about them."""
        if not isinstance(doc, dict):
            return False
        if source == "shopify":
            ext = str(doc.get("id") or doc.get("order_id") or "")
            if ext and any((ch, ext) in refs for ch in self.shopify_channels):
                return True
            asked = doc.get("orders_to_redact") or doc.get("orders_requested") or []
            return topic in PRIVACY_TOPICS and any((ch, str(x)) in refs for ch in self.shopify_channels for x in asked)
        if source == "amazon":
            payload = (doc.get("Payload") or {}) if isinstance(doc.get("Payload"), dict) else {}
            change = payload.get("OrderChangeNotification") or {}
            amazon_order_id = change.get("AmazonOrderId") if isinstance(change, dict) else None
            return bool(amazon_order_id) and any(e == amazon_order_id for _, e in refs)
        return False

    def _erase_payloads(self, conn: Connection, subject: Subject, refs: set[tuple[str, str]]) -> int:
        ib = t.channel_inbox
        needles = subject.literals() + sorted({e for _, e in refs} | {e for _, e in subject.channel_ids})
        if not needles:
            return 0
        where = sa.or_(*(ib.c.body.ilike(f"%{_like(n)}%", escape="\\") for n in needles))
        n = 0
        for rid, source, topic, body in conn.execute(sa.select(ib.c.id, ib.c.source, ib.c.topic, ib.c.body).where(where)).all():
            try:
                doc = json.loads(body)
            except ValueError:
                doc = None
            theirs = self._names_orders(source, topic, doc, refs) or payload_names_subject(doc, subject) or (
                isinstance(doc, dict) and _names_channel_customer(doc, source, subject, self.shopify_channels))
            erased = self._erased_body(body, subject, whole=theirs)
            if erased != body:
                conn.execute(ib.update().where(ib.c.id == rid).values(body=erased))
                n += 1
        return n

    def _erase_texts(self, conn: Connection, subject: Subject) -> int:
        needles = subject.literals()
        if not needles:
            return 0
        n = 0
        for table, name in ERROR_TEXT_COLUMNS:
            col = table.c[name]
            pk = list(table.primary_key.columns)
            rows = conn.execute(sa.select(*pk, col).where(sa.or_(*(col.ilike(f"%{_like(x)}%", escape="\\")
                                                                   for x in needles)))).all()
            for row in rows:
                text = row[-1]
                erased = erase_identifiers(text, subject)
                if erased != text:
                    conn.execute(table.update().where(*(c == row[i] for i, c in enumerate(pk))).values({name: erased}))
                    n += 1
        return n

    def _erase_exports(self, conn: Connection, subject: Subject | None) -> int:
        """Delete earlier exports of the person (all of them for None: the shop's)."""
        pr = t.privacy_requests
        n = 0
        for rid, name in conn.execute(sa.select(pr.c.id, pr.c.export_file).where(
                pr.c.kind == "data_request", pr.c.state == "ready")).all():
            path = self.export_dir / name if name else None
            if subject is not None:
                try:
                    about = json.loads(path.read_text()).get("subject", {}) if path and path.exists() else {}
                except (OSError, ValueError):
                    about = {}
                named = Subject.of(emails=about.get("emails", ()), phones=about.get("phones", ()),
                                   channel_ids=[tuple(x) for x in about.get("channel_ids", ())])
                if not (named.keys & subject.keys or named.channel_ids & subject.channel_ids):
                    continue
            if path is not None:
                path.unlink(missing_ok=True)
            conn.execute(pr.update().where(pr.c.id == rid).values(state="erased", export_file=None))
            n += 1
        return n

    def _record(self, conn: Connection, kind: str, source: str, reference: str | None, summary: dict,
                export_file: str | None = None, state: str = "done") -> int:
        now = self.clock()
        result = conn.execute(t.privacy_requests.insert().values(
            kind=kind, source=source[:32], reference=str(reference)[:200] if reference else None, state=state,
            export_file=export_file, summary=summary, created_at=now, completed_at=now))
        key = result.inserted_primary_key
        if key is None:  # a one-row insert always has its key
            raise RuntimeError("the privacy request's row was not inserted")
        return int(key[0])

    # -- exporting ---------------------------------------------------------------------------
    def export(self, subject: Subject, *, source: str, reference: str | None = None) -> dict:
        """The person's data as one JSON file for the merchant (their profile, orders as
        the hub holds them, and the payloads the channels sent about them), written under
        the export folder and recorded; the record (`get_export`) and the file
        (`export_path`) are served by the API."""
        if subject.is_empty:
            raise PrivacyRequestError("a data request names the customer by e-mail, phone, channel customer id or orders",
                                      field="email")
        with self.engine.connect() as conn:
            found = self._find(conn, subject)
            refs = self._order_refs(conn, found.order_ids) | set(subject.orders)
            document = self._collect(conn, found, refs)
        document["requested_at"] = self.clock().isoformat()
        document["reference"] = reference
        self.export_dir.mkdir(parents=True, exist_ok=True)
        name = f"customer-data-{self.clock().strftime('%Y%m%dT%H%M%SZ')}-{uuid.uuid4().hex[:12]}.json"
        tmp = self.export_dir / (name + ".part")
        tmp.write_text(json.dumps(document, indent=2, default=str))
        os.chmod(tmp, 0o600)  # personal data: for the merchant, not for every user of the machine
        tmp.replace(self.export_dir / name)
        summary = {"customers": len(document["customers"]), "orders": len(document["orders"]),
                   "payloads": len(document["received"])}
        with self.engine.begin() as conn:
            request_id = self._record(conn, "data_request", source, reference, summary, export_file=name, state="ready")
        log.info("customer data exported", request=request_id, source=source, **summary)
        return self.get_export(request_id)

    def _collect(self, conn: Connection, found: Found, refs: set[tuple[str, str]]) -> dict:
        s = found.subject
        profiles = []
        for cid in sorted(found.customer_ids):
            row = conn.execute(sa.select(t.customers).where(t.customers.c.id == cid)).mappings().first()
            keys = sorted(conn.execute(sa.select(t.customer_keys.c.key).where(t.customer_keys.c.customer_id == cid)).scalars())
            ids = conn.execute(sa.select(t.customer_channel_ids.c.channel, t.customer_channel_ids.c.channel_customer_id)
                               .where(t.customer_channel_ids.c.customer_id == cid)).all()
            profiles.append({"customer_id": cid, "display_name": row["display_name"] if row else None,
                             "created_at": row["created_at"] if row else None, "keys": keys,
                             "channel_ids": [{"channel": c, "id": e} for c, e in sorted(ids)]})
        orders = []
        if found.order_ids:
            o = t.orders
            for row in conn.execute(sa.select(o).where(o.c.id.in_(sorted(found.order_ids))).order_by(o.c.id)).mappings():
                orders.append({"order_id": row["id"], "channel": row["channel"], "external_id": row["external_id"],
                               "state": row["state"], "placed_at": row["placed_at"], "currency": row["currency"],
                               "order_value_minor": row["order_value_minor"], "document": _load(row["document"])})
        received = []
        ib = t.channel_inbox
        needles = s.literals() + sorted({e for _, e in refs})
        if needles:
            for rid, source, topic, body, at in conn.execute(sa.select(ib.c.id, ib.c.source, ib.c.topic, ib.c.body,
                                                                       ib.c.received_at).where(sa.or_(*(
                    ib.c.body.ilike(f"%{_like(n)}%", escape="\\") for n in needles))).order_by(ib.c.id)).all():
                try:
                    doc = json.loads(body)
                except ValueError:
                    continue
                if topic in PRIVACY_TOPICS:
                    continue  # the request itself is not the customer's data
                if self._names_orders(source, topic, doc, refs) or payload_names_subject(doc, s):
                    received.append({"source": source, "topic": topic, "received_at": at, "payload": doc})
        return {"subject": {"emails": sorted(s.emails), "phones": sorted(s.phones),
                            "channel_ids": sorted([list(x) for x in s.channel_ids])},
                "customers": profiles, "orders": orders, "received": received}

    def get_export(self, request_id: int) -> dict:
        pr = t.privacy_requests
        with self.engine.connect() as conn:
            row = conn.execute(sa.select(pr).where(pr.c.id == request_id, pr.c.kind == "data_request")).mappings().first()
        if row is None:
            raise PrivacyRequestError(f"no data request {request_id}", code="not_found", field="path.request_id")
        return {"id": row["id"], "kind": row["kind"], "source": row["source"], "reference": row["reference"],
                "state": row["state"], "file": row["export_file"], "summary": row["summary"],
                "created_at": row["created_at"], "completed_at": row["completed_at"]}

    def export_path(self, request_id: int) -> Path:
        """The file of a data request; PrivacyRequestError (code `gone`) once it was erased."""
        record = self.get_export(request_id)
        path = self.export_dir / record["file"] if record["file"] else None
        if path is None or not path.exists():
            raise PrivacyRequestError(f"the export of data request {request_id} was erased", code="gone",
                                      field="path.request_id")
        return path

    def list_requests(self, limit: int = 100) -> list[dict]:
        pr = t.privacy_requests
        with self.engine.connect() as conn:
            rows = conn.execute(sa.select(pr).order_by(pr.c.id.desc()).limit(limit)).mappings().all()
        return [{"id": r["id"], "kind": r["kind"], "source": r["source"], "reference": r["reference"],
                 "state": r["state"], "file": r["export_file"], "summary": r["summary"],
                 "created_at": r["created_at"]} for r in rows]

    # -- Shopify's mandatory webhooks ----------------------------------------------------------
    def handle_shopify(self, topic: str, body: dict, *, delivery_id: str | None = None,
                       shop_domain: str | None = None) -> dict:
        """A privacy webhook as Shopify sends it: `customer` {id, email, phone},
        `orders_to_redact` / `orders_requested` (order ids), `data_request` {id}."""
        if topic == "shop/redact":
            return self.redact_shop(source="shopify", reference=delivery_id,
                                    shop_domain=shop_domain or (body or {}).get("shop_domain"))
        customer = (body or {}).get("customer") or {}
        if not isinstance(customer, dict):
            raise PrivacyRequestError(f"{topic}: `customer` is not an object")
        ids = [str(x) for x in (body.get("orders_to_redact") or body.get("orders_requested") or [])]
        subject = Subject.of(emails=[customer.get("email")], phones=[customer.get("phone")],
                             channel_ids=[(ch, str(customer["id"])) for ch in self.shopify_channels if customer.get("id")],
                             orders=[(ch, x) for ch in self.shopify_channels for x in ids])
        if topic == "customers/redact":
            return self.redact(subject, source="shopify", reference=delivery_id)
        if topic == "customers/data_request":
            request = body.get("data_request") or {}
            return self.export(subject, source="shopify",
                               reference=str(request.get("id")) if isinstance(request, dict) and request.get("id") else delivery_id)
        raise PrivacyRequestError(f"not a privacy topic: {topic}")


def _like(text: str) -> str:
    return text.replace("\\", "\\\\").replace("%", "\\%").replace("_", "\\_")


def _names_channel_customer(doc: dict, source: str, subject: Subject, shopify_channels: tuple[str, ...]) -> bool:
    """A Shopify payload whose customer is one of the subject's channel ids."""
    if source != "shopify":
        return False
    customer = doc.get("customer")
    cid = str(customer.get("id")) if isinstance(customer, dict) and customer.get("id") is not None else None
    return bool(cid) and any((ch, cid) in subject.channel_ids for ch in shopify_channels)
