"""Configuration of one simulated Amazon seller account.

Everything that makes the sandbox behave differently from one run to another is here,
so that a test or a demo can say exactly which world it wants: the credentials the
app was given, the seed of every random choice, the delays of Amazon's asynchronous
processes, the clock, and how unreliable notification delivery is.
"""

from __future__ import annotations

import os
import time
from pathlib import Path
from typing import Callable, Literal

from pydantic import BaseModel, ConfigDict, Field, field_validator

DEFAULT_MARKETPLACE_ID = "ATVPDKIKX0DER"  # amazon.com (US)


def default_contracts_dir() -> Path | None:
    """Where the official Amazon contracts live, if they are on this machine.

    ``OMNIHUB_SHARED_DIR`` when it is set (and then only there, so that pointing it at
    an empty folder shows what a user's clone does); otherwise ``../shared`` next to the
    project root (the layout of a development checkout). ``None`` when it is absent: the
    sandbox then falls back to its own structural validation of feed documents.
    """
    env = os.environ.get("OMNIHUB_SHARED_DIR")
    # parents[4]: the repository (sandbox/src/omnihub_sandbox/amazon/config.py), beside which ../shared is
    shared = Path(env) if env else Path(__file__).resolve().parents[4].parent / "shared"
    amazon = shared / "contracts" / "amazon"
    return amazon if amazon.is_dir() else None


class AmazonSandboxConfig(BaseModel):
    """One seller account on one marketplace, as the Amazon sandbox simulates it."""

    model_config = ConfigDict(arbitrary_types_allowed=True, frozen=True)

    state_path: Path = Field(description="SQLite file that holds the sandbox's state.")
    seller_id: str = "A2SANDBOXSELLER1"
    marketplace_id: str = DEFAULT_MARKETPLACE_ID
    application_id: str = "amzn1.sp.solution.sandbox-omnihub"

    # Login with Amazon credentials the simulated app was registered with.
    lwa_client_id: str = "amzn1.application-oa2-client.sandbox"
    lwa_client_secret: str = "sandbox-client-secret"
    lwa_refresh_token: str = "Atzr|sandbox-refresh-token"
    access_token_ttl_seconds: int = Field(3600, gt=0)

    seed: int = 42
    catalog_size: int = Field(50, ge=0, le=100_000)
    initial_quantity_max: int = Field(25, ge=0)

    # Amazon's asynchronous processes.
    pending_to_unshipped_seconds: float = Field(
        60.0, ge=0, description="Time until a placed (Pending) order's payment clears."
    )
    quantity_apply_delay_seconds: float = Field(
        0.0, ge=0, description="Time before a quantity sent by the seller becomes sellable."
    )
    feed_queue_seconds: float = Field(5.0, ge=0, description="Time a feed waits IN_QUEUE.")
    feed_processing_seconds: float = Field(10.0, ge=0, description="Time a feed is IN_PROGRESS.")
    report_queue_seconds: float = Field(1.0, ge=0, description="Time a report waits IN_QUEUE.")
    report_processing_seconds: float = Field(2.0, ge=0, description="Time a report is IN_PROGRESS.")
    report_compression: Literal["GZIP"] | None = Field(
        "GZIP", description="How report documents are stored (getReportDocument's compressionAlgorithm); "
                            "None: plain text")

    rate_multiplier: float = Field(
        1.0, gt=0, description="Scales every usage plan; 1.0 is Amazon's published plan. Tests only."
    )
    clock: Callable[[], float] = Field(default=time.time, exclude=True)

    # Notifications (SQS-style delivery to an HTTP destination).
    notification_destination: str | None = None
    notification_loss_rate: float = Field(0.0, ge=0, le=1)
    notification_duplicate_rate: float = Field(0.0, ge=0, le=1)
    notification_timeout_seconds: float = Field(5.0, gt=0)
    notifications_by_subscription: bool = Field(False, description=(
        "Deliver a notification only while its type has a subscription made through the Notifications API "
        "(as Amazon does); false delivers every one to notification_destination (for a hub that does not "
        "subscribe itself yet)."))
    notification_signing_secret: str = Field(
        "sandbox-notification-secret",
        description="Secret of the SQS-to-HTTP forwarder: each POST carries X-Omnihub-Hmac-Sha256, the base64 "
                    "HMAC-SHA256 of the body. Give the hub the same secret (its channel's notification_secret).",
    )

    # Background work (order payment clearing, notification delivery) runs this often
    # while the app is served; every request also catches the world up first.
    tick_seconds: float = Field(1.0, gt=0)

    contracts_dir: Path | None = Field(default_factory=default_contracts_dir)
    public_base_url: str | None = Field(
        None, description="Base URL used in presigned document URLs; defaults to the address the sandbox listens on "
                          "(never the request's Host header)."
    )

    @field_validator("seller_id", "marketplace_id", "lwa_client_id", "lwa_client_secret", "lwa_refresh_token")
    @classmethod
    def _not_blank(cls, value: str) -> str:
        if not value.strip():
            raise ValueError("must not be blank")
        return value

    @property
    def listings_feed_schema_path(self) -> Path | None:
        if self.contracts_dir is None:
            return None
        path = self.contracts_dir / "schemas" / "listings-feed-schema-v2.json"
        return path if path.is_file() else None
