"""What in an order and in a channel's payload is a person's data, and the same things
without it (privacy requests: GDPR erasure, CCPA deletion, Shopify's customers/redact and
shop/redact).

Erasing keeps the sale and loses the buyer: an order keeps its channel, ids, lines,
prices, state, assignments and the country it ships to (tax and sales reports need it);
it loses the e-mail, phone, the channel's customer id, the street, city and postal code,
the coordinates of the address and the buyer's note. The ledger never held any of it.

A raw payload (a webhook body as the channel sent it) is erased by key: inside an object
that describes a person or an address (`customer`, `shipping_address`, `BuyerInfo`...)
everything but the country goes; anywhere, the keys that hold contact details or free
text from the buyer (`email`, `phone`, `note`, `browser_ip`...) go. The structure stays,
so a payload still waiting in the inbox can be processed: it is an anonymous order then.
Then, as a net under the keys, every literal occurrence of the person's identifiers
(`Subject`: e-mails, phones) in any text of it is replaced (`erase_identifiers`).
"""

from __future__ import annotations

import re
from collections.abc import Iterable
from dataclasses import dataclass, field, replace
from typing import Any

from omnihub.domain.customers import match_keys, normalize_email, normalize_phone
from omnihub.domain.orders import NO_CUSTOMER, Address, Order

ERASED = "[erased]"
MASKED = "[masked]"

#: objects that describe a person or a place they live: only the country survives
PERSON_OBJECTS = frozenset({"customer", "shipping_address", "billing_address", "default_address", "addresses",
                            "destination", "buyer", "buyer_info", "ship_to", "shipping_address_v2", "recipient"})
#: leaves kept inside a person object
KEPT_IN_PERSON = frozenset({"country", "country_code", "country_code_v2", "country_name"})
#: keys erased wherever they are
PERSONAL_LEAVES = frozenset({"email", "contact_email", "customer_email", "buyer_email", "buyer_name", "phone",
                             "phone_number", "first_name", "last_name", "note", "note_attributes", "browser_ip",
                             "client_details", "payment_details", "customer_locale", "landing_site", "referring_site"})


def _snake(key: str) -> str:
    return re.sub(r"(?<=[a-z0-9])(?=[A-Z])", "_", key).lower().replace("-", "_")


@dataclass(frozen=True)
class Subject:
    """Whom a privacy request is about: any of their e-mails and phones (as given), their
    ids on channels ((channel, channel customer id)) and orders the channel names
    ((channel, external id), e.g. Shopify's `orders_to_redact`)."""

    emails: frozenset[str] = frozenset()
    phones: frozenset[str] = frozenset()
    channel_ids: frozenset[tuple[str, str]] = frozenset()
    orders: frozenset[tuple[str, str]] = frozenset()

    @classmethod
    def of(cls, *, emails: Iterable[str | None] = (), phones: Iterable[str | None] = (),
           channel_ids: Iterable[tuple[str, str]] = (), orders: Iterable[tuple[str, str]] = ()) -> "Subject":
        return cls(frozenset(e.strip() for e in emails if e and e.strip()),
                   frozenset(p.strip() for p in phones if p and p.strip()),
                   frozenset((c, str(i)) for c, i in channel_ids if c and i),
                   frozenset((c, str(i)) for c, i in orders if c and i))

    @property
    def is_empty(self) -> bool:
        return not (self.emails or self.phones or self.channel_ids or self.orders)

    @property
    def keys(self) -> frozenset[str]:
        """The unified-customer match keys ('email:...', 'phone:...') of the subject."""
        out: set[str] = set()
        for e in self.emails:
            out.update(match_keys(email=e))
        for p in self.phones:
            out.update(match_keys(phone=p))
        return frozenset(out)

    def with_keys(self, keys: Iterable[str]) -> "Subject":
        """The subject with the e-mails and phones of stored profile keys added."""
        emails, phones = set(self.emails), set(self.phones)
        for k in keys:
            kind, _, value = k.partition(":")
            (emails if kind == "email" else phones if kind == "phone" else set()).add(value)
        return replace(self, emails=frozenset(emails), phones=frozenset(phones))

    def matches_email(self, value: str | None) -> bool:
        if not isinstance(value, str):
            return False
        n = normalize_email(value)
        return bool(n) and any(n == normalize_email(e) or value.strip().lower() == e.lower() for e in self.emails)

    def matches_phone(self, value: str | None) -> bool:
        n = normalize_phone(value) if isinstance(value, str) else None
        return bool(n) and any(n == normalize_phone(p) for p in self.phones)

    def literals(self) -> list[str]:
        """Strings to look for in stored text (raw and normalized forms)."""
        out = set(self.emails) | {e.lower() for e in self.emails}
        out |= {n for e in self.emails if (n := normalize_email(e))}
        out |= set(self.phones) | {n for p in self.phones if (n := normalize_phone(p))}
        return sorted((s for s in out if len(s) >= 5), key=len, reverse=True)


@dataclass
class _Eraser:
    subject: Subject
    patterns: list[re.Pattern] = field(default_factory=list)

    def __post_init__(self) -> None:
        for e in sorted(self.subject.emails | {x for e in self.subject.emails if (x := normalize_email(e))},
                        key=len, reverse=True):
            self.patterns.append(re.compile(re.escape(e), re.IGNORECASE))
        for p in self.subject.phones:
            n = normalize_phone(p)
            digits = (n or "").lstrip("+")
            if len(digits) < 7:
                continue
            # The national number with any separators between its digits, with or without
            # the country code in front: '+1 (415) 555-0175', '415.555.0175', '+14155550175'.
            national = digits[1:] if digits.startswith("1") and len(digits) == 11 else digits
            sep = r"[\s().\-]*"
            body = sep.join(re.escape(d) for d in national)
            self.patterns.append(re.compile(rf"(?<!\d)(?:\+?\d{{1,3}}{sep})?\(?{body}(?!\d)"))
            if national != digits:
                self.patterns.append(re.compile(rf"(?<!\d){sep.join(re.escape(d) for d in digits)}(?!\d)"))

    def text(self, value: str) -> str:
        for pattern in self.patterns:
            value = pattern.sub(ERASED, value)
        return value


def erase_identifiers(value: Any, subject: Subject) -> Any:
    """Every string in `value` (nested dicts and lists too) with the subject's e-mails
    and phone numbers, however written, replaced."""
    eraser = _Eraser(subject)

    def walk(v: Any) -> Any:
        if isinstance(v, str):
            return eraser.text(v)
        if isinstance(v, dict):
            return {k: walk(x) for k, x in v.items()}
        if isinstance(v, list):
            return [walk(x) for x in v]
        return v

    return walk(value)


def _blank(value: Any) -> Any:
    if isinstance(value, list):
        return []
    if isinstance(value, dict):
        return {}
    return None


def erase_payload(value: Any, *, inside_person: bool = False, blank=_blank, gone: Any = None) -> Any:
    """A channel payload (parsed JSON) without the personal data it carries (see the
    module docstring); the structure, ids, lines and amounts stay. `blank` and `gone`
    say what replaces a personal value (masked_payload shows `[masked]` instead)."""
    if isinstance(value, list):
        return [erase_payload(v, inside_person=inside_person, blank=blank, gone=gone) for v in value]
    if not isinstance(value, dict):
        return gone if inside_person and value is not None and not isinstance(value, bool) else value
    out: dict = {}
    for k, v in value.items():
        key = _snake(k) if isinstance(k, str) else k
        if key in PERSONAL_LEAVES:
            out[k] = blank(v)
        elif inside_person:  # flags (verified_email, default) say nothing of who: they stay
            out[k] = v if key in KEPT_IN_PERSON or isinstance(v, bool) else (
                erase_payload(v, inside_person=True, blank=blank, gone=gone) if isinstance(v, (dict, list)) else gone)
        elif key in PERSON_OBJECTS and v is not None:
            out[k] = erase_payload(v, inside_person=True, blank=blank, gone=gone) if isinstance(v, (dict, list)) else gone
        else:
            out[k] = erase_payload(v, blank=blank, gone=gone)
    return out


def _mask(value: Any) -> Any:
    return None if value is None or value == "" else MASKED if not isinstance(value, (dict, list)) else _blank(value)


def masked_payload(value: Any) -> Any:
    """The payload (an order's document, an inbox row's body) as a reader without access
    to personal data sees it: what erasure would remove shows `[masked]` (empty values
    stay empty, so the reader can tell there was something); the rest is as stored."""
    return erase_payload(value, blank=_mask, gone=MASKED)


def payload_names_subject(value: Any, subject: Subject) -> bool:
    """Whether a payload names the subject: an e-mail or phone of theirs under any key."""
    found = False

    def walk(v: Any) -> None:
        nonlocal found
        if found:
            return
        if isinstance(v, dict):
            for k, x in v.items():
                key = _snake(k) if isinstance(k, str) else ""
                if isinstance(x, str) and (("email" in key and subject.matches_email(x))
                                           or ("phone" in key and subject.matches_phone(x))):
                    found = True
                    return
                walk(x)
        elif isinstance(v, list):
            for x in v:
                walk(x)

    walk(value)
    return found


def anonymized(order: Order) -> Order:
    """The order without its buyer: see the module docstring for what stays."""
    a = order.shipping_address
    return replace(order, customer=NO_CUSTOMER, notes="",
                   shipping_address=None if a is None else Address(country=a.country))
