"""Building connection fields (first/after/last/before, query, sortKey, reverse) over SQL."""

from __future__ import annotations

from graphql import GraphQLError

from ..pagination import PageRequest, connection, paginate
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
