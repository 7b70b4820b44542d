"""The pickup code: what proves that the person at the counter (or at the car) is the one
who bought a BOPIS or curbside order.

The hub issues a code of six digits when the order is ready for pickup at its store
(every unit picked); the channel or the retailer's messages give it to the customer,
as text or as a QR code holding the same digits. The store's associate types or scans
it at the hand-over, and the hub compares it; the associate's screens never show it.

Six digits are a million codes, so guessing is what must be stopped: after
`MAX_WRONG_CODES` wrong codes in a row the order's hand-over is locked for
`LOCKED_FOR` (whoever tries), which leaves a guesser a few hundred tries a day at one
order. The right code after a lock ends starts afresh.
"""

from __future__ import annotations

import hmac
import secrets
from collections.abc import Callable
from dataclasses import dataclass
from datetime import datetime, timedelta

CODE_DIGITS = 6
MAX_WRONG_CODES = 5
LOCKED_FOR = timedelta(minutes=15)
#: the characters a typed or scanned code may carry around its digits (spaces, a dash
#: between groups of three, a scanner's line end): dropped before comparing
_SEPARATORS = str.maketrans("", "", " -\t\r\n")


def new_code(randbelow: Callable[[int], int] = secrets.randbelow) -> str:
    """A fresh code from the system's cryptographic random source."""
    return str(randbelow(10**CODE_DIGITS)).zfill(CODE_DIGITS)


def typed_code(text: str | None) -> str:
    """The code as the associate typed or scanned it, without separators."""
    return (text or "").translate(_SEPARATORS)[:64]


@dataclass(frozen=True, slots=True)
class CodeCheck:
    """What one attempt at the code decided, and the counters to store after it."""

    accepted: bool
    wrong_codes: int  # wrong codes in a row, after this attempt
    locked_until: datetime | None  # set when this attempt (or an earlier one) locked it
    message: str  # for the associate: what happened and what to do

    @property
    def tries_left(self) -> int:
        return max(0, MAX_WRONG_CODES - self.wrong_codes)


def check_code(expected: str, typed: str | None, *, wrong_codes: int, locked_until: datetime | None,
               now: datetime) -> CodeCheck:
    """One attempt at the order's code, given the wrong codes before it and the lock."""
    if locked_until is not None and now < locked_until:
        return CodeCheck(False, wrong_codes, locked_until,
                         f"Too many wrong codes: the hand-over of this order is locked until "
                         f"{locked_until:%H:%M} UTC. Check the customer's order confirmation, or ask a manager.")
    if locked_until is not None:  # the lock has run out: a fresh series
        wrong_codes = 0
    code = typed_code(typed)
    if not code:
        return CodeCheck(False, wrong_codes, None, "Type or scan the customer's pickup code.")
    if hmac.compare_digest(code.encode(), expected.encode()):
        return CodeCheck(True, 0, None, "")
    wrong = wrong_codes + 1
    if wrong >= MAX_WRONG_CODES:
        until = now + LOCKED_FOR
        return CodeCheck(False, wrong, until,
                         f"Wrong code {wrong} times: the hand-over of this order is locked until {until:%H:%M} UTC. "
                         f"Check the customer's order confirmation, or ask a manager.")
    left = MAX_WRONG_CODES - wrong
    return CodeCheck(False, wrong, None,
                     f"That is not this order's pickup code. {left} {'try' if left == 1 else 'tries'} left "
                     f"before the hand-over is locked for {int(LOCKED_FOR.total_seconds() // 60)} minutes.")
