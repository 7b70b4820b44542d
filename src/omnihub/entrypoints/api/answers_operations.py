"""What the operators' routes answer: the sync engine (pending intents, dead letters, the
inbox's failures, shipments not yet told), reconciliation runs, privacy requests, people
and tokens, who am I, and the channels' webhooks."""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

from pydantic import Field

from omnihub.adapters.db import tables as t
from omnihub.entrypoints.api.answers import Answer, Instant, row_answer

# -- sync --------------------------------------------------------------------------------------


class SyncStatus(Answer):
    channels: dict[str, dict[str, int]] = Field(description="channel → intents per state (pending, dead)")


if TYPE_CHECKING:  # mypy sees the base; the model is made from the table
    DeadLetterOut = Answer
else:
    DeadLetterOut = row_answer("DeadLetterOut", t.sync_intents, columns=(
        "id", "channel", "sku", "location", "target", "attempts", "last_error", "first_changed_at", "changed_at"),
        doc="An intent parked after repeated failures.")


class DeadLetters(Answer):
    dead_letters: list[DeadLetterOut]


class Requeued(Answer):
    id: int
    state: str


class InboxRequeued(Requeued):
    queued: int = Field(description="the inbox row sent through (a refused order: the delivery that brought it)")


class AllRequeued(Answer):
    retried: int = Field(description="how many were put back in the queue, due now")


if TYPE_CHECKING:  # mypy sees the base; the model is made from the table
    FulfilmentFailureOut = Answer
else:
    FulfilmentFailureOut = row_answer("FulfilmentFailureOut", t.channel_fulfilments,
                                      doc="A shipment its channel was not told about yet.")


class FulfilmentFailures(Answer):
    failures: list[FulfilmentFailureOut]


class InboxRowOut(Answer):
    id: int
    source: str
    delivery_id: str
    topic: str
    state: str
    error: str | None
    attempts: int
    received_at: Instant | None
    processed_at: Instant | None
    next_attempt_at: Instant | None


class InboxRowWithBody(InboxRowOut):
    headers: dict[str, Any]
    body: Any = Field(description="the stored payload; `[masked]` members (or all of it) for a reader without "
                                  "customers.read_personal")
    personal_data: str | None = Field(None, description="`masked` when the buyer is withheld from this reader")


class InboxFailures(Answer):
    failures: list[InboxRowOut]
    next_after_id: int | None


# -- reconciliation ------------------------------------------------------------------------------

if TYPE_CHECKING:  # mypy sees the base; the model is made from the table
    ReconciliationRunOut = Answer
    FindingOut = Answer
    ReconciliationRunWithFindings = Answer
else:
    ReconciliationRunOut = row_answer("ReconciliationRunOut", t.reconciliation_runs, doc="A reconciliation run.")
    FindingOut = row_answer("FindingOut", t.reconciliation_findings, drop=("run_id",), doc="A classified difference.")
    ReconciliationRunWithFindings = row_answer(
        "ReconciliationRunWithFindings", t.reconciliation_runs, doc="A reconciliation run with its findings.",
        findings=(list[FindingOut], ...))


class ReconciliationRuns(Answer):
    runs: list[ReconciliationRunOut]


class RunStarted(Answer):
    id: int
    channel: str
    state: str
    href: str


# -- privacy requests ----------------------------------------------------------------------------


class Erased(Answer):
    id: int
    kind: str
    orders: int
    customers: int
    payloads: int
    texts: int
    exports: int


class PrivacyRequestOut(Answer):
    id: int
    kind: str
    source: str
    reference: str | None
    state: str
    file: str | None
    summary: dict[str, Any]
    created_at: Instant


class DataRequestOut(PrivacyRequestOut):
    completed_at: Instant | None
    file_url: str | None


class PrivacyRequests(Answer):
    requests: list[PrivacyRequestOut]


# -- people and tokens ---------------------------------------------------------------------------


class Principal(Answer):
    kind: str = Field(description="user, token or local_admin")
    id: str
    name: str
    role: str
    locations: list[str]
    scopes: list[str]


class TokenOut(Answer):
    id: int
    name: str
    hint: str = Field(description="the token's first characters, never the token")
    role: str
    scopes: list[str]
    locations: list[str]
    expires_at: Instant | None
    revoked_at: Instant | None
    last_used_at: Instant | None
    created_at: Instant
    created_by: str | None
    state: str


class Tokens(Answer):
    tokens: list[TokenOut]


class TokenIssued(Answer):
    id: int
    name: str
    role: str
    token: str = Field(description="shown this once only")
    expires_at: Instant | None


class TokenRevoked(Answer):
    id: int
    revoked: bool
    already: bool


if TYPE_CHECKING:  # mypy sees the base; the model is made from the table
    UserOut = Answer
else:
    UserOut = row_answer("UserOut", t.users, columns=(
        "id", "email", "name", "role", "locations", "disabled", "created_at", "updated_at"),
        doc="A person who signs in (never the password hash).", locations=(list[str], ...))


class Users(Answer):
    users: list[UserOut]


# -- webhooks ----------------------------------------------------------------------------------


class WebhookTaken(Answer):
    status: str = Field(description="accepted, or duplicate (the same delivery seen before)")

