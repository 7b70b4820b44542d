"""One bad job never fails its neighbours: the stock writer answers a job that fails
alone and commits the rest of its batch (group_commit.StockWriter.run), and the use cases
refuse what the database would refuse before it reaches a batch (domain/limits.py).

Every test here holds the writer on a gate job while the jobs under test queue, so they
are taken as one batch, then counts the collateral: valid jobs answered with an error, or
answered OK but not in the database."""

from __future__ import annotations

import threading
from concurrent.futures import ThreadPoolExecutor
from contextlib import contextmanager
from datetime import UTC, datetime

import pytest
import sqlalchemy as sa

from omnihub.adapters.db import tables as t
from omnihub.adapters.db.stock_store import StockResult
from omnihub.domain.ledger import LedgerError, Movement, Reason, StockState as S
from omnihub.domain.orders import CustomerRef, Order, OrderLine
from omnihub.domain.stock_commands import Plan, StockCommand, fixed_plan
from omnihub.services.inventory import Context, count_command
from omnihub.services.order_pipeline import OrderResult, _IngestJob
from tests.conftest import BACKEND

HUGE = 2**64
NUL = "ref\x00erence"
LONG = "x" * 5000
T0 = datetime(2026, 11, 23, 14, 0, tzinfo=UTC)


@contextmanager
def writer_held(hub):
    """The writer busy on a gate job until the block ends: what is submitted meanwhile
    queues, and the writer takes it as one batch."""
    entered, release = threading.Event(), threading.Event()

    def gate_plan(_):
        entered.set()
        assert release.wait(30)
        return Plan([])

    gate = hub.writer.submit(StockCommand("gate", (), gate_plan))
    assert entered.wait(10)
    try:
        yield
    finally:
        release.set()
        assert not isinstance(gate.result(30), Exception)


def receipt(sku="A", location="WH", quantity=1, **kw) -> StockCommand:
    m = Movement(sku, location, quantity, S.RECEIVED, S.ON_HAND, Reason.RECEIPT, **kw)
    return StockCommand("receive", ((sku, location),), fixed_plan([m]))


def on_hand(hub, sku="A", location="WH") -> int:
    with hub.engine.connect() as c:
        v = c.execute(sa.select(t.positions.c.on_hand).where(t.positions.c.sku == sku,
                                                              t.positions.c.location == location)).scalar()
    return v or 0


def movement_count(hub) -> int:
    with hub.engine.connect() as c:
        return c.execute(sa.select(sa.func.count()).select_from(t.movements)).scalar()


def bad_stock_commands() -> list[StockCommand]:
    """Commands past every boundary check: what a bug or a new entry point could hand
    the writer. Some the batch refuses itself (LedgerError), the rest the database."""
    huge_count = count_command("A", "WH", 0)
    huge_count.plan = lambda cur: Plan([Movement("A", "WH", HUGE, S.RECEIVED, S.ON_HAND, Reason.FOUND)])
    text = [  # PostgreSQL's text refuses NUL, its varchar an over-long value; SQLite keeps both
        receipt(reference=NUL),
        receipt(reference=LONG),
        receipt(actor=LONG),
        receipt(sku="A", location="WH", quantity=1, channel="c\x00"),
    ] if BACKEND == "postgresql" else []
    return [
        receipt(quantity=HUGE),  # beyond a 64-bit integer: SQLite cannot bind it, PostgreSQL's bigint refuses it
        receipt(quantity=2**63),
        huge_count,
        *text,
        receipt(quantity=0),  # the ledger refuses these inside the batch (always did)
        receipt(quantity=-3),
        receipt(sku="NO-SUCH-SKU"),
        receipt(location="NOWHERE"),
    ]


def test_bad_stock_commands_fail_alone_and_the_rest_of_their_batch_commits(stocked):
    hub = stocked
    bad = bad_stock_commands()
    valid = [receipt(quantity=1, reference=f"r{i}") for i in range(200)]
    jobs = []  # (is_valid, command), bad ones spread through the batch
    for i, cmd in enumerate(valid):
        jobs.append((True, cmd))
        if i % 20 == 7 and bad:
            jobs.append((False, bad.pop()))
    jobs.extend((False, c) for c in bad)
    with writer_held(hub):
        tickets = [(ok, hub.writer.submit(cmd)) for ok, cmd in jobs]
    answers = [(ok, ticket.result(60)) for ok, ticket in tickets]
    collateral = [a for ok, a in answers if ok and not isinstance(a, StockResult)]
    assert collateral == []
    assert all(isinstance(a, Exception) for ok, a in answers if not ok), [a for ok, a in answers if not ok]
    assert on_hand(hub) == 200  # every valid receipt committed, none of the bad ones
    assert movement_count(hub) == 200


def _order(external_id: str, *, sku="A", quantity=1, price=1000, **kw) -> Order:
    lines = kw.pop("lines", None) or (OrderLine("1", sku, quantity, price),)
    return Order(channel=kw.pop("channel", "shopify"), external_id=external_id, channel_updated_at=T0, lines=lines, **kw)


def bad_orders() -> list[Order]:
    return [
        _order("bad-price", price=HUGE),  # its value does not fit the order_value column
        _order("bad-qty", quantity=HUGE),
        _order("bad-nul\x00"),
        _order("bad-notes", notes="a\x00b"),
        _order("bad-email", customer=CustomerRef(email="a\x00@example.com")),
        _order("x" * 500),  # over external_id's length
        _order("bad-sku", sku="NO-SUCH-SKU"),
    ]


@pytest.mark.parametrize("through", ["writer", "pipeline"])
def test_bad_orders_fail_alone_and_the_rest_of_their_batch_commits(stocked, through):
    """`writer`: the jobs handed to the writer as they are (what the boundary would have
    refused reaches the batch); `pipeline`: through OrderPipeline.submit, which refuses
    them first with an error naming the field."""
    hub = stocked
    hub.inventory.receive("A", "WH", 1000)
    bad = bad_orders()
    valid = [_order(f"ok-{i}") for i in range(200)]
    jobs = []
    for i, o in enumerate(valid):
        jobs.append((True, o))
        if i % 20 == 3 and bad:
            jobs.append((False, bad.pop()))
    jobs.extend((False, o) for o in bad)
    submit = hub.orders.submit if through == "pipeline" else (lambda o: hub.writer.submit(_IngestJob(hub.orders, o)))
    with ThreadPoolExecutor(2) as ops:
        with writer_held(hub):
            tickets = [(ok, submit(o)) for ok, o in jobs]
            # operations on order ids beyond 64 bits, in the same batch
            op_answers = [ops.submit(hub.order_ops.hold, HUGE, "why"), ops.submit(hub.order_ops.cancel, -HUGE)]
            threading.Event().wait(0.2)
        answers = [(ok, ticket.result(60)) for ok, ticket in tickets]
        for f in op_answers:
            with pytest.raises(LedgerError):
                f.result(60)
    collateral = [a for ok, a in answers if ok and not isinstance(a, OrderResult)]
    assert collateral == []
    refused = [a for ok, a in answers if not ok]
    if through == "pipeline":
        assert all(isinstance(a, LedgerError) and a.field for a in refused), refused
    else:  # the database's own refusals, or the pipeline's (unknown SKU); SQLite keeps NUL and long texts
        assert sum(isinstance(a, Exception) for a in refused) >= 3, refused
    with hub.engine.connect() as c:
        stored = set(c.execute(sa.select(t.orders.c.external_id)).scalars())
    accepted = {o.external_id for (ok, o), (_, a) in zip(jobs, answers) if isinstance(a, OrderResult)}
    assert {o.external_id for o in valid} <= stored == accepted
    assert hub.queries.positions("A")["WH"].reserved == 200 + sum(
        1 for (ok, o), (_, a) in zip(jobs, answers) if not ok and isinstance(a, OrderResult) and o.lines[0].quantity == 1)


# -- the boundary: the use cases refuse what the database would --------------------------------
BAD_CALLS = [
    # (use case, args, kwargs, the field the error names)
    ("receive", ("A", "WH", HUGE), {}, "quantity"),
    ("receive", ("A", "WH", 2**63 - 1), {}, "quantity"),
    ("receive", ("A", "WH", 0), {}, "quantity"),
    ("receive", ("A", "WH", -1), {}, "quantity"),
    ("receive", ("A", "WH", True), {}, "quantity"),
    ("receive", ("A", "WH", 1), {"ctx": Context(reference=NUL)}, "reference"),
    ("receive", ("A", "WH", 1), {"ctx": Context(reference=LONG)}, "reference"),
    ("receive", ("A", "WH", 1), {"ctx": Context(actor="a\x00")}, "actor"),
    ("receive", ("A", "WH", 1), {"ctx": Context(idempotency_key=LONG)}, "Idempotency-Key"),
    ("receive", ("A\x00", "WH", 1), {}, "sku"),
    ("receive", ("A" * 300, "WH", 1), {}, "sku"),
    ("receive", ("NO-SUCH-SKU", "WH", 1), {}, "sku"),
    ("receive", ("A", "NOWHERE", 1), {}, "location"),
    ("reserve", ("A", "WH", HUGE), {}, "quantity"),
    ("count", ("A", "WH", HUGE), {}, "counted"),
    ("count", ("A", "WH", 5), {"damaged": HUGE}, "damaged"),
    ("count", ("A", "WH", -1), {}, "counted"),
    ("ship_transfer", ("A", "WH", "ST", HUGE), {}, "quantity"),
    ("receive_transfer", ("A", "ST", 1), {"damaged": HUGE}, "damaged"),
]


def test_the_use_cases_refuse_bad_values_with_their_own_error_and_nothing_else_fails(stocked):
    """Through the service layer, in threads as the API calls it: each bad call raises a
    LedgerError naming its field (the API's 422), every valid one commits."""
    hub = stocked
    calls = [(True, "receive", ("A", "WH", 1), {}, None) for _ in range(150)]
    calls += [(False, *c) for c in BAD_CALLS]
    calls += [(True, "count", ("B", "WH", 7), {}, None)]
    calls.sort(key=lambda c: hash(repr(c[2])) % 7)  # bad ones spread among the good

    def call(c):
        _, name, args, kwargs, _field = c
        try:
            return getattr(hub.inventory, name)(*args, **kwargs)
        except Exception as exc:  # the answer under test
            return exc

    with ThreadPoolExecutor(16) as pool:
        with writer_held(hub):
            futures = [pool.submit(call, c) for c in calls]
            threading.Event().wait(0.3)  # the callers queue behind the gate
        answers = [(c, f.result(60)) for c, f in zip(calls, futures)]
    collateral = [(c[1], a) for c, a in answers if c[0] and not isinstance(a, StockResult)]
    assert collateral == []
    for c, a in answers:
        if not c[0]:
            assert isinstance(a, LedgerError), (c, a)
            assert a.field == c[4], (c, a.field, str(a))
    assert on_hand(hub) == 150
    assert on_hand(hub, "B") == 7
