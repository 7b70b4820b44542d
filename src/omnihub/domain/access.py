"""Who may do what in the hub: roles, the permissions they grant, and the principal a
request or a command acts as.

The rules are pure so that every door (API routes, CLI, console) asks the same question,
`principal.can(permission, location=..., channel=...)`, and so that they can be tested on
their own:

- a role grants a fixed set of permissions (`ROLE_GRANTS`); `admin` grants all of them;
- a principal bound to locations (a store associate, or a token created with
  `--location`) may use a location-scoped permission only at one of its locations, and
  never "nowhere in particular" (location None): a store's badge does not open the
  warehouse, nor the whole chain at once;
- an `integration` token grants exactly the scopes named at its creation, each a
  permission, optionally for one channel (`orders.ingest:erp`); a scope on a token of
  another role can only narrow what the role grants, never widen it;
- personal data of customers is a permission of its own (`customers.read_personal`),
  location-scoped: an associate sees the buyer of an order assigned to its store (to hand
  a pickup over to the right person), and no one else's.
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass, field
from enum import StrEnum
from functools import lru_cache
from typing import Literal


class Role(StrEnum):
    ADMIN = "admin"
    OPERATOR = "operator"
    STORE_ASSOCIATE = "store_associate"
    READ_ONLY = "read_only"
    INTEGRATION = "integration"


class Permission(StrEnum):
    CATALOG_READ = "catalog.read"
    CATALOG_WRITE = "catalog.write"  # locations, products
    STOCK_READ = "stock.read"  # positions, ATP, ledger, oversells
    STOCK_RECEIVE = "stock.receive"  # receipts at a location (purchase orders, transfers in)
    STOCK_COUNT = "stock.count"
    STOCK_DAMAGE = "stock.damage"
    STOCK_MOVE = "stock.move"  # any other movement: transfers out, reserve, release, sale, quality control
    STOCK_IMPORT = "stock.import"  # ERP snapshots
    ORDERS_READ = "orders.read"
    ORDERS_INGEST = "orders.ingest"  # an order from a channel or a script
    ORDERS_FULFIL = "orders.fulfil"  # pick, pack, hand over (ship, pickup) at the assigned location
    ORDERS_ACT = "orders.act"  # cancel, hold, release, reject, deliveries, returns, re-brokering
    RULES_READ = "rules.read"
    RULES_WRITE = "rules.write"
    CHANNELS_READ = "channels.read"
    CHANNELS_WRITE = "channels.write"  # channel settings, listings, stock policies
    CHANNELS_CREDENTIALS = "channels.credentials"
    SYNC_READ = "sync.read"  # sync status, dead letters, inbox and fulfilment failures
    SYNC_ACT = "sync.act"  # retries, reconciliation runs
    CUSTOMERS_READ_PERSONAL = "customers.read_personal"
    CUSTOMERS_PRIVACY = "customers.privacy"  # erasures and data exports
    USERS_ADMIN = "users.admin"  # users and tokens
    AUDIT_READ = "audit.read"
    METRICS_READ = "metrics.read"


P = Permission

#: Permissions that a location-bound principal may use only at one of its locations.
LOCATION_SCOPED: frozenset[Permission] = frozenset({
    P.STOCK_RECEIVE, P.STOCK_COUNT, P.STOCK_DAMAGE, P.STOCK_MOVE, P.ORDERS_READ, P.ORDERS_FULFIL,
    P.CUSTOMERS_READ_PERSONAL})

_READS = frozenset({P.CATALOG_READ, P.STOCK_READ, P.ORDERS_READ, P.RULES_READ, P.CHANNELS_READ, P.SYNC_READ,
                    P.METRICS_READ})
_OPERATIONS = frozenset(P) - {P.USERS_ADMIN, P.CHANNELS_CREDENTIALS, P.AUDIT_READ}

ROLE_GRANTS: dict[Role, frozenset[Permission]] = {
    Role.ADMIN: frozenset(P),
    Role.OPERATOR: _OPERATIONS,
    Role.STORE_ASSOCIATE: frozenset({P.CATALOG_READ, P.STOCK_RECEIVE, P.STOCK_COUNT, P.STOCK_DAMAGE,
                                     P.ORDERS_READ, P.ORDERS_FULFIL, P.CUSTOMERS_READ_PERSONAL}),
    Role.READ_ONLY: _READS,
    Role.INTEGRATION: frozenset(),  # only its scopes
}
#: What an integration token may be scoped to: anything but managing people and reading their trail.
INTEGRATION_GRANTABLE: frozenset[Permission] = frozenset(P) - {P.USERS_ADMIN, P.AUDIT_READ}


class ScopeError(ValueError):
    """A scope that names no permission, or one a token of its role cannot hold."""


@dataclass(frozen=True, slots=True)
class Scope:
    """One permission, for any channel or for one (`orders.ingest:erp`)."""

    permission: Permission
    channel: str | None = None

    @classmethod
    def parse(cls, text: str) -> "Scope":
        name, _, channel = text.strip().partition(":")
        try:
            permission = Permission(name)
        except ValueError:
            raise ScopeError(f"unknown scope {text!r}: one of {', '.join(p.value for p in Permission)}, "
                             f"optionally followed by ':CHANNEL'") from None
        if _ and not channel:
            raise ScopeError(f"scope {text!r} names no channel after ':'")
        return cls(permission, channel or None)

    def __str__(self) -> str:
        return self.permission.value + (f":{self.channel}" if self.channel else "")

    def allows(self, permission: Permission, channel: str | None) -> bool:
        return self.permission is permission and (self.channel is None or self.channel == channel)


@lru_cache(maxsize=4096)
def _scope(text: str) -> Scope:
    return Scope.parse(text)


def parse_scopes(texts: Iterable[str], role: Role) -> frozenset[str]:
    """The scopes of a new token, normalised; an integration token needs at least one."""
    scopes = [Scope.parse(t) for t in texts if t.strip()]
    if role is Role.INTEGRATION:
        if not scopes:
            raise ScopeError("an integration token needs at least one --scope (e.g. orders.ingest:erp)")
        refused = [str(s) for s in scopes if s.permission not in INTEGRATION_GRANTABLE]
    else:
        refused = [str(s) for s in scopes if s.permission not in ROLE_GRANTS[role]]
    if refused:
        raise ScopeError(f"a {role.value} token cannot hold {', '.join(refused)}")
    return frozenset(str(s) for s in scopes)


Kind = Literal["user", "token", "local_admin"]
#: decisions a principal remembers (its permissions × the locations and channels it acts at)
DECISIONS_KEPT = 4096


@dataclass(frozen=True, slots=True)
class Principal:
    """Whom a request or a command acts for. `locations` empty means not bound to any
    (the whole chain); `scopes` empty means the role's grants as they are."""

    kind: Kind
    id: str
    name: str
    role: Role
    locations: frozenset[str] = frozenset()
    scopes: frozenset[str] = frozenset()
    address: str | None = None
    #: the decisions already taken, by (permission, location, channel): a token's principal
    #: lives in the token cache and decides the same few questions on every request
    _decided: dict = field(default_factory=dict, init=False, compare=False, hash=False, repr=False)

    @property
    def actor(self) -> str:
        """How the ledger and the audit name it: kind, id and name (`token:4:erp-sync`)."""
        return f"{self.kind}:{self.id}:{self.name}"[:200]

    def grants(self, permission: Permission, channel: str | None = None) -> bool:
        """Whether the role (and scopes) give the permission, wherever it may apply."""
        if self.role is Role.INTEGRATION or self.scopes:
            scoped = any(_scope(s).allows(permission, channel) for s in self.scopes)
            if self.role is Role.INTEGRATION:
                return scoped and permission in INTEGRATION_GRANTABLE
            if not scoped:
                return False
        return permission in ROLE_GRANTS[self.role]

    def can(self, permission: Permission, location: str | None = None, channel: str | None = None) -> bool:
        """Whether it may use `permission` at `location` (None: not at one in particular)
        for `channel`."""
        key = (permission, location, channel)
        known = self._decided.get(key)
        if known is None:
            known = self._can(permission, location, channel)
            if len(self._decided) < DECISIONS_KEPT:
                self._decided[key] = known
        return known

    def _can(self, permission: Permission, location: str | None, channel: str | None) -> bool:
        if not self.grants(permission, channel):
            return False
        if self.locations and permission in LOCATION_SCOPED:
            return location is not None and location in self.locations
        return True

    def can_somewhere(self, permission: Permission) -> bool:
        """Whether it may use `permission` at one location at least (a bound principal has
        one at least): a list the route then narrows to `locations`."""
        return self.grants(permission)


def local_admin(os_user: str = "cli") -> Principal:
    """The CLI acting on the database directly: whoever can open the database is its admin."""
    return Principal("local_admin", os_user, os_user, Role.ADMIN)


def check_role_locations(role: Role, locations: Iterable[str]) -> frozenset[str]:
    """A store associate is bound to at least one location; the others may be narrowed to some."""
    locs = frozenset(code.strip() for code in locations if code and code.strip())
    if role is Role.STORE_ASSOCIATE and not locs:
        raise ScopeError("a store_associate needs at least one --location")
    return locs
