"""Building connection fields (first/after/last/before, query, sortKey, reverse) over SQL."""

from __future__ import annotations

from graphql import GraphQLError

from ..pagination import Page, PageRequest, check_page_size, connection, decode_cursor, encode_cursor, paginate
from ..search_syntax import FieldRule, SearchSyntaxError, compile_query
from ..search_warnings import search_entry


def page_request(args: dict) -> PageRequest:
    return PageRequest(first=args.get("first"), after=args.get("after"), last=args.get("last"),
                       before=args.get("before"), reverse=bool(args.get("reverse")))


def sql_connection(info, *, source: str, where: str = "1=1", params: list | None = None, args: dict,
                   sort_expr: str = "id", id_expr: str = "id", to_node, rules: dict[str, FieldRule] | None = None,
                   default_rule: FieldRule | None = None) -> dict:
    ctx = info.context
    conditions, values = [where], list(params or [])
    if rules is not None and args.get("query"):
        try:
            sql, search_params, unknown = compile_query(args["query"], rules, default_rule)
        except SearchSyntaxError as exc:
            raise GraphQLError(str(exc), extensions={"code": "BAD_REQUEST"}) from exc
        if unknown:  # answered with the results, as Shopify does (extensions.search)
            ctx.search.append(search_entry(info.path.as_list(), args["query"], unknown))
        conditions.append(sql)
        values += search_params
    with ctx.store.read() as conn:
        page = paginate(conn, source=source, where=" AND ".join(f"({c})" for c in conditions), params=values,
                        sort_expr=sort_expr, id_expr=id_expr, request=page_request(args),
                        max_page_size=ctx.shop.config.max_page_size, unlimited=ctx.bulk)
    return connection(page, to_node)


def sort_column(args: dict, mapping: dict[str, str], default: str = "id") -> str:
    key = args.get("sortKey")
    return mapping.get(key, default) if key else default


def list_connection(info, items: list, args: dict, to_node) -> dict:
    """A connection over a short list held in one row (a refund's lines and transactions):
    the cursor is the item's position, which never changes once the row is written."""
    request = page_request(args)
    check_page_size(request, info.context.shop.config.max_page_size, info.context.bulk)
    indexed = list(enumerate(items))
    if request.reverse:
        indexed.reverse()
    keys = [i for i, _ in indexed]
    start, stop = 0, len(indexed)
    if request.after:
        after = decode_cursor(request.after)[0]
        start = keys.index(after) + 1 if after in keys else len(keys)
    if request.before:
        before = decode_cursor(request.before)[0]
        stop = keys.index(before) if before in keys else stop
    window = indexed[start:stop]
    chosen = window[:request.first] if request.first is not None else window
    if request.last is not None:
        chosen = chosen[-request.last:] if request.last else []
    first_at = start + window.index(chosen[0]) if chosen else start
    page = Page(rows=[item for _, item in chosen], cursors=[encode_cursor(i, i) for i, _ in chosen],
                has_next_page=first_at + len(chosen) < len(indexed), has_previous_page=first_at > 0)
    return connection(page, to_node)
