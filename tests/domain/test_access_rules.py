"""The access rules (domain/access.py), property by property."""

from __future__ import annotations

import pytest
from hypothesis import given
from hypothesis import strategies as st

from omnihub.domain.access import (
    INTEGRATION_GRANTABLE,
    LOCATION_SCOPED,
    ROLE_GRANTS,
    Permission,
    Principal,
    Role,
    Scope,
    ScopeError,
    check_role_locations,
    local_admin,
    parse_scopes,
)

permissions = st.sampled_from(list(Permission))
roles = st.sampled_from(list(Role))
codes = st.sampled_from(["A", "B", "C", "WH"])
locations = st.frozensets(codes, max_size=3)
channels = st.one_of(st.none(), st.sampled_from(["erp", "shopify", "pos"]))


def principal(role: Role, locs=frozenset(), scopes=frozenset()) -> Principal:
    return Principal("user", "1", "ana@shop.example", role, frozenset(locs), frozenset(scopes))


@given(permissions, st.one_of(st.none(), codes), channels)
def test_admin_may_do_everything_anywhere(p, loc, channel):
    assert principal(Role.ADMIN).can(p, loc, channel)
    assert local_admin().can(p, loc, channel)


@given(permissions, st.one_of(st.none(), codes))
def test_an_operator_manages_no_people_no_credentials_and_reads_no_audit(p, loc):
    allowed = principal(Role.OPERATOR).can(p, loc)
    assert allowed == (p not in {Permission.USERS_ADMIN, Permission.CHANNELS_CREDENTIALS, Permission.AUDIT_READ})


@given(permissions, st.one_of(st.none(), codes))
def test_read_only_reads_without_personal_data(p, loc):
    allowed = principal(Role.READ_ONLY).can(p, loc)
    assert allowed == (p.value.endswith(".read") and p not in {Permission.AUDIT_READ})
    assert not principal(Role.READ_ONLY).can(Permission.CUSTOMERS_READ_PERSONAL, loc)


@given(permissions, locations.filter(bool), st.one_of(st.none(), codes))
def test_a_store_associate_acts_only_at_its_locations_and_only_in_store_work(p, locs, loc):
    who = principal(Role.STORE_ASSOCIATE, locs)
    allowed = who.can(p, loc)
    store_work = {Permission.STOCK_RECEIVE, Permission.STOCK_COUNT, Permission.STOCK_DAMAGE, Permission.ORDERS_READ,
                  Permission.ORDERS_FULFIL, Permission.CUSTOMERS_READ_PERSONAL, Permission.CATALOG_READ}
    if p not in store_work:
        assert not allowed
    elif p in LOCATION_SCOPED:
        assert allowed == (loc is not None and loc in locs)
    else:
        assert allowed


@given(permissions, roles, locations.filter(bool), codes)
def test_being_bound_to_locations_never_widens(p, role, locs, loc):
    bound, free = principal(role, locs), principal(role)
    if bound.can(p, loc):
        assert free.can(p, loc)


@given(st.frozensets(permissions.filter(lambda p: p in INTEGRATION_GRANTABLE), min_size=1), permissions, channels)
def test_an_integration_token_holds_exactly_its_scopes(scoped, p, channel):
    token = Principal("token", "4", "erp", Role.INTEGRATION, scopes=frozenset(s.value for s in scoped))
    assert token.can(p, None, channel) == (p in scoped)


@given(permissions, channels)
def test_a_channel_scope_holds_for_that_channel_only(p, channel):
    token = Principal("token", "4", "erp", Role.INTEGRATION, scopes=frozenset({f"{Permission.ORDERS_INGEST.value}:erp"}))
    assert token.can(p, None, channel) == (p is Permission.ORDERS_INGEST and channel == "erp")


@given(roles.filter(lambda r: r is not Role.INTEGRATION), st.frozensets(permissions, min_size=1), permissions)
def test_scopes_narrow_a_role_and_never_widen_it(role, scoped, p):
    texts = [s.value for s in scoped]
    grantable = [t for t in texts if Permission(t) in ROLE_GRANTS[role]]
    if len(grantable) < len(texts):
        with pytest.raises(ScopeError):
            parse_scopes(texts, role)
    narrowed = principal(role, scopes=frozenset(grantable)) if grantable else principal(role)
    if narrowed.can(p):
        assert principal(role).can(p)
        assert not grantable or p.value in grantable


def test_scopes_are_checked_when_made():
    with pytest.raises(ScopeError, match="at least one"):
        parse_scopes([], Role.INTEGRATION)
    with pytest.raises(ScopeError, match="unknown scope"):
        parse_scopes(["stock.steal"], Role.INTEGRATION)
    with pytest.raises(ScopeError, match="cannot hold"):
        parse_scopes(["users.admin"], Role.INTEGRATION)
    assert parse_scopes([" orders.ingest:erp "], Role.INTEGRATION) == {"orders.ingest:erp"}
    assert str(Scope.parse("orders.ingest")) == "orders.ingest"
    with pytest.raises(ScopeError):
        check_role_locations(Role.STORE_ASSOCIATE, [])


def test_the_actor_names_kind_id_and_name():
    assert Principal("token", "4", "erp-sync", Role.INTEGRATION).actor == "token:4:erp-sync"
    assert local_admin("ops").actor == "local_admin:ops:ops"


@given(roles, locations, st.lists(st.tuples(permissions, st.one_of(st.none(), codes), channels), max_size=40))
def test_a_remembered_decision_is_the_decision(role, locs, questions):
    """A principal lives in the token cache and remembers its answers: asked again, in any
    order, it answers what a fresh principal decides."""
    if role is Role.STORE_ASSOCIATE and not locs:
        locs = frozenset({"A"})
    scopes = frozenset({"orders.ingest:erp", "stock.receive"}) if role is Role.INTEGRATION else frozenset()
    long_lived = principal(role, locs, scopes)
    for p, loc, channel in questions + questions[::-1]:
        assert long_lived.can(p, loc, channel) == principal(role, locs, scopes).can(p, loc, channel)


def test_what_a_principal_remembers_is_bounded(monkeypatch):
    import omnihub.domain.access as access

    monkeypatch.setattr(access, "DECISIONS_KEPT", 10)
    bound = principal(Role.STORE_ASSOCIATE, {"A"})
    answers = [bound.can(Permission.STOCK_RECEIVE, f"L{i}") for i in range(50)]
    assert answers == [False] * 50 and len(bound._decided) == 10
    assert bound.can(Permission.STOCK_RECEIVE, "A")  # past the bound, still decided
