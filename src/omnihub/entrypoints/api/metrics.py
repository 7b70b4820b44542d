"""`GET /metrics`: Prometheus exposition of the process's metrics (sync lag, intents
pending, channel calls and throttles, retries, dead letters, webhook deliveries)."""

from __future__ import annotations

from fastapi import APIRouter, Request
from fastapi.responses import Response
from prometheus_client import CONTENT_TYPE_LATEST, generate_latest

router = APIRouter(tags=["metrics"])


@router.get("/metrics", include_in_schema=False)
def metrics(request: Request) -> Response:
    hub = request.app.state.hub
    if hub is not None and hub.sync is not None:
        try:
            hub.sync.pending()  # refresh the queue gauges from the database
        except Exception:  # metrics must answer even when the database is away
            pass
    return Response(generate_latest(), media_type=CONTENT_TYPE_LATEST)
