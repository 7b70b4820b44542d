"""The hypothesis state machine again, this time through the real stock writer and a real
database: stored positions equal the fold of the stored ledger, nothing goes negative but
recorded oversells, ATP stays within [0, on_hand], the channel projection equals a
recomputation, and replaying an idempotency key changes nothing."""

from __future__ import annotations

import sqlalchemy as sa
from hypothesis import HealthCheck, settings, strategies as st
from hypothesis.stateful import RuleBasedStateMachine, initialize, invariant, precondition, rule

from omnihub.adapters.db import tables as t
from omnihub.domain.ledger import LedgerError, Movement, Reason, StockState as S, fold
from omnihub.hub import Hub
from omnihub.services.inventory import Context
from omnihub.settings import Settings
from tests.conftest import BACKEND, add_location, add_skus, empty_database

SKUS = ["A", "B"]
LOCS = ["WH", "ST"]


def make_machine(url: str):
    class StockMachine(RuleBasedStateMachine):
        @initialize()
        def setup(self):
            empty_database(url)
            self.hub = Hub.open(Settings(database_url=url), run_migrations=False, relay=False)
            add_location(self.hub, "WH", kind="warehouse")
            add_location(self.hub, "ST")
            add_skus(self.hub, *SKUS)
            self.hub.catalog.upsert_channel("web", name="Web", kind="shopify", per_location=True)
            self.hub.catalog.upsert_channel("amz", name="Amazon", kind="amazon", feeds={"WH": "ship"}, buffer=1)
            self.hub.catalog.set_policy(location="ST", safety_stock=2)
            self.keys: dict[str, object] = {}
            self.oversold = 0

        def teardown(self):
            if hasattr(self, "hub"):
                self.hub.close()

        def _try(self, fn, *a, **kw):
            try:
                return fn(*a, **kw)
            except LedgerError:
                return None

        @rule(sku=st.sampled_from(SKUS), loc=st.sampled_from(LOCS), q=st.integers(1, 20))
        def receive(self, sku, loc, q):
            self.hub.inventory.receive(sku, loc, q)

        @rule(sku=st.sampled_from(SKUS), loc=st.sampled_from(LOCS), q=st.integers(1, 8),
              op=st.sampled_from(["reserve", "release", "consume", "mark_damaged", "hold_for_quality_control"]))
        def operate(self, sku, loc, q, op):
            self._try(getattr(self.hub.inventory, op), sku, loc, q)

        @rule(sku=st.sampled_from(SKUS), loc=st.sampled_from(LOCS), q=st.integers(1, 8))
        def pos_sale(self, sku, loc, q):
            r = self.hub.inventory.record_sale(sku, loc, q)
            self.oversold += r.oversold

        @rule(sku=st.sampled_from(SKUS), loc=st.sampled_from(LOCS), n=st.integers(0, 25))
        def count(self, sku, loc, n):
            r = self.hub.inventory.count(sku, loc, n)
            self.oversold += r.oversold

        @rule(sku=st.sampled_from(SKUS), q=st.integers(1, 5))
        def transfer(self, sku, q):
            if self._try(self.hub.inventory.ship_transfer, sku, "WH", "ST", q):
                self.hub.inventory.receive_transfer(sku, "ST", q, damaged=q // 3)

        @rule(key=st.sampled_from(["k1", "k2", "k3"]), sku=st.sampled_from(SKUS), q=st.integers(1, 5))
        def idempotent_receive(self, key, sku, q):
            """The same key twice records one movement; a different body is refused."""
            before = self._ledger_size()
            try:
                r = self.hub.inventory.receive(sku, "WH", q, ctx=Context(idempotency_key=key))
            except LedgerError as e:
                assert e.code == "idempotency_key_reused"
                assert self._ledger_size() == before
                return
            if key in self.keys:
                assert r.replayed and r.as_dict() == self.keys[key]
                assert self._ledger_size() == before
            else:
                self.keys[key] = r.as_dict()

        @precondition(lambda self: hasattr(self, "hub"))
        @rule(pct=st.integers(0, 100), safety=st.integers(0, 4), web_buffer=st.integers(0, 3))
        def change_rules(self, pct, safety, web_buffer):
            self.hub.catalog.upsert_channel("amz", name="Amazon", kind="amazon", feeds={"WH": "ship"}, buffer=1, share_pct=pct)
            self.hub.catalog.upsert_channel("web", name="Web", kind="shopify", per_location=True, buffer=web_buffer)
            self.hub.catalog.set_policy(channel="web", sku="A", safety_stock=safety)

        def _ledger_size(self):
            with self.hub.engine.connect() as c:
                return c.execute(sa.select(sa.func.count()).select_from(t.movements)).scalar()

        @invariant()
        def positions_equal_the_fold_of_the_ledger(self):
            with self.hub.engine.connect() as c:
                rows = c.execute(sa.select(t.movements).order_by(t.movements.c.id)).all()
                stored = {(p.sku, p.location): p for p in c.execute(sa.select(t.positions))}
                incidents = c.execute(sa.select(sa.func.coalesce(sa.func.sum(t.oversell_incidents.c.units), 0))).scalar()
            by_key: dict = {}
            for r in rows:
                by_key.setdefault((r.sku, r.location), []).append(
                    Movement(r.sku, r.location, r.quantity, S(r.from_state), S(r.to_state), Reason(r.reason)))
            for key, p in stored.items():
                f = fold(by_key.get(key, []))
                assert (p.on_hand, p.reserved, p.damaged, p.quality_control, p.incoming, p.in_transit, p.version) == \
                    (f.on_hand, f.reserved, f.damaged, f.quality_control, f.incoming, f.in_transit, f.version)
                assert min(p.reserved, p.damaged, p.quality_control, p.incoming, p.in_transit) >= 0
                if p.on_hand - p.reserved - p.damaged - p.quality_control < 0:
                    assert incidents > 0, "negative free stock without a recorded oversell"
            assert incidents == self.oversold

        @invariant()
        def atp_within_zero_and_on_hand_and_projection_exact(self):
            for sku in SKUS:
                on_hand = sum(max(0, p.on_hand) for p in self.hub.queries.positions(sku).values())
                for ch in (None, "web", "amz"):
                    a = self.hub.queries.atp([sku], ch)[0]
                    assert 0 <= a["atp"] <= on_hand
                    for v in a["locations"].values():
                        assert v >= 0
                for ch in ("web", "amz"):
                    shown = self.hub.queries.channel_availability(ch, [sku])[0]
                    assert shown["quantity"] == self.hub.queries.explain(sku, ch)["atp"]
                # The per-location channel shows each location's own ATP (share 100%), less
                # its buffer taken off the locations: they add up to exactly its total.
                web = self.hub.queries.channel_availability("web", [sku])[0]
                own = self.hub.queries.atp([sku], "web")[0]["locations"]
                figures = {k: web["locations"].get(k, 0) for k in own}  # no row yet means 0
                assert all(0 <= figures[k] <= own[k] for k in own), (figures, own)
                assert sum(figures.values()) == min(web["quantity"], sum(own.values())) == web["quantity"]

    return StockMachine


def test_stock_state_machine_on_a_real_database(database_url):
    machine = make_machine(database_url)
    examples = 12 if BACKEND == "postgresql" else 20
    machine.TestCase.settings = settings(max_examples=examples, stateful_step_count=15, deadline=None,
                                         suppress_health_check=list(HealthCheck))
    machine.TestCase().runTest()
