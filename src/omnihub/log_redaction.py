"""What must never reach a log line: credentials, tokens and customers' personal data.

Masked at the logging layer, once, for every logger (structlog's and the standard
library's: uvicorn, httpx, apscheduler...), rather than at each call site, where the
next `log.warning(..., error=str(exc))` would forget it. Three nets, each catching what
the others cannot:

1. Keys. A value logged under a key that names a secret (anything with token, secret,
   password, authorization, signature, cookie... in it: `access_token`,
   `X-Shopify-Access-Token`, `client_secret`) or personal data (`email`, `phone`,
   `first_name`, `shipping_address`, `BuyerEmail`...) is replaced whole, however deep in
   a dict or list it sits. Keys are compared in snake case (`BuyerEmail` is
   `buyer_email`).
2. Known values. The credentials the hub itself holds are remembered as they are
   decrypted or obtained (the vault's secrets, the Fernet key, each LWA access token:
   `remember_secret`), and masked wherever they appear in any text, an exception's message
   or a URL included.
3. Shapes. Text that looks like a token (Shopify `shpat_`/`shpss_`..., LWA `Atza|`/`Atzr|`
   and `amzn1.oa2-cs`, JWTs, Fernet tokens, `Bearer ...`), an e-mail address, a phone
   number or a password in a URL is masked wherever it appears, so a credential the hub
   never saw (a channel echoing one in an error) is caught too.

Tracebacks are the other half (omnihub.logs): rendered without local variables, since a
frame's locals are exactly where tokens and order payloads live; what is left (code
lines, exception messages) goes through the nets above.

Names and street addresses have no shape: outside a named key they are caught only as
known values. That is why tracebacks carry no locals and log calls pass ids, not
payloads.
"""

from __future__ import annotations

import logging
import re
import threading
from collections.abc import Iterable, Mapping, MutableMapping
from typing import Any

MASK = "[redacted]"

#: a key holding any of these (snake case) holds a secret
_SECRET_PARTS = ("token", "secret", "password", "passwd", "authorization", "api_key", "apikey", "cookie", "signature",
                 "hmac", "credential", "private_key", "session_id", "fernet")
#: keys whose value is personal data (snake case, exact)
PERSONAL_KEYS = frozenset({
    "email", "e_mail", "emails", "contact_email", "buyer_email", "customer_email", "email_address",
    "phone", "phones", "phone_number", "mobile", "telephone",
    "name_first", "first_name", "last_name", "full_name", "customer_name", "buyer_name", "recipient_name",
    "display_name", "given_name", "family_name",
    "address", "address1", "address2", "address3", "address_line1", "address_line2", "address_line3", "line1", "line2",
    "street", "city", "zip", "postal_code", "postcode", "shipping_address", "billing_address", "default_address",
    "addresses", "ship_to", "buyer_info", "buyer", "customer", "browser_ip", "client_ip", "ip_address",
})

_TOKENS = re.compile(
    r"shp(?:at|ss|ca|pa|ua|tka)_[A-Za-z0-9_\-]{4,}"  # Shopify access tokens, client secrets
    r"|Atz[ar]\|[A-Za-z0-9_\-|.=+/]{8,}"  # Login with Amazon access / refresh tokens
    r"|amzn1\.oa2-cs\.v1\.[A-Za-z0-9]{8,}"  # LWA client secrets
    r"|eyJ[A-Za-z0-9_\-]{8,}\.[A-Za-z0-9_\-]{8,}\.[A-Za-z0-9_\-]*"  # JWTs
    r"|gAAAAA[A-Za-z0-9_\-=]{20,}"  # Fernet tokens (encrypted credentials)
    r"|(?i:bearer|basic)\s+[A-Za-z0-9._~+/=\-]{8,}"  # Authorization header values
)
_URL_PASSWORD = re.compile(r"(?P<head>[A-Za-z][A-Za-z0-9+.\-]*://[^/\s:@]*:)[^/\s@]+@")
_EMAIL = re.compile(r"(?:mailto:)?[A-Za-z0-9._%+\-]+@[A-Za-z0-9\-]+(?:\.[A-Za-z0-9\-]+)*\.[A-Za-z]{2,}")
# +15551234567; (555) 123-4567; 555-123-4567; +1 415.555.0175. Not dates (4-2-2) or times.
_PHONE = re.compile(r"(?<![\w+])(?:\+\d{7,15}\b|(?:\+\d{1,3}[\s.\-]?)?(?:\(\d{3}\)\s?|\d{3}[\s.\-])\d{3}[\s.\-]\d{4}(?!\d))")

_known: set[str] = set()
_known_pattern: re.Pattern | None = None
_lock = threading.Lock()


def remember_secret(*values: str | None) -> None:
    """Mask these values wherever they appear in a log line from now on (credentials the
    hub holds: called where they are decrypted or obtained). Short values (under 6
    characters) are ignored: masking them would mangle ordinary words."""
    global _known_pattern
    fresh = {v for v in values if isinstance(v, str) and len(v) >= 6 and v not in _known}
    if not fresh:
        return
    with _lock:
        _known.update(fresh)
        _known_pattern = re.compile("|".join(re.escape(v) for v in sorted(_known, key=len, reverse=True)))


def remember_secrets_of(secrets: Mapping[str, Any]) -> None:
    """Remember the values of a credentials dict whose keys name secrets (`access_token`,
    `client_secret`, `refresh_token`...), not its URLs and ids."""
    remember_secret(*(v for k, v in secrets.items() if is_secret_key(k) and isinstance(v, str)))


def _snake(key: str) -> str:
    return re.sub(r"(?<=[a-z0-9])(?=[A-Z])", "_", key).lower().replace("-", "_").replace(" ", "_")


def is_secret_key(key: str) -> bool:
    k = _snake(key)
    return any(part in k for part in _SECRET_PARTS)


def is_personal_key(key: str) -> bool:
    return _snake(key) in PERSONAL_KEYS


def scrub_text(text: str) -> str:
    """The text with every known secret and every token, e-mail, phone number and URL
    password masked."""
    pattern = _known_pattern
    if pattern is not None:
        text = pattern.sub(MASK, text)
    text = _TOKENS.sub(MASK, text)
    text = _URL_PASSWORD.sub(lambda m: m.group("head") + MASK + "@", text)
    text = _EMAIL.sub(MASK, text)
    return _PHONE.sub(MASK, text)


_PLAIN = (int, float, bool, type(None))


def scrub(value: Any, _depth: int = 0) -> Any:
    """A log value with secrets and personal data masked: dicts by key, then every text.
    Other objects become their masked repr (what a renderer would print of them)."""
    if isinstance(value, str):
        return scrub_text(value)
    if isinstance(value, _PLAIN):
        return value
    if _depth > 20:
        return MASK
    if isinstance(value, Mapping):
        return {k: (_masked(v) if isinstance(k, str) and (is_secret_key(k) or is_personal_key(k)) else scrub(v, _depth + 1))
                for k, v in value.items()}
    if isinstance(value, (list, tuple, set, frozenset)):
        items = [scrub(v, _depth + 1) for v in value]
        return items if isinstance(value, list) else tuple(items)
    if isinstance(value, bytes):
        return scrub_text(value.decode("utf-8", "replace"))
    return scrub_text(repr(value))


def _masked(value: Any) -> Any:
    return value if value is None or value == "" else MASK


def redact_event(logger: Any, method_name: str, event_dict: MutableMapping[str, Any]) -> dict[str, Any]:
    """The structlog processor: place it after the exception formatter (so the rendered
    traceback is scrubbed too) and before the renderer."""
    out: dict[str, Any] = {}
    for key, value in event_dict.items():
        if key.startswith("_"):  # structlog's own (the stdlib record in ProcessorFormatter)
            out[key] = value
        elif key in ("exc_info", "stack_info") and not isinstance(value, str):
            out[key] = value  # rendered (then scrubbed) by the exception formatter
        elif key not in ("event", "exception", "stack") and (is_secret_key(key) or is_personal_key(key)):
            out[key] = _masked(value)
        else:
            out[key] = scrub(value)
    return out


# -- the standard library's records -----------------------------------------------------

_base_factory = None


def _scrub_arg(value: Any) -> Any:
    return value if isinstance(value, _PLAIN) else scrub(value)


def install_record_factory() -> None:
    """Scrub every stdlib LogRecord as it is made: its message, its arguments (element by
    element, so formatters that unpack them, like uvicorn's access log, still work) and
    its traceback (rendered plain, then scrubbed, into `exc_text`). This reaches handlers
    the hub does not configure (uvicorn installs its own); records that reach the hub's
    handler are then rendered by structlog's chain, which scrubs them again."""
    global _base_factory
    if _base_factory is not None:
        return
    _base_factory = base = logging.getLogRecordFactory()
    formatter = logging.Formatter()

    def factory(*args, **kwargs) -> logging.LogRecord:
        record = base(*args, **kwargs)
        try:
            if isinstance(record.msg, str):
                record.msg = scrub_text(record.msg)
            if isinstance(record.args, tuple):
                record.args = tuple(_scrub_arg(a) for a in record.args)
            elif isinstance(record.args, Mapping):
                record.args = {k: (MASK if is_secret_key(str(k)) or is_personal_key(str(k)) else _scrub_arg(v))
                               for k, v in record.args.items()}
            if record.exc_info and not record.exc_text:
                record.exc_text = scrub_text(formatter.formatException(record.exc_info))
            if record.stack_info:
                record.stack_info = scrub_text(record.stack_info)
        except Exception:  # never lose a log line to its redaction; lose its content instead
            record.msg, record.args = f"{MASK} (a log record that could not be redacted)", ()
        return record

    logging.setLogRecordFactory(factory)


def uninstall_record_factory() -> None:
    """Back to the factory before `install_record_factory` (tests)."""
    global _base_factory
    if _base_factory is not None:
        logging.setLogRecordFactory(_base_factory)
        _base_factory = None


def known_secret_count() -> int:
    return len(_known)


def forget_secrets(values: Iterable[str] | None = None) -> None:
    """Forget remembered values (all, by default): for tests."""
    global _known_pattern
    with _lock:
        if values is None:
            _known.clear()
        else:
            _known.difference_update(values)
        _known_pattern = (re.compile("|".join(re.escape(v) for v in sorted(_known, key=len, reverse=True)))
                          if _known else None)
