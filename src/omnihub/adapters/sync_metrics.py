"""Prometheus metrics of the channel connectors and the sync engine (served at /metrics).

Module-level collectors on the default registry: one process, one set of series, however
many Hub objects a test opens.
"""

from __future__ import annotations

from prometheus_client import Counter, Gauge, Histogram

SYNC_LAG = Histogram(
    "omnihub_sync_lag_seconds", "From an ATP change to the channel's acknowledgement of it", ["channel"],
    buckets=(0.05, 0.1, 0.25, 0.5, 1, 2, 5, 10, 30, 60, 120, 300, 900),
)
INTENTS_PENDING = Gauge("omnihub_sync_intents_pending", "Sync intents waiting to be pushed", ["channel"])
DEAD_LETTERS = Gauge("omnihub_sync_dead_letters", "Sync intents parked after repeated failures", ["channel"])
CHANNEL_CALLS = Counter("omnihub_channel_calls_total", "Calls to a channel's API", ["channel", "outcome"])
THROTTLES = Counter("omnihub_channel_throttled_total", "Calls the channel refused for rate limits", ["channel"])
RETRIES = Counter("omnihub_sync_retries_total", "Pushes scheduled for another attempt", ["channel"])
PARKED = Counter("omnihub_sync_dead_lettered_total", "Intents moved to the dead-letter list", ["channel"])
LATE_OBSERVATIONS = Counter("omnihub_channel_late_observations_total",
                            "Channel levels ignored because the hub already held a newer one", ["channel"])
PUSHED = Counter("omnihub_sync_pushed_total", "Quantities the channel acknowledged", ["channel"])
WEBHOOKS = Counter("omnihub_webhook_deliveries_total", "Webhook / notification deliveries", ["source", "outcome"])
INBOX_PROCESSED = Counter("omnihub_inbox_processed_total", "Inbox messages processed", ["source", "outcome"])
# Fulfilment status back to the channels (services/fulfilment_sync.py): a failed attempt is
# either retried later or parked for an operator, so failed = retried + parked.
FULFILMENTS_SENT = Counter("omnihub_fulfilment_sent_total", "Shipments the channel accepted", ["channel"])
FULFILMENTS_FAILED = Counter("omnihub_fulfilment_failed_total", "Attempts to tell a channel a shipment that failed",
                             ["channel"])
FULFILMENTS_RETRIED = Counter("omnihub_fulfilment_retries_total", "Shipments scheduled for another attempt", ["channel"])
FULFILMENTS_PARKED = Counter("omnihub_fulfilment_parked_total", "Shipments parked after a refusal or repeated failures",
                             ["channel"])


def count_call(channel: str, outcome: str) -> None:
    CHANNEL_CALLS.labels(channel, outcome).inc()
    if outcome == "throttled":
        THROTTLES.labels(channel).inc()
