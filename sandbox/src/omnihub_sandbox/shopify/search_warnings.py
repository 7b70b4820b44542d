"""``extensions.search``: what Shopify answers beside the results when a ``query:`` names a
field the connection cannot search.

Shopify does not fail such a query: it drops the unknown term, filters by the rest and
says so, one entry per connection whose search had a problem::

    {"path": ["products"], "query": "colour:red status:active",
     "parsed": {"and": [{"field": "colour", "match_all": "red"}, {"field": "status", "match_all": "active"}]},
     "warnings": [{"field": "colour", "message": "Invalid search field for this query.", "code": "invalid_field"}]}

A client that reads only ``data`` gets an answer to another question than the one it asked
(every product, not the red ones); the entry is how it can know. ``parsed`` echoes the query
as read: ``match_all`` for a word, ``match_phrase`` for a quoted value, ``range_gt``/
``range_gte``/``range_lt``/``range_lte`` for comparators, ``not``, ``and`` and ``or``.
"""

from __future__ import annotations

from .search_syntax import Term, parse

INVALID_FIELD_MESSAGE = "Invalid search field for this query."
INVALID_FIELD_CODE = "invalid_field"
_RANGES = {">": "range_gt", ">=": "range_gte", "<": "range_lt", "<=": "range_lte"}


def _term(term: Term) -> dict:
    key = _RANGES.get(term.op) or ("match_phrase" if term.quoted else "match_all")
    node: dict = {"field": term.field, key: term.value} if term.field else {key: term.value}
    return {"not": node} if term.negated else node


def parsed(query: str) -> dict:
    """The query as Shopify's parser reads it (an empty query reads as {})."""
    groups = [[_term(t) for t in group] for group in parse(query)]
    anded = [g[0] if len(g) == 1 else {"and": g} for g in groups]
    if not anded:
        return {}
    return anded[0] if len(anded) == 1 else {"or": anded}


def search_entry(path: list, query: str, unknown_fields: list[str]) -> dict:
    """One ``extensions.search`` entry for the connection at ``path`` (response keys)."""
    return {"path": path, "query": query, "parsed": parsed(query),
            "warnings": [{"field": f, "message": INVALID_FIELD_MESSAGE, "code": INVALID_FIELD_CODE}
                         for f in unknown_fields]}
