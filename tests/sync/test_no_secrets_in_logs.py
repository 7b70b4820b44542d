"""No log line of a real worker carries a credential or a customer's personal data, even
when the channels fail and the worker logs tracebacks.

A real `omnihub worker` process (two of them: the console format and JSON lines, both
at DEBUG) runs against the Shopify and Amazon sandboxes behind relays that break some
calls: Shopify's second page of orders drops the connection mid-answer (the traceback
then runs through httpx, whose frames hold the request headers), its location levels
answer 500, and Amazon's getOrderItems answers 500 (the SP-API client's frame holds the
live access token, the poll's frame the order with the buyer's e-mail and address). A
customer with a name, e-mail, phone and street address buys on both channels first.
Every log is then searched for each secret and each piece of that customer's data.
(Which of these failures ends in a traceback depends on how each job copes with it; the
test needs at least one channel failure's traceback in each log.)
"""

from __future__ import annotations

import json
import secrets as random_secrets

from cryptography.fernet import Fernet

from tests.sync.channel_world import build_world
from tests.sync.conftest import SHOPIFY_SECRET, SHOPIFY_TOKEN, amazon_secrets, shopify_secrets, wait_until
from tests.sync.worker_process import SlowLink, WorkerProcess

EMAIL = "zelda.quartermaine@example.org"
NAME = "Zelda Quartermaine"
PHONE = "+1 415-555-0175"
STREET = "1428 Quillhaven Lane"
CITY = "Marrowby"


class FaultyLink(SlowLink):
    """A relay that breaks the calls `fault(path, body)` names: 500 answers it, "drop"
    sends the head of an answer and closes the connection. It keeps the SP-API access
    tokens it relays (what the worker holds, to search for)."""

    def __init__(self, upstream: str, fault) -> None:
        super().__init__(upstream)
        self.fault = fault
        self.access_tokens: set[str] = set()
        self.broken = 0

    async def __call__(self, scope, receive, send) -> None:
        if scope["type"] != "http":
            return await super().__call__(scope, receive, send)
        for k, v in scope["headers"]:
            if k.lower() == b"x-amz-access-token":
                self.access_tokens.add(v.decode())
        body = b""
        while True:
            message = await receive()
            body += message.get("body", b"")
            if not message.get("more_body"):
                break
        kind = self.fault(scope["path"], body)
        if kind is None:
            async def replay():
                return {"type": "http.request", "body": body, "more_body": False}

            return await super().__call__(scope, replay, send)
        self.broken += 1
        if kind == 500:
            await send({"type": "http.response.start", "status": 500, "headers": [(b"content-type", b"application/json")]})
            await send({"type": "http.response.body", "body": b'{"errors":[{"code":"InternalFailure","message":"boom"}]}'})
            return
        await send({"type": "http.response.start", "status": 200, "headers": [(b"content-length", b"1000")]})
        await send({"type": "http.response.body", "body": b'{"data":', "more_body": True})
        raise ConnectionResetError("the relay dropped the connection")


def _shopify_fault(path: str, body: bytes):
    try:
        doc = json.loads(body or b"{}")
    except ValueError:
        return None
    query = doc.get("query") or ""
    if "OrdersUpdated" in query and (doc.get("variables") or {}).get("after"):
        return "drop"
    if "ReconcileLocationLevels" in query:
        return 500
    return None


def _amazon_fault(path: str, body: bytes):
    return 500 if path.endswith("/orderItems") else None


def test_worker_logs_hold_no_secret_and_no_personal_data(hub, serve, shopify_sandbox, amazon_sandbox, clean_url, tmp_path):
    key = Fernet.generate_key().decode()
    lwa_secret = "amzn1.oa2-cs.v1." + random_secrets.token_hex(32)
    refresh_token = "Atzr|" + random_secrets.token_urlsafe(40)
    world = build_world(hub, serve, shopify_sandbox, amazon_sandbox, secret_key=key,
                        amazon_faults={"lwa_client_secret": lwa_secret, "lwa_refresh_token": refresh_token})
    world.worker.shopify.client.close()
    world.worker.amazon.client.close()
    shop_link = FaultyLink(world.shopify.url, _shopify_fault)
    amazon_link = FaultyLink(world.amazon.url, _amazon_fault)
    shop_url, amazon_url = serve(shop_link).url, serve(amazon_link).url
    hub.vault.put("shopify", shopify_secrets(shop_url))
    hub.vault.put("amazon_seller", {**amazon_secrets(amazon_url, world.amazon_cfg),
                                    "lwa_url": world.amazon.url + "/auth/o2/token"})
    skus = sorted({s for s, _ in world.hub_shows("shopify")})
    # The customer buys online first (the oldest order: on the first page of the order
    # poll, whose second page breaks), then five more orders make that second page.
    address = {"first_name": "Zelda", "last_name": "Quartermaine", "address1": STREET, "city": CITY, "province": "California",
               "province_code": "CA", "country": "United States", "country_code": "US", "zip": "94105",
               "phone": PHONE, "latitude": 37.7936, "longitude": -122.3958}
    r = world.shopify_control("POST", "/orders", json={"lines": [{"sku": skus[0], "quantity": 1}], "email": EMAIL,
                                                      "phone": PHONE, "customer_name": NAME, "shipping_address": address})
    assert r.status_code == 201, r.text
    for i in range(5):
        assert world.shopify_control("POST", "/orders", json={"lines": [{"sku": skus[1 + i % 3], "quantity": 1}],
                                                              "email": f"other{i}@example.com"}).status_code == 201
    # ...and on Amazon (the seller lists a unit by hand first), in the window getOrders serves.
    assert world.amazon_control("PUT", f"/listings/{skus[0]}", json={"quantity": 3}).status_code == 200
    r = world.amazon_control("POST", "/orders", json={"lines": [{"sku": skus[0], "quantity": 1}],
                                                      "buyer": {"name": NAME, "email": EMAIL},
                                                      "ship_to": {"postal_code": "10001", "city": CITY, "state": "NY"}})
    assert r.status_code == 201, r.text
    world.amazon_control("POST", "/clock/advance", json={"seconds": 180})  # getOrders serves up to 2 min ago
    logs = {"console": tmp_path / "worker-console.log", "json": tmp_path / "worker-json.log"}
    with WorkerProcess(clean_url, key, logs["console"], log_level="DEBUG") as console_worker, \
            WorkerProcess(clean_url, key, logs["json"], log_level="DEBUG", log_json=True) as json_worker:

        wait_until(lambda: all(_channel_traceback(p.read_text(errors="replace")) for p in logs.values()), 120, 0.5)
        console_worker.terminate(timeout=30)
        json_worker.terminate(timeout=30)
    assert amazon_link.access_tokens, "the worker never called the SP-API"
    wanted = {"Shopify admin token": SHOPIFY_TOKEN, "Shopify client secret": SHOPIFY_SECRET,
              "LWA client secret": lwa_secret, "LWA refresh token": refresh_token, "Fernet secret key": key,
              **{f"Amazon access token {i}": tok for i, tok in enumerate(sorted(amazon_link.access_tokens))},
              "customer e-mail": EMAIL, "customer name": NAME, "customer last name": "Quartermaine",
              "customer phone": PHONE, "customer phone digits": "4155550175", "customer street": STREET,
              "customer city": CITY}
    found = leaks({fmt: path.read_text(errors="replace") for fmt, path in logs.items()}, wanted)
    assert not found, "\n".join(found)
    # The faults did make tracebacks of channel errors (the search above was not vacuous).
    for fmt, path in logs.items():
        assert _channel_traceback(path.read_text(errors="replace")), (fmt, path.read_text(errors="replace")[-3000:])
    assert shop_link.broken and amazon_link.broken


def _channel_traceback(text: str) -> bool:
    """A traceback of a channel's failure, console (text) or JSON (structured frames)."""
    has_traceback = "Traceback (most recent call last)" in text or '"exception": [{' in text
    return has_traceback and ("ShopifyError" in text or "SpApiError" in text)


def leaks(logs: dict[str, str], wanted: dict[str, str]) -> list[str]:
    """Where each wanted value (or its JSON-escaped form, or a 16-character piece of a long
    one: a renderer may cut a value short) appears in each log, with some context."""
    found = []
    for name, text in logs.items():
        for what, value in wanted.items():
            needles = {value, json.dumps(value)[1:-1]}
            if len(value) >= 24:
                needles.add(value[len(value) // 2 - 8:len(value) // 2 + 8])
            for needle in sorted(needles):
                if needle in text:
                    at = text.index(needle)
                    found.append(f"{name} log: {what} in …{text[max(0, at - 150):at + 60]!r}")
                    break
    return found
