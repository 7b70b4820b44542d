"""Amazon notifications are authenticated before anything is stored: the forwarder that
drains the SQS queue signs each body with the channel's notification secret
(X-Omnihub-Hmac-Sha256). A missing, wrong or stale signature, or a body changed on the
way, is 401 problem+json and leaves the inbox empty; an authentic delivery is stored
once per NotificationId, even when it cannot be read. Over real HTTP against the hub's
API, and from the Amazon sandbox, which signs as the forwarder does."""

from __future__ import annotations

import json

import httpx
import sqlalchemy as sa
from cryptography.fernet import Fernet

from omnihub.adapters.channels.amazon.notification_signature import HEADER, sign
from omnihub.adapters.channels.credentials import CredentialVault
from omnihub.adapters.db import tables as t
from tests.conftest import admin_app

SECRET = "forwarder-secret"


def _hub_api(hub, serve, secret: str | None = SECRET):
    hub.vault = CredentialVault(hub.engine, Fernet.generate_key().decode())
    if secret:
        hub.vault.put("amazon_seller", {"endpoint": "http://unused", "notification_secret": secret})
    return serve(admin_app(hub))


def _note(nid: str = "n-1", quantity: int = 3) -> bytes:
    return json.dumps({
        "NotificationVersion": "1.0", "NotificationType": "LISTINGS_ITEM_MFN_QUANTITY_CHANGE", "PayloadVersion": "1.0",
        "EventTime": "2026-11-01T10:00:00Z",
        "Payload": {"SellerId": "S", "FulfillmentChannelCode": "DEFAULT", "Sku": "A", "Quantity": quantity},
        "NotificationMetadata": {"ApplicationId": "app", "SubscriptionId": "sub", "PublishTime": "2026-11-01T10:00:00Z",
                                 "NotificationId": nid}}).encode()


def _post(url: str, body: bytes, signature: str | None):
    headers = {"Content-Type": "application/json"} | ({HEADER: signature} if signature is not None else {})
    return httpx.post(url + "/webhooks/amazon", content=body, headers=headers)


def _inbox(hub) -> list[tuple[str, str]]:
    ib = t.channel_inbox
    with hub.engine.connect() as conn:
        return [tuple(r) for r in conn.execute(sa.select(ib.c.delivery_id, ib.c.state).where(ib.c.source == "amazon")
                                               .order_by(ib.c.id))]


def _assert_refused(answer) -> None:
    assert answer.status_code == 401, answer.text
    assert answer.headers["content-type"] == "application/problem+json"
    assert answer.json()["code"] == "bad_signature"


def test_a_missing_wrong_or_foreign_signature_is_401_and_stores_nothing(stocked, serve):
    hub = stocked
    api = _hub_api(hub, serve)
    body = _note()
    _assert_refused(_post(api.url, body, None))
    _assert_refused(_post(api.url, body, ""))
    _assert_refused(_post(api.url, body, sign(body, "another-secret")))
    _assert_refused(_post(api.url, body, "not base64 at all"))
    assert _inbox(hub) == []
    assert 'omnihub_webhook_deliveries_total{outcome="rejected",source="amazon"}' in httpx.get(api.url + "/metrics").text


def test_a_body_changed_after_signing_is_401(stocked, serve):
    hub = stocked
    api = _hub_api(hub, serve)
    signature = sign(_note(quantity=3), SECRET)
    _assert_refused(_post(api.url, _note(quantity=300), signature))
    # Same JSON, other bytes: the digest is over what was sent, not over a re-serialisation.
    _assert_refused(_post(api.url, json.dumps(json.loads(_note(quantity=3)), indent=1).encode(), signature))
    assert _inbox(hub) == []


def test_a_channel_without_a_notification_secret_accepts_nothing(stocked, serve):
    hub = stocked
    api = _hub_api(hub, serve, secret=None)
    body = _note()
    _assert_refused(_post(api.url, body, sign(body, "")))
    _assert_refused(_post(api.url, body, sign(body, SECRET)))
    assert _inbox(hub) == []


def test_authentic_notifications_are_stored_once_and_processed(stocked, serve):
    hub = stocked
    api = _hub_api(hub, serve)
    body = _note("n-1", quantity=3)
    assert _post(api.url, body, sign(body, SECRET)).json() == {"status": "accepted"}
    assert _post(api.url, body, sign(body, SECRET)).json() == {"status": "duplicate"}
    other = _note("n-2", quantity=4)
    assert _post(api.url, other, sign(other, SECRET)).json() == {"status": "accepted"}
    assert _inbox(hub) == [("n-1", "pending"), ("n-2", "pending")]
    assert hub.inbox.drain() == 2
    assert _inbox(hub) == [("n-1", "done"), ("n-2", "done")]


def test_an_authentic_but_unreadable_payload_is_kept_for_an_operator(stocked, serve):
    hub = stocked
    api = _hub_api(hub, serve)
    garbage = b'{"NotificationType": "ORDER_CHANGE", "Payload": '
    assert _post(api.url, garbage, sign(garbage, SECRET)).json() == {"status": "accepted"}
    assert _post(api.url, garbage, sign(garbage, SECRET)).json() == {"status": "duplicate"}  # by content hash
    assert hub.inbox.drain() == 1
    failures = httpx.get(api.url + "/api/v1/sync/inbox/failures").json()["failures"]
    assert len(failures) == 1 and failures[0]["source"] == "amazon"
    assert failures[0]["delivery_id"].startswith("sha256:") and failures[0]["error"].startswith("JSONDecodeError")
    with hub.engine.connect() as conn:
        assert conn.execute(sa.select(t.channel_inbox.c.body)).scalar_one() == garbage.decode()


def test_the_sandbox_signs_what_it_delivers_and_keeps_what_is_refused(stocked, serve, amazon_sandbox, tmp_path):
    """The sandbox, as Amazon plus the forwarder: signed with the hub's secret, its
    notifications land; signed with another, they are refused and stay in its queue."""
    hub = stocked
    api = _hub_api(hub, serve)
    honest, _, _ = amazon_sandbox(catalog_size=0, notification_destination=api.url + "/webhooks/amazon",
                                  notification_signing_secret=SECRET, tick_seconds=60)
    assert httpx.put(f"{honest.url}/_sandbox/listings/A", json={"quantity": 5}).status_code == 200
    assert httpx.post(honest.url + "/_sandbox/notifications/deliver").json()["delivered"] == 1
    sent = httpx.get(honest.url + "/_sandbox/notifications").json()["notifications"]
    assert [n["sent"] for n in sent] == [True]
    assert _inbox(hub) == [(sent[0]["notification"]["NotificationMetadata"]["NotificationId"], "pending")]

    impostor, _, _ = amazon_sandbox(state_path=tmp_path / "impostor.db", catalog_size=0, tick_seconds=60,
                                    notification_destination=api.url + "/webhooks/amazon",
                                    notification_signing_secret="not-the-hubs")
    assert httpx.put(f"{impostor.url}/_sandbox/listings/B", json={"quantity": 5}).status_code == 200
    assert httpx.post(impostor.url + "/_sandbox/notifications/deliver").json()["delivered"] == 0
    assert [n["sent"] for n in httpx.get(impostor.url + "/_sandbox/notifications").json()["notifications"]] == [False]
    assert len(_inbox(hub)) == 1
