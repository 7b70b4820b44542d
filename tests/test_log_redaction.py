"""The log redaction (omnihub.log_redaction) and the logging set-up around it
(omnihub.logs): secrets and personal data are masked by key, by known value and by shape,
in structlog's events and the standard library's records, and tracebacks come without
their frames' local variables, on the console and in JSON lines."""

from __future__ import annotations

import json
import subprocess
import sys
import textwrap

import pytest

from omnihub.log_redaction import MASK, forget_secrets, redact_event, remember_secret, remember_secrets_of, scrub_text

from tests.conftest import PROJECT_ROOT


@pytest.fixture(autouse=True)
def _forget():
    yield
    forget_secrets()


def test_secret_and_personal_keys_are_masked_however_deep():
    event = redact_event(None, "info", {
        "event": "calling Shopify", "access_token": "abc123456", "headers": {"X-Shopify-Access-Token": "plain-value-1",
                                                                            "x-amz-access-token": "plain-value-2",
                                                                            "Content-Type": "application/json"},
        "client_secret": "plain-value-3", "refreshToken": "plain-value-4", "password": "hunter2hunter2",
        "order": {"id": 7, "email": "ana@example.com", "phone": "555 0100", "BuyerInfo": {"BuyerEmail": "x"},
                  "shipping_address": {"address1": "1 Main St", "city": "Springfield"},
                  "lines": [{"sku": "A-1", "quantity": 2, "first_name": "Ana"}]},
        "customer": {"id": 3}, "sku": "A-1", "quantity": 3, "channel": "shopify", "nothing": None,
    })
    assert event["access_token"] == event["client_secret"] == event["refreshToken"] == event["password"] == MASK
    assert event["headers"] == {"X-Shopify-Access-Token": MASK, "x-amz-access-token": MASK,
                                "Content-Type": "application/json"}
    assert event["order"] == {"id": 7, "email": MASK, "phone": MASK, "BuyerInfo": MASK, "shipping_address": MASK,
                              "lines": [{"sku": "A-1", "quantity": 2, "first_name": MASK}]}
    assert event["customer"] == MASK
    assert (event["event"], event["sku"], event["quantity"], event["channel"], event["nothing"]) == (
        "calling Shopify", "A-1", 3, "shopify", None)


def test_values_shaped_like_tokens_emails_and_phones_are_masked_in_any_text():
    text = ("Shopify shpat_0123456789abcdef and shpss_0123456789abcdef, LWA Atza|IwEBIExample-token_1 and "
            "Atzr|IwEBIRefresh-token_2, client amzn1.oa2-cs.v1.0123456789abcdef, jwt "
            "eyJhbGciOiJIUzI1NiJ9.eyJzdWIiOiIxMjM0NTYifQ.c2lnbmF0dXJl, fernet gAAAAABmExampleExampleExample==, "
            "Authorization: Bearer abc.def-ghi_jkl, db postgresql+psycopg://omni:pa55word@db:5432/hub, "
            "mail Ana.Doe+shop@Example.co.uk or mailto:bob@example.com, phones +1 415-555-0175, (415) 555-0175, "
            "415.555.0175 and +14155550175")
    out = scrub_text(text)
    for leaked in ("shpat_", "shpss_", "Atza|", "Atzr|", "amzn1.oa2", "eyJ", "gAAAAA", "abc.def", "pa55word",
                   "Ana.Doe", "bob@", "415", "555"):
        assert leaked not in out, (leaked, out)
    assert "postgresql+psycopg://omni:[redacted]@db:5432/hub" in out


def test_ordinary_values_are_left_alone():
    text = ("order 5551234 at 2026-12-02 05:13:53+00:00 took 0.125 s; request b5719507-5781-4a75-bb00-989fb755bc6e "
            "from 127.0.0.1:61234, gid://shopify/Order/1234567890, sku TSHIRT-RED-XL, 3 of 10, v2026-10")
    assert scrub_text(text) == text


def test_known_secrets_are_masked_wherever_they_appear():
    remember_secret("k7Qz-known-secret-value")
    remember_secrets_of({"shop_url": "https://shop.example", "access_token": "opaque-token-42",
                         "seller_id": "A2SELLER", "notification_secret": "opaque-secret-43"})
    out = scrub_text("GET https://shop.example/x?t=opaque-token-42 failed: k7Qz-known-secret-value opaque-secret-43")
    assert out == f"GET https://shop.example/x?t={MASK} failed: {MASK} {MASK}"  # the URL and ids are not secrets
    remember_secret("short", None)  # too short to mask safely: ignored
    assert scrub_text("a short word") == "a short word"


_PROGRAM = textwrap.dedent('''
    import logging, sys
    import structlog
    from omnihub.logs import configure_logging
    from omnihub.log_redaction import remember_secret

    configure_logging("DEBUG", json=sys.argv[1] == "json")
    remember_secret("Opaque-Vault-Secret-9")
    # uvicorn's way: its own handler and formatter on its own logger, not the root's
    own = logging.StreamHandler(sys.stdout)
    own.setFormatter(logging.Formatter("%(levelname)s %(name)s %(message)s"))
    uvicorn = logging.getLogger("uvicorn.error")
    uvicorn.addHandler(own)
    uvicorn.propagate = False

    def push(order):
        headers = {"X-Shopify-Access-Token": "Opaque-Vault-Secret-9"}
        street = order["shipping_address"]["address1"]
        raise RuntimeError("channel refused " + order["email"])

    order = {"email": "zelda@example.org", "shipping_address": {"address1": "1428 Quillhaven Lane"}}
    log = structlog.get_logger("omnihub.test")
    try:
        push(order)
    except RuntimeError:
        log.exception("push failed", channel="shopify", token="shpat_leaky0123456789")
        logging.getLogger("omnihub.stdlib").exception("stdlib push failed for %s", order["email"])
        uvicorn.exception("Exception in ASGI application")
    logging.getLogger("httpx").info('HTTP Request: %s %s "%s"', "POST", "https://a.example/x?email=zelda@example.org",
                                    "HTTP/1.1 200 OK")
    log.debug("debug line", order=order)
''')


@pytest.mark.parametrize("fmt", ["console", "json"])
def test_rendered_lines_and_tracebacks_hold_no_secret_and_no_locals(fmt, tmp_path):
    program = tmp_path / "program.py"
    program.write_text(_PROGRAM)
    done = subprocess.run([sys.executable, str(program), fmt], capture_output=True, text=True, timeout=60,
                          cwd=PROJECT_ROOT)
    assert done.returncode == 0, done.stderr
    out = done.stdout + done.stderr
    for secret in ("Opaque-Vault-Secret-9", "shpat_leaky", "zelda@example.org", "1428 Quillhaven Lane", "Quillhaven"):
        assert secret not in out, (secret, out)
    for line in ("push failed", "stdlib push failed for [redacted]", "Exception in ASGI application",
                 "email=[redacted]", "debug line"):
        assert line in out, (line, out)
    assert out.count("RuntimeError: channel refused [redacted]" if fmt == "console" else
                     '"exc_value": "channel refused [redacted]"') >= 2, out
    assert "headers =" not in out and "'X-Shopify-Access-Token'" not in out  # no locals
    assert "ERROR uvicorn.error Exception in ASGI application" in out  # uvicorn's own handler, scrubbed record
    if fmt == "json":
        lines = [json.loads(raw) for raw in done.stdout.splitlines() + done.stderr.splitlines() if raw.startswith("{")]
        failed = next(x for x in lines if x["event"] == "push failed")
        assert failed["token"] == MASK and failed["channel"] == "shopify"
        frames = failed["exception"][0]["frames"]
        assert frames and all("locals" not in f for f in frames)
