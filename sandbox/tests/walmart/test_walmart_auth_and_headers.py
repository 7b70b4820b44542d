"""Tokens of 15 minutes from client credentials, the three required headers, and Walmart's
error shape for each refusal."""

from __future__ import annotations

import pytest

from omnihub_sandbox.walmart.contract import problems
from walmart_sandbox_harness import Seller, basic, headers

CALLS = [("GET", "/v3/orders", {}), ("GET", "/v3/inventory", {"params": {"sku": "WM-00001"}}),
         ("POST", "/v3/feeds", {"params": {"feedType": "inventory"}, "content": b"{}"}),
         ("GET", "/v3/webhooks/subscriptions", {})]


def _error(answer, status: int, code: str, field: str | None = None) -> dict:
    assert answer.status_code == status, answer.text
    assert problems("ErrorResponse", answer.json()) == []
    error = answer.json()["errors"][0]
    assert error["code"].split(".")[0] == code
    if field is not None:
        assert error["field"] == field
    return error


def test_client_credentials_give_a_bearer_token_of_15_minutes(seller: Seller) -> None:
    answer = seller.http.post("/v3/token", data={"grant_type": "client_credentials"},
                              headers={**headers(), "Authorization": basic(seller.config.client_id, seller.config.client_secret)})
    assert answer.status_code == 200
    body = answer.json()
    assert problems("TokenResponse", body) == []
    assert body["token_type"] == "Bearer" and body["expires_in"] == 900
    assert seller.call("GET", "/v3/orders", headers={"WM_SEC.ACCESS_TOKEN": body["access_token"]}).status_code == 200


@pytest.mark.parametrize("credentials, status, code", [
    (("sandbox-walmart-client-id", "wrong"), 401, "UNAUTHORIZED"),
    (("someone-else", "sandbox-walmart-client-secret"), 401, "UNAUTHORIZED"),
])
def test_wrong_credentials_are_refused(seller: Seller, credentials, status, code) -> None:
    answer = seller.http.post("/v3/token", data={"grant_type": "client_credentials"},
                              headers={**headers(), "Authorization": basic(*credentials)})
    _error(answer, status, code)


def test_the_token_call_needs_its_headers_basic_auth_and_the_grant(seller: Seller) -> None:
    good = basic(seller.config.client_id, seller.config.client_secret)
    for missing in ("WM_SVC.NAME", "WM_QOS.CORRELATION_ID"):
        sent = {**headers(), "Authorization": good}
        del sent[missing]
        _error(seller.http.post("/v3/token", data={"grant_type": "client_credentials"}, headers=sent),
               400, "INVALID_REQUEST_HEADER", missing)
    _error(seller.http.post("/v3/token", data={"grant_type": "client_credentials"}, headers=headers()),
           400, "INVALID_REQUEST_HEADER", "Authorization")
    _error(seller.http.post("/v3/token", data={"grant_type": "client_credentials"},
                            headers={**headers(), "Authorization": "Bearer abc"}), 401, "UNAUTHORIZED")
    _error(seller.http.post("/v3/token", data={"grant_type": "password"}, headers={**headers(), "Authorization": good}),
           400, "INVALID_REQUEST_PARAM", "grant_type")
    _error(seller.http.post("/v3/token", json={"grant_type": "client_credentials"},
                            headers={**headers(), "Authorization": good}), 415, "UNSUPPORTED_MEDIA_TYPE")


@pytest.mark.parametrize("method, url, kw", CALLS)
@pytest.mark.parametrize("missing", ["WM_SEC.ACCESS_TOKEN", "WM_QOS.CORRELATION_ID", "WM_SVC.NAME"])
def test_each_required_header_missing_or_blank_is_invalid_request_header(seller: Seller, method, url, kw, missing) -> None:
    token = seller.login()
    sent = headers(token)
    del sent[missing]
    error = _error(seller.http.request(method, url, headers=sent, **kw), 400, "INVALID_REQUEST_HEADER", missing)
    assert error["category"] == "DATA" and error["severity"] == "ERROR"
    blank = {**headers(token), missing: "  "}
    _error(seller.http.request(method, url, headers=blank, **kw), 400, "INVALID_REQUEST_HEADER", missing)


def test_a_token_expires_after_15_minutes_on_the_sandbox_clock(seller: Seller, clock) -> None:
    token = seller.login()
    clock.advance(899)
    assert seller.http.get("/v3/orders", headers=headers(token)).status_code == 200
    clock.advance(1)
    error = _error(seller.http.get("/v3/orders", headers=headers(token)), 401, "UNAUTHORIZED")
    assert "expired" in error["description"]
    assert seller.login() != token and seller.http.get("/v3/orders", headers=headers(seller.token)).status_code == 200


def test_an_unknown_token_is_unauthorized(seller: Seller) -> None:
    error = _error(seller.http.get("/v3/orders", headers=headers("eyJ-not-issued")), 401, "UNAUTHORIZED")
    assert "not valid" in error["description"]


def test_the_correlation_id_comes_back(seller: Seller) -> None:
    sent = headers(seller.login())
    answer = seller.http.get("/v3/orders", headers=sent)
    assert answer.headers["WM_QOS.CORRELATION_ID"] == sent["WM_QOS.CORRELATION_ID"]


def test_unknown_paths_and_methods_answer_in_walmarts_shape(seller: Seller) -> None:
    _error(seller.call("GET", "/v3/no-such-api"), 404, "URI_NOT_FOUND")
    _error(seller.call("DELETE", "/v3/orders"), 405, "METHOD_NOT_ALLOWED")


def test_a_restarted_sandbox_keeps_its_tokens_clock_and_world(make_seller, config, clock) -> None:
    first = make_seller(config)
    token = first.login()
    first.advance(100)
    first.set_item("WM-00001", **{"10001": {"quantity": 3, "shelf": 3}})
    po = first.bought(("WM-00001", 1))
    first.http.app.state.sandbox.store.close()
    again = make_seller(config)
    assert again.http.get("/_sandbox/clock").json()["offset_seconds"] == 100
    assert again.http.get("/v3/orders", headers=headers(token)).status_code == 200
    again.token = token
    assert again.order(po)["purchaseOrderId"] == po
    assert again.item("WM-00001")["nodes"]["10001"] == {"input_qty": 3, "reserved": 1, "avail_to_sell": 2, "shelf": 2}
