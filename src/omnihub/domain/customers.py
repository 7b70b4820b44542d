"""One customer across channels: the same person on Shopify, at the POS and on Amazon.

Channels give each buyer their own id; the hub matches them on a normalized email or
phone number and keeps every channel's id on one unified profile. Matching is exact on
normalized keys (not fuzzy on names): a wrong merge leaks one person's order history to
another, which is worse than a missed one, and exact keys can be indexed in the database.

Normalization:

* email: trimmed and lowercased (the local part is case-insensitive at every provider
  that matters). For Gmail / Googlemail only, dots in the local part and a "+tag" are
  removed, because Google ignores them: "Jane.Doe+shop@googlemail.com" and
  "janedoe@gmail.com" are one mailbox. Other providers are left alone: many treat
  dots as significant and not all support plus-addressing. `gmail_canonical=False` turns
  the Gmail rule off.
* phone: digits only, in E.164 form ("+14155550123"). A leading "+" or "00" marks an
  international number; otherwise a national number gets `default_country_code`
  (NANP "1" by default, with its "1" trunk prefix recognised). Fewer than 7 digits is not
  a phone number. Full per-country numbering plans are out of scope.

The service looks candidate profiles up by `match_keys` (an indexed column) and calls
`resolve`, which returns the profile to attach the order to and the profiles to merge.
"""

from __future__ import annotations

from collections.abc import Iterable, Sequence
from dataclasses import dataclass, replace

GMAIL_DOMAINS = frozenset({"gmail.com", "googlemail.com"})


def normalize_email(raw: str | None, *, gmail_canonical: bool = True) -> str | None:
    if raw is None:
        return None
    email = raw.strip().lower()
    if email.startswith("mailto:"):
        email = email[7:]
    if email.count("@") != 1:
        return None
    local, domain = email.split("@")
    domain = domain.rstrip(".")
    if not local or "." not in domain:
        return None
    if gmail_canonical and domain in GMAIL_DOMAINS:
        local = local.split("+", 1)[0].replace(".", "")
        domain = "gmail.com"
        if not local:
            return None
    return f"{local}@{domain}"


def normalize_phone(raw: str | None, *, default_country_code: str = "1") -> str | None:
    if raw is None:
        return None
    s = raw.strip()
    # An extension is not part of the number.
    for mark in ("ext", "x", "#"):
        i = s.lower().find(mark)
        if i > 0:
            s = s[:i]
    international = s.startswith("+") or s.startswith("00")
    digits = "".join(ch for ch in s if ch.isdigit())
    if international:
        if s.startswith("00"):
            digits = digits[2:]
    elif default_country_code == "1" and len(digits) == 11 and digits.startswith("1"):
        pass  # NANP number written with its trunk prefix
    else:
        digits = default_country_code + digits.lstrip("0")
    if not 7 <= len(digits) <= 15:
        return None
    return "+" + digits


def match_keys(email: str | None = None, phone: str | None = None, **normalize_kw) -> tuple[str, ...]:
    """The keys under which a profile is found: 'email:...' and/or 'phone:...'."""
    keys = []
    e = normalize_email(email, **{k: v for k, v in normalize_kw.items() if k == "gmail_canonical"})
    if e:
        keys.append(f"email:{e}")
    p = normalize_phone(phone, **{k: v for k, v in normalize_kw.items() if k == "default_country_code"})
    if p:
        keys.append(f"phone:{p}")
    return tuple(keys)


@dataclass(frozen=True, slots=True)
class ChannelCustomer:
    """A buyer as one channel knows them."""

    channel: str
    channel_customer_id: str | None
    email: str | None = None
    phone: str | None = None
    name: str = ""


@dataclass(frozen=True, slots=True)
class UnifiedCustomer:
    id: int | None  # None until the service stores it
    emails: frozenset[str] = frozenset()  # normalized
    phones: frozenset[str] = frozenset()  # normalized
    channel_ids: frozenset[tuple[str, str]] = frozenset()  # (channel, channel_customer_id)
    name: str = ""

    @property
    def keys(self) -> frozenset[str]:
        return frozenset({f"email:{e}" for e in self.emails} | {f"phone:{p}" for p in self.phones})


@dataclass(frozen=True, slots=True)
class Resolution:
    customer: UnifiedCustomer  # the profile the order belongs to (id of the oldest profile)
    merged_ids: tuple[int, ...]  # other stored profiles folded into it; repoint and delete them
    created: bool  # no stored profile matched


def merge(a: UnifiedCustomer, b: UnifiedCustomer) -> UnifiedCustomer:
    """Union of both profiles; the lower (older) stored id survives."""
    ids = [i for i in (a.id, b.id) if i is not None]
    return UnifiedCustomer(
        id=min(ids) if ids else None,
        emails=a.emails | b.emails,
        phones=a.phones | b.phones,
        channel_ids=a.channel_ids | b.channel_ids,
        name=a.name or b.name,
    )


def resolve(incoming: ChannelCustomer, candidates: Iterable[UnifiedCustomer]) -> Resolution:
    """Attach a channel's buyer to the unified profile(s) it matches.

    Candidates are stored profiles sharing a match key or the (channel, id) pair; any that
    truly match are merged (one person found under two profiles is one customer: e.g. a
    POS profile with a phone and a web profile with an email, joined by an order that
    carries both). A buyer matching nothing gets a new, unsaved profile (`id=None`).
    """
    email = normalize_email(incoming.email)
    phone = normalize_phone(incoming.phone)
    own = UnifiedCustomer(
        id=None,
        emails=frozenset({email}) if email else frozenset(),
        phones=frozenset({phone}) if phone else frozenset(),
        channel_ids=(
            frozenset({(incoming.channel, incoming.channel_customer_id)})
            if incoming.channel_customer_id else frozenset()
        ),
        name=incoming.name,
    )
    matches: Sequence[UnifiedCustomer] = sorted(
        (c for c in candidates if (c.keys & own.keys) or (c.channel_ids & own.channel_ids)),
        key=lambda c: (c.id is None, c.id or 0),
    )
    if not matches:
        return Resolution(own, (), created=True)
    result = matches[0]
    for other in matches[1:]:
        result = merge(result, other)
    result = merge(result, own)
    if not result.name:
        result = replace(result, name=incoming.name)
    merged_ids = tuple(c.id for c in matches[1:] if c.id is not None and c.id != result.id)
    return Resolution(result, merged_ids, created=False)
