"""ChannelHealth: when a channel's answer ends an outage (domain/channel_health.py)."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

from hypothesis import given
from hypothesis import strategies as st

from omnihub.domain.channel_health import ChannelHealth

T0 = datetime(2026, 12, 3, 9, 0, tzinfo=UTC)


def _at(s: float) -> datetime:
    return T0 + timedelta(seconds=s)


def test_failures_spanning_the_threshold_then_an_answer_is_a_recovery_once():
    h = ChannelHealth(outage_after_s=60)
    for start in range(0, 90, 10):  # every batch fails, each taking 8 s of a client's retries
        assert h.observe(answered=False, sent_at=_at(start), now=_at(start + 8)) is False
    assert h.observe(answered=True, sent_at=_at(95), now=_at(96)) is True
    assert h.observe(answered=True, sent_at=_at(97), now=_at(98)) is False, "a recovery is told once"


def test_a_failure_shorter_than_the_threshold_is_no_outage():
    h = ChannelHealth(outage_after_s=60)
    h.observe(answered=False, sent_at=_at(0), now=_at(8))
    h.observe(answered=False, sent_at=_at(10), now=_at(30))
    assert h.observe(answered=True, sent_at=_at(31), now=_at(32)) is False


def test_a_long_pause_with_nothing_to_push_proves_no_outage():
    h = ChannelHealth(outage_after_s=60)
    h.observe(answered=False, sent_at=_at(0), now=_at(8))
    assert h.observe(answered=True, sent_at=_at(3600), now=_at(3601)) is False


def test_the_batch_that_answers_may_itself_have_waited_out_the_outage():
    """Its first calls failed inside the client's retries; the batch before gave up."""
    h = ChannelHealth(outage_after_s=60)
    h.observe(answered=False, sent_at=_at(0), now=_at(30))
    assert h.observe(answered=True, sent_at=_at(31), now=_at(70)) is True


@given(st.lists(st.tuples(st.booleans(), st.integers(0, 30_000), st.integers(0, 30_000)), max_size=40),
       st.integers(1_000, 120_000))
def test_a_recovery_needs_failures_spanning_the_threshold_just_before_the_answer(batches, threshold_ms):
    """Re-derived: True exactly when failures since the last answer began `threshold` or
    more before this answer, and the latest ended no more than `threshold` before it was
    sent (times in whole milliseconds: exact in a timedelta)."""
    h = ChannelHealth(outage_after_s=threshold_ms / 1000)
    clock, first, last = 0, None, None
    for answered, gap, took in batches:
        sent, clock = clock + gap, clock + gap + took
        expected = (answered and first is not None and clock - first >= threshold_ms and sent - last <= threshold_ms)
        assert h.observe(answered=answered, sent_at=_at(sent / 1000), now=_at(clock / 1000)) is expected
        if answered:
            first = last = None
        else:
            first = sent if first is None else first
            last = clock


def test_its_state_and_what_it_last_said_are_kept_for_an_operator():
    h = ChannelHealth(outage_after_s=60)
    assert h.state(_at(0)) == "not_called" and h.last_answer is None
    h.observe(answered=True, sent_at=_at(0), now=_at(1), confirmed=True)
    assert (h.state(_at(2)), h.last_answer, h.last_confirmed) == ("answering", _at(1), _at(1))
    h.observe(answered=False, sent_at=_at(10), now=_at(12), error="HTTP 503: " + "x" * 2000)
    assert h.state(_at(13)) == "failing" and h.last_error_at == _at(12) and len(h.last_error) == 500
    assert h.state(_at(70)) == "down", "failing for the outage threshold or longer"
    h.observe(answered=True, sent_at=_at(71), now=_at(72), error="refused: unknown item")  # an answer, refused
    assert h.state(_at(73)) == "answering" and h.last_answer == _at(72) and h.last_confirmed == _at(1)
    assert h.last_error == "refused: unknown item"
