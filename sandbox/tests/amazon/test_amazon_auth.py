"""Login with Amazon and the x-amz-access-token check."""

from __future__ import annotations

from amazon_sandbox_harness import MARKETPLACE, Seller

ORDERS = "/orders/v0/orders"
UNAUTHORIZED = {"code": "Unauthorized", "message": "Access to requested resource is denied."}


def _form(seller: Seller, **changes: str) -> dict[str, str]:
    cfg = seller.config
    form = {"grant_type": "refresh_token", "refresh_token": cfg.lwa_refresh_token,
            "client_id": cfg.lwa_client_id, "client_secret": cfg.lwa_client_secret}
    form.update(changes)
    return {k: v for k, v in form.items() if v is not None}


def test_refresh_token_buys_a_one_hour_bearer_token(seller: Seller) -> None:
    answer = seller.http.post("/auth/o2/token", data=_form(seller))
    assert answer.status_code == 200
    body = answer.json()
    assert set(body) == {"access_token", "token_type", "expires_in", "refresh_token"}
    assert body["token_type"] == "bearer" and body["expires_in"] == 3600
    assert body["access_token"].startswith("Atza|")


def test_bad_credentials_answer_lwa_errors(seller: Seller) -> None:
    bad_secret = seller.http.post("/auth/o2/token", data=_form(seller, client_secret="nope"))
    assert bad_secret.status_code == 401 and bad_secret.json()["error"] == "invalid_client"
    bad_grant = seller.http.post("/auth/o2/token", data=_form(seller, refresh_token="Atzr|stolen"))
    assert bad_grant.status_code == 400 and bad_grant.json()["error"] == "invalid_grant"
    assert bad_grant.json()["error_description"]
    wrong_type = seller.http.post("/auth/o2/token", data=_form(seller, grant_type="authorization_code"))
    assert wrong_type.status_code == 400 and wrong_type.json()["error"] == "unsupported_grant_type"
    missing = seller.http.post("/auth/o2/token", data=_form(seller, refresh_token=None))
    assert missing.status_code == 400 and missing.json()["error"] == "invalid_request"


def test_missing_or_unknown_token_is_403_unauthorized(seller: Seller) -> None:
    params = {"MarketplaceIds": MARKETPLACE, "CreatedAfter": "2025-01-01T00:00:00Z"}
    for headers in ({}, {"x-amz-access-token": "Atza|made-up"}):
        answer = seller.http.get(ORDERS, params=params, headers=headers)
        assert answer.status_code == 403
        (error,) = answer.json()["errors"]
        assert {k: error[k] for k in UNAUTHORIZED} == UNAUTHORIZED and "details" in error
        assert answer.headers["x-amzn-RequestId"]
        assert "x-amzn-RateLimit-Limit" not in answer.headers
    assert seller.http.get(ORDERS, params=params).json()["errors"][0]["details"] == ""


def test_access_token_expires_after_an_hour(seller: Seller, clock) -> None:
    params = {"MarketplaceIds": MARKETPLACE, "CreatedAfter": "2025-01-01T00:00:00Z"}
    seller.login()
    clock.advance(3599)
    assert seller.call("GET", ORDERS, params=params).status_code == 200
    clock.advance(1)
    expired = seller.call("GET", ORDERS, params=params)
    assert expired.status_code == 403
    assert expired.json()["errors"][0]["code"] == "Unauthorized"
    assert "expired" in expired.json()["errors"][0]["details"]
    seller.login()
    assert seller.call("GET", ORDERS, params=params).status_code == 200
