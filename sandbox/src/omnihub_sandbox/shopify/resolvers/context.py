"""What a resolver can reach while one request executes."""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import TYPE_CHECKING

from ..events import Event

if TYPE_CHECKING:  # pragma: no cover
    from ..shop import SandboxShop


@dataclass
class RequestContext:
    shop: "SandboxShop"
    base_url: str
    bulk: bool = False  # bulk operations read whole connections, without page sizes
    events: list[Event] = field(default_factory=list)
    # extensions.search entries: connections whose `query:` named fields they cannot search
    search: list[dict] = field(default_factory=list)
    # objects a bulk operation already loaded, by (type, id): a level's item is read once,
    # not once per location (the operation reads a snapshot, not a live view)
    loaded: dict = field(default_factory=dict)

    @property
    def store(self):
        return self.shop.store

    def now_iso(self) -> str:
        return self.shop.now_iso()
