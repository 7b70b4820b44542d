"""The overview: what is happening across the estate right now (services/overview_figures.py),
kept live by server-sent events.

The page renders the figures once; htmx's SSE extension then opens
/console/overview/live, which sends the same figures block as an HTML fragment every
`EVERY_S` seconds (event `figures`), swapped in place. A stream lasts `STREAM_S` seconds
and ends (the browser's EventSource opens the next one by itself): a server that stops
is not held up by open screens, and each new stream is checked against the session
again. Within a stream the session is checked before each send: one signed out, expired
or disabled ends the stream at the next tick.
"""

from __future__ import annotations

import asyncio
import time

from fastapi import APIRouter, Request
from fastapi.responses import Response, StreamingResponse
from starlette.concurrency import run_in_threadpool

from omnihub.entrypoints.api.access import SESSION_COOKIE
from omnihub.entrypoints.console.page_access import PagePrincipal
from omnihub.entrypoints.console.pages import HEADERS, render, templates
from omnihub.services.overview_figures import read_overview

router = APIRouter(include_in_schema=False)
EVERY_S = 3.0
STREAM_S = 60.0


@router.get("/console/")
def overview(request: Request, principal: PagePrincipal) -> Response:
    figures = read_overview(request.app.state.hub.read_engine)
    return render(request, "overview.html", {"title": "Overview", "f": figures})


def _event(name: str, html: str) -> bytes:
    data = "".join(f"data: {line}\n" for line in html.splitlines() or [""])
    return f"event: {name}\n{data}\n".encode()


@router.get("/console/overview/live")
async def live(request: Request, principal: PagePrincipal) -> Response:
    hub = request.app.state.hub
    session_id = request.cookies.get(SESSION_COOKIE)
    fragment = templates.get_template("_figures.html")

    def still_signed_in() -> bool:
        return session_id is None or hub.sessions.resolve(session_id) is not None  # a token: checked at the start

    async def events():
        ends = time.monotonic() + STREAM_S
        yield f"retry: {int(EVERY_S * 1000)}\n\n".encode()
        while time.monotonic() < ends and not await request.is_disconnected():
            if not await run_in_threadpool(still_signed_in):
                return
            figures = await run_in_threadpool(read_overview, hub.read_engine)
            yield _event("figures", fragment.render(f=figures))
            await asyncio.sleep(EVERY_S)

    headers = {**HEADERS, "X-Accel-Buffering": "no"}  # a proxy in front must not hold the events back
    return StreamingResponse(events(), media_type="text/event-stream", headers=headers)
