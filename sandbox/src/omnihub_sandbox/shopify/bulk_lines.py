"""A bulk query's result as a stream of JSONL lines, resolved straight from the sandbox's
resolver objects.

Shopify runs a bulk query on its own infrastructure, and a shop of a million inventory
levels comes back in a file within minutes. The sandbox used to run it through
graphql-core's executor, which builds the whole result tree first (every node in memory,
edges and nodes twice) and spends ~300 µs a level in its general machinery: a million
levels took most of an hour, which no client's timing could be judged against.

The document was already validated against the schema when the operation was accepted
(bulk.py), so this walks its selections over the same resolver objects graphql-core
would (a dict per object, a callable value is a field resolver called with `info` and
the field's arguments, leaves serialised by their scalar or enum type), and yields each
connection node as a line as soon as it is resolved: nested connections are flattened,
each child line carrying `__parentId`, children right after their parent (as
`groupObjects` asks). Memory is one SQL page of the resolvers, not the file.
"""

from __future__ import annotations

from collections.abc import Iterator
from typing import Any

from graphql import (FieldNode, FragmentDefinitionNode, FragmentSpreadNode, GraphQLInterfaceType, GraphQLList,
                     GraphQLNonNull, GraphQLObjectType, GraphQLSchema, GraphQLUnionType, InlineFragmentNode,
                     OperationDefinitionNode, SelectionSetNode, get_named_type, is_leaf_type)
from graphql.execution.values import get_argument_values


_TYPENAME, _LEAF, _LEAVES, _OBJECT, _OBJECTS, _CONNECTION, _OTHER = range(7)


class _Info:
    """What resolvers read from graphql-core's ResolveInfo (the queries use the context)."""

    __slots__ = ("context", "field_name", "field_nodes", "variable_values", "schema")

    def __init__(self, context, schema: GraphQLSchema) -> None:
        self.context = context
        self.schema = schema
        self.field_name = ""
        self.field_nodes: list[FieldNode] = []
        self.variable_values: dict = {}


class BulkLines:
    def __init__(self, schema: GraphQLSchema, root: dict, context, fragments: dict[str, FragmentDefinitionNode]) -> None:
        self.schema = schema
        self.root = root
        self.info = _Info(context, schema)
        self.fragments = fragments
        self._fields: dict[tuple, list] = {}
        self._args: dict[int, dict] = {}

    # -- the walk -----------------------------------------------------------------------
    def lines(self, operation: OperationDefinitionNode) -> Iterator[dict]:
        """Every connection node as a line; `roots` counts the top-level ones."""
        self.roots = 0
        query_type = self.schema.query_type
        for key, node, fdef in self._collect(operation.selection_set, query_type):
            raw = self._resolve(self.root, node, fdef)
            yield from self._flatten(raw, node, fdef.type, None, top=True)

    def _flatten(self, raw: Any, node: FieldNode, type_: Any, parent_id: str | None, top: bool = False) -> Iterator[dict]:
        named = get_named_type(type_)
        if raw is None or is_leaf_type(named):
            return
        if isinstance(raw, list):
            for item in raw:
                yield from self._flatten(item, node, named, parent_id)
            return
        if named.name.endswith("Connection"):
            node_field, node_type = self._node_selection(node, named)
            if node_field is None:
                return
            for item in raw.get("nodes") or [e.get("node") for e in raw.get("edges") or []]:
                if item is None:
                    continue
                if top:
                    self.roots += 1
                line, nested = self._object(item, node_field.selection_set, node_type, split=True)
                if parent_id is not None:
                    line["__parentId"] = parent_id
                yield line
                for child_raw, child_node, child_type in nested:
                    yield from self._flatten(child_raw, child_node, child_type, line.get("id"))
            return
        # an object that is not a connection: the connections inside it, under its id
        runtime = self._runtime_type(raw, named)
        _, nested = self._object(raw, node.selection_set, runtime, split=True)
        own_id = raw.get("id") if isinstance(raw.get("id"), str) else parent_id
        for child_raw, child_node, child_type in nested:
            yield from self._flatten(child_raw, child_node, child_type, own_id)

    def _node_selection(self, node: FieldNode, connection: GraphQLObjectType) -> tuple[FieldNode | None, Any]:
        for key, sub, fdef in self._collect(node.selection_set, connection):
            if sub.name.value == "nodes":
                return sub, get_named_type(fdef.type)
            if sub.name.value == "edges":
                edge_type = get_named_type(fdef.type)
                for _, inner, idef in self._collect(sub.selection_set, edge_type):
                    if inner.name.value == "node":
                        return inner, get_named_type(idef.type)
        return None, None

    # -- objects and values ---------------------------------------------------------------
    def _object(self, raw: dict, selection_set: SelectionSetNode | None, type_: Any, *, split: bool = False
                ) -> tuple[dict, list]:
        """The object's selected fields; with `split`, its connection fields apart (to be
        flattened after its line) instead of inside it."""
        runtime = self._runtime_type(raw, type_)
        out: dict = {}
        nested: list = []
        for key, node, fdef, kind, of in self._plan(selection_set, runtime):
            if kind == _TYPENAME:
                out[key] = runtime.name
                continue
            value = self._resolve(raw, node, fdef)
            if kind == _CONNECTION and split:
                nested.append((value, node, fdef.type))
            elif value is None:
                out[key] = None
            elif kind == _LEAF:
                out[key] = of(value)
            elif kind == _LEAVES:
                out[key] = [None if v is None else of(v) for v in value]
            elif kind == _OBJECTS:
                out[key] = [None if v is None else self._object(v, node.selection_set, of)[0] for v in value]
            elif kind == _OBJECT or kind == _CONNECTION:
                out[key] = self._object(value, node.selection_set, of)[0]
            else:  # deeper lists: the general way
                out[key] = self._complete(value, node, fdef.type)
        return out, nested

    def _complete(self, value: Any, node: FieldNode, type_: Any) -> Any:
        if isinstance(type_, GraphQLNonNull):
            type_ = type_.of_type
        if value is None:
            return None
        if isinstance(type_, GraphQLList):
            return [self._complete(v, node, type_.of_type) for v in value]
        if is_leaf_type(type_):
            return type_.serialize(value)
        return self._object(value, node.selection_set, type_)[0]

    def _runtime_type(self, raw: dict, type_: Any) -> Any:
        if isinstance(type_, (GraphQLInterfaceType, GraphQLUnionType)):
            return self.schema.get_type(raw["__typename"])
        return type_

    def _resolve(self, parent: dict, node: FieldNode, fdef) -> Any:
        args = self._args.get(id(node))
        if args is None:
            args = self._args[id(node)] = get_argument_values(fdef, node, {})
        if fdef.resolve is not None:
            self.info.field_name = node.name.value
            return fdef.resolve(parent, self.info, **args)
        value = parent.get(node.name.value) if isinstance(parent, dict) else getattr(parent, node.name.value, None)
        if callable(value):
            self.info.field_name = node.name.value
            return value(self.info, **args)
        return value

    def _plan(self, selection_set: SelectionSetNode | None, type_: Any) -> list[tuple]:
        """(key, node, definition, kind, serialiser or type) of each selected field, once
        per selection and type: the walk then only branches on a small int."""
        cache_key = (id(selection_set), type_.name, "plan")
        plan = self._fields.get(cache_key)
        if plan is not None:
            return plan
        plan = []
        for key, node, fdef in self._collect(selection_set, type_):
            if fdef is None:
                plan.append((key, node, None, _TYPENAME, None))
                continue
            t = fdef.type.of_type if isinstance(fdef.type, GraphQLNonNull) else fdef.type
            if isinstance(t, GraphQLList):
                inner = t.of_type.of_type if isinstance(t.of_type, GraphQLNonNull) else t.of_type
                if isinstance(inner, GraphQLList):
                    plan.append((key, node, fdef, _OTHER, None))
                elif is_leaf_type(inner):
                    plan.append((key, node, fdef, _LEAVES, inner.serialize))
                else:
                    plan.append((key, node, fdef, _OBJECTS, inner))
            elif is_leaf_type(t):
                plan.append((key, node, fdef, _LEAF, t.serialize))
            elif t.name.endswith("Connection"):
                plan.append((key, node, fdef, _CONNECTION, t))
            else:
                plan.append((key, node, fdef, _OBJECT, t))
        self._fields[cache_key] = plan
        return plan

    def _collect(self, selection_set: SelectionSetNode | None, type_: Any) -> list[tuple[str, FieldNode, Any]]:
        """(response key, field node, field definition or None for __typename) of the
        selections that apply to `type_`, fragments expanded; computed once per type."""
        if selection_set is None:
            return []
        cache_key = (id(selection_set), type_.name)
        found = self._fields.get(cache_key)
        if found is not None:
            return found
        found = []
        for selection in selection_set.selections:
            if isinstance(selection, FieldNode):
                name = selection.name.value
                key = selection.alias.value if selection.alias else name
                fdef = None if name == "__typename" else type_.fields[name]
                found.append((key, selection, fdef))
            elif isinstance(selection, InlineFragmentNode):
                if selection.type_condition is None or self._applies(selection.type_condition.name.value, type_):
                    found += self._collect(selection.selection_set, type_)
            elif isinstance(selection, FragmentSpreadNode):
                fragment = self.fragments[selection.name.value]
                if self._applies(fragment.type_condition.name.value, type_):
                    found += self._collect(fragment.selection_set, type_)
        self._fields[cache_key] = found
        return found

    def _applies(self, condition: str, type_: Any) -> bool:
        if condition == type_.name:
            return True
        target = self.schema.get_type(condition)
        return isinstance(target, (GraphQLInterfaceType, GraphQLUnionType)) and self.schema.is_sub_type(target, type_)
