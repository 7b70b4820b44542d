"""The token cache under load and against revocations (services/api_tokens.py).

A `serve` worker's callers holding one token all find its entry due at the same
instant; one of them reads the row again, the others go on with what they have. A
revocation, here or in another process, still wins.
"""

from __future__ import annotations

import threading
import time

import pytest
import sqlalchemy as sa
from sqlalchemy import event

from omnihub.adapters.db import tables as t
from omnihub.services import api_tokens
from omnihub.services.api_tokens import ApiTokens
from tests.conftest import issue_token


def _token_reads(engine):
    """Counts the SELECTs of api_tokens this engine sends."""
    reads = [0]

    @event.listens_for(engine, "before_cursor_execute")
    def count(conn, cursor, statement, *args):
        if statement.lstrip().upper().startswith("SELECT") and "api_tokens" in statement:
            reads[0] += 1

    return reads


@pytest.fixture
def tokens(hub):
    cache = ApiTokens(hub.engine)
    yield cache
    cache.close()


def test_an_entry_due_again_is_read_once_while_many_requests_verify(hub, tokens, monkeypatch):
    token = issue_token(hub, "operator")
    assert tokens.verify(token) is not None
    reads = _token_reads(hub.engine)
    real_load = tokens._load
    inside = threading.Event()
    release = threading.Event()

    def slow_load(key, now):  # the read under way while the other requests arrive
        inside.set()
        release.wait(5)
        return real_load(key, now)

    monkeypatch.setattr(tokens, "_load", slow_load)
    monkeypatch.setattr(api_tokens, "CACHE_TTL", 0.0)  # every entry is due
    time.sleep(0.01)
    answers: list = []
    first = threading.Thread(target=lambda: answers.append(tokens.verify(token)))
    first.start()
    assert inside.wait(5)
    others = [threading.Thread(target=lambda: answers.append(tokens.verify(token))) for _ in range(16)]
    for th in others:
        th.start()
    for th in others:
        th.join(5)
    assert len(answers) == 16, "the others did not wait for the read under way"
    release.set()
    first.join(5)
    assert len(answers) == 17 and all(p is not None and p.role.value == "operator" for p in answers)
    assert reads[0] == 1


def test_a_revocation_during_a_read_is_not_undone_by_it(hub, tokens, monkeypatch):
    token = issue_token(hub, "operator")
    token_id = tokens.list()[-1]["id"]
    assert tokens.verify(token) is not None
    real_load = tokens._load
    loads = [0]

    def load_then_revoked(key, now):
        loads[0] += 1
        entry = real_load(key, now)  # read while the token still stood
        if loads[0] == 1:
            tokens.revoke(token_id)  # committed, and this process forgets it, after that read
        return entry

    monkeypatch.setattr(tokens, "_load", load_then_revoked)
    monkeypatch.setattr(api_tokens, "CACHE_TTL", 0.0)
    time.sleep(0.01)
    assert tokens.verify(token) is None
    assert loads[0] == 2
    monkeypatch.setattr(api_tokens, "CACHE_TTL", 5.0)
    assert tokens.verify(token) is None  # and what is cached is the refusal


def test_a_revocation_in_another_process_is_seen_once_the_entry_is_due(hub, tokens, monkeypatch):
    token = issue_token(hub, "operator")
    assert tokens.verify(token) is not None
    with hub.engine.begin() as conn:  # as `omnihub tokens revoke` in another process writes it
        conn.execute(t.api_tokens.update().values(revoked_at=sa.func.now()))
    assert tokens.verify(token) is not None  # this process's entry is not due yet
    monkeypatch.setattr(api_tokens, "CACHE_TTL", 0.0)
    time.sleep(0.01)
    assert tokens.verify(token) is None
