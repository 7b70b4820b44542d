"""Shopify's search syntax for the ``query:`` argument of connections.

Dates compare at whole seconds, as Shopify's do (its timestamps carry no fraction).

Supported: ``field:value``, comparators ``:>``, ``:>=``, ``:<``, ``:<=``, quoted values
('...' or "..."), ``-field:value`` / ``NOT field:value``, implicit and explicit ``AND``,
and ``OR`` between groups (no parentheses). A term without a field searches the
resource's default text. Unknown fields are ignored (the rest of the query still filters)
and reported, the way Shopify answers: the results, plus an ``extensions.search`` entry
naming the field (see ``search_warnings.py``).
"""

from __future__ import annotations

import re
from collections.abc import Callable
from dataclasses import dataclass

from .clock import iso_storage, parse_timestamp
from .gid import InvalidGlobalId, parse_gid


@dataclass(frozen=True)
class Term:
    negated: bool
    field: str | None
    op: str  # ':' '>' '>=' '<' '<='
    value: str
    quoted: bool = False  # the value was written in quotes (Shopify echoes it as a phrase)


class SearchSyntaxError(ValueError):
    pass


_TOKEN = re.compile(r"""\s*(?:(?P<term>-?[A-Za-z_][\w.]*:(?:>=|<=|>|<)?\s*(?:'[^']*'|"[^"]*"|[^\s()]+))|(?P<word>'[^']*'|"[^"]*"|[^\s()]+))""")


def parse(query: str | None) -> list[list[Term]]:
    """Parse into OR-groups of AND-ed terms."""
    groups: list[list[Term]] = [[]]
    if not query:
        return []
    negate_next = False
    position = 0
    text = query.strip()
    while position < len(text):
        match = _TOKEN.match(text, position)
        if not match or match.end() == position:
            raise SearchSyntaxError(f"cannot read the search query near {text[position:]!r}")
        position = match.end()
        if match.group("term"):
            raw = match.group("term")
            negated = raw.startswith("-") or negate_next
            negate_next = False
            raw = raw.lstrip("-")
            field, _, rest = raw.partition(":")
            rest = rest.strip()
            op = ":"
            for candidate in (">=", "<=", ">", "<"):
                if rest.startswith(candidate):
                    op, rest = candidate, rest[len(candidate):].strip()
                    break
            groups[-1].append(Term(negated, field.lower(), op, _unquote(rest), _is_quoted(rest)))
        else:
            word = match.group("word")
            if word == "AND":
                continue
            if word == "OR":
                groups.append([])
                continue
            if word == "NOT":
                negate_next = True
                continue
            negated = word.startswith("-") or negate_next
            negate_next = False
            bare = word.lstrip("-")
            groups[-1].append(Term(negated, None, ":", _unquote(bare), _is_quoted(bare)))
    return [g for g in groups if g]


def _is_quoted(value: str) -> bool:
    return len(value) >= 2 and value[0] == value[-1] and value[0] in "'\""


def _unquote(value: str) -> str:
    return value[1:-1] if _is_quoted(value) else value


# A field rule turns (op, value) into an SQL condition and its parameters.
FieldRule = Callable[[str, str], tuple[str, list]]


def text_rule(column: str) -> FieldRule:
    def rule(op: str, value: str) -> tuple[str, list]:
        if op != ":":
            return _compare(column, op, value)
        if value.endswith("*"):
            return f"lower({column}) LIKE ?", [value[:-1].lower() + "%"]
        return f"lower({column}) = ?", [value.lower()]

    return rule


def contains_rule(column: str) -> FieldRule:
    def rule(op: str, value: str) -> tuple[str, list]:
        return f"lower({column}) LIKE ?", ["%" + value.lower().rstrip("*") + "%"]

    return rule


def date_rule(column: str) -> FieldRule:
    def rule(op: str, value: str) -> tuple[str, list]:
        try:
            moment = parse_timestamp(value)
        except ValueError as exc:
            raise SearchSyntaxError(f"'{value}' is not a date") from exc
        stamp = iso_storage(moment)
        if op == ":":
            prefix = stamp[:10] if len(value.strip("'\"")) <= 10 else stamp[:19]
            return f"{column} LIKE ?", [prefix + "%"]
        # Shopify's timestamps have whole seconds: `updated_at:>'12:00:00Z'` leaves out a
        # product changed at 12:00:00.4, which is why a cursor over them needs an overlap.
        return _compare(f"substr({column}, 1, 19)", op, stamp[:19])

    return rule


def id_rule(column: str) -> FieldRule:
    def rule(op: str, value: str) -> tuple[str, list]:
        try:
            number = parse_gid(value)[1] if value.startswith("gid://") else int(value)
        except (InvalidGlobalId, ValueError) as exc:
            raise SearchSyntaxError(f"'{value}' is not an id") from exc
        if op == ":":
            return f"{column} = ?", [number]
        return _compare(column, op, number)

    return rule


def _compare(column: str, op: str, value) -> tuple[str, list]:
    return f"{column} {op} ?", [value]


def compile_query(
    query: str | None, rules: dict[str, FieldRule], default: FieldRule | None
) -> tuple[str, list, list[str]]:
    """SQL condition, parameters, and the unknown fields named (in order, once each)."""
    groups = parse(query)
    if not groups:
        return "1=1", [], []
    warnings: list[str] = []
    group_sql: list[str] = []
    params: list = []
    for group in groups:
        parts: list[str] = []
        for term in group:
            rule = default if term.field is None else rules.get(term.field)
            if rule is None:
                if term.field is not None and term.field not in warnings:
                    warnings.append(term.field)
                continue
            sql, values = rule(term.op, term.value)
            parts.append(f"NOT ({sql})" if term.negated else f"({sql})")
            params.extend(values)
        group_sql.append(" AND ".join(parts) if parts else "1=1")
    return "(" + " OR ".join(f"({g})" for g in group_sql) + ")", params, warnings
