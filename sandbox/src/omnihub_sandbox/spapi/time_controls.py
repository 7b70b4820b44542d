"""``/_sandbox/clock``, ``/_sandbox/clock/advance`` and ``/_sandbox/throttle-storm``: the
levers of time and load every SP-API simulator offers a test or a demo.

Moving the clock forward expires tokens, refills buckets and lets Amazon's delayed
processes finish (the account catches up at once); a throttle storm answers every
SP-API call 429 for a while, as Amazon does when it sheds load. Plain JSON, not SP-API.
"""

from __future__ import annotations

from fastapi import APIRouter, Request
from pydantic import BaseModel, Field

from .account import account_of

router = APIRouter(prefix="/_sandbox", tags=["sandbox control"])


class ClockAdvance(BaseModel):
    seconds: float = Field(ge=0, le=10 * 365 * 86400)


class ThrottleStorm(BaseModel):
    seconds: float = Field(..., ge=0, le=86_400)


@router.put("/throttle-storm")
def throttle_storm(body: ThrottleStorm, request: Request) -> dict:
    """Every SP-API call is answered 429 QuotaExceeded for `seconds` (0 ends a storm)."""
    account = account_of(request)
    return {"until": account.limiter.storm(body.seconds), "seconds": body.seconds}


@router.get("/clock")
def read_clock(request: Request) -> dict:
    account = account_of(request)
    return {"now": account.now(), "offset_seconds": account.clock.offset}


@router.post("/clock/advance")
def advance_clock(body: ClockAdvance, request: Request) -> dict:
    """Time travel forward: tokens expire, buckets refill, delayed work finishes."""
    account = account_of(request)
    offset = account.clock.advance(body.seconds)
    account.store.set_meta("clock_offset", offset)
    account.catch_up()
    return {"now": account.now(), "offset_seconds": offset}
