"""The app installed on the shop, and its uninstalling (``app/uninstalled``).

When the merchant uninstalls the app, Shopify sends ``app/uninstalled`` (the shop, as its
sample payload has it) to the app's subscriptions, then deletes them and revokes the app's
access token: every Admin API call answers 401 from then on. The sandbox does the same; a
reinstall (``POST /_sandbox/app/install``) lets the configured tokens in again (Shopify would
issue a new token; the sandbox keeps its configured one).
"""

from __future__ import annotations

from .events import Event

UNINSTALLED_AT = "app_uninstalled_at"


def is_installed(shop) -> bool:
    return shop.store.get_meta(UNINSTALLED_AT) is None


def shop_body(shop) -> dict:
    """The shop, in the REST shape of app/uninstalled's sample payload."""
    config = shop.config
    first = shop.store.one("SELECT * FROM locations ORDER BY id LIMIT 1")
    return {
        "id": shop.shop_id, "name": config.shop_name, "email": f"owner@{config.shop_domain}", "domain": None,
        "province": first["province"] if first else None, "country": "US",
        "address1": first["address1"] if first else None, "zip": first["zip"] if first else None,
        "city": first["city"] if first else None, "source": None, "phone": None, "latitude": None, "longitude": None,
        "primary_locale": "en", "address2": None, "created_at": None, "updated_at": None, "country_code": "US",
        "country_name": "United States", "currency": "USD", "customer_email": f"owner@{config.shop_domain}",
        "timezone": "(GMT+00:00) UTC", "iana_timezone": None, "shop_owner": "Sandbox Owner", "money_format": "${{amount}}",
        "money_with_currency_format": "${{amount}} USD", "weight_unit": "kg",
        "province_code": first["province_code"] if first else None, "taxes_included": None,
        "auto_configure_tax_inclusivity": None, "tax_shipping": None, "county_taxes": None,
        "plan_display_name": config.plan.display_name, "plan_name": config.plan.value, "has_discounts": False,
        "has_gift_cards": False, "myshopify_domain": None, "google_apps_domain": None, "google_apps_login_enabled": None,
        "money_in_emails_format": "${{amount}}", "money_with_currency_in_emails_format": "${{amount}} USD",
        "eligible_for_payments": True, "requires_extra_payments_agreement": False, "password_enabled": None,
        "has_storefront": True, "finances": True, "primary_location_id": first["id"] if first else None,
        "checkout_api_supported": True, "multi_location_enabled": True, "setup_required": False,
        "pre_launch_enabled": False, "enabled_presentment_currencies": ["USD"],
        "marketing_sms_consent_enabled_at_checkout": False, "transactional_sms_disabled": False,
    }


def uninstall(shop) -> dict:
    """Send app/uninstalled, then drop the subscriptions and revoke access."""
    body = shop_body(shop)
    now = shop.now_iso()
    shop.publish([Event("app/uninstalled", body, now)])  # targets are taken now, before the subscriptions go
    with shop.store.tx() as conn:
        conn.execute("DELETE FROM webhook_subscriptions")
        conn.execute("INSERT OR REPLACE INTO meta(key, value) VALUES (?, ?)", (UNINSTALLED_AT, now))
    return body


def install(shop) -> None:
    with shop.store.tx() as conn:
        conn.execute("DELETE FROM meta WHERE key = ?", (UNINSTALLED_AT,))
