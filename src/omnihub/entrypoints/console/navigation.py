"""The console's navigation, by role: a link is shown to whoever may open its page, as
the page's own rule in access_policy.py decides (one table for the links and the doors,
so a link never leads to a 403, and a page a role may open is never hidden from it)."""

from __future__ import annotations

from dataclasses import dataclass

from omnihub.domain.access import Principal
from omnihub.entrypoints.api.access_policy import POLICY


@dataclass(frozen=True, slots=True)
class Link:
    label: str
    path: str


LINKS = (
    Link("Overview", "/console/"),
    Link("Inventory", "/console/inventory"),
    Link("Orders", "/console/orders"),
    Link("Store", "/console/store"),
    Link("Store Mode", "/console/store-mode"),
    Link("Rules", "/console/rules"),
    Link("Channels", "/console/channels"),
    Link("Audit", "/console/audit"),
    Link("Users", "/console/users"),
)


def may_open(principal: Principal, path: str) -> bool:
    rule = POLICY.get(f"GET {path}")
    if rule is None:  # no such page
        return False
    return rule.permission is None or principal.can_somewhere(rule.permission)


def links_for(principal: Principal) -> list[Link]:
    return [link for link in LINKS if may_open(principal, link.path)]


def home_of(principal: Principal) -> str:
    """Where signing in lands: a store's people on their store's screens, the others on
    the first page they may open."""
    if principal.locations and may_open(principal, "/console/store"):
        return "/console/store"
    links = links_for(principal)
    return links[0].path if links else "/console/"
