"""Calculated query cost, as Shopify's GraphQL Admin API documents it.

Requested cost (before execution, from the document alone):
- scalar and enum fields cost 0; an object field 1 plus its selections;
- a connection costs 2 plus ``first``/``last`` times the cost of one node (the node object
  itself is 1 plus its selections), so nested connections multiply; ``edges``, ``node``
  wrappers and ``pageInfo`` add nothing of their own;
- each mutation field costs 10 (its payload selection is not counted);
- fragments aimed at different concrete types cost the most expensive of them.
Actual cost (after execution) applies the same rules to what came back: connections count
the nodes really returned and null objects cost nothing. The throttle refunds the
difference.
"""

from __future__ import annotations

from typing import Any

from graphql import (
    FieldNode,
    FragmentDefinitionNode,
    FragmentSpreadNode,
    GraphQLObjectType,
    GraphQLSchema,
    InlineFragmentNode,
    OperationDefinitionNode,
    OperationType,
    SelectionSetNode,
    get_named_type,
    is_leaf_type,
    value_from_ast_untyped,
)

MUTATION_COST = 10
CONNECTION_BASE_COST = 2


def _is_connection(type_name: str) -> bool:
    return type_name.endswith("Connection")


class CostCalculator:
    def __init__(self, schema: GraphQLSchema, operation: OperationDefinitionNode,
                 fragments: dict[str, FragmentDefinitionNode], variables: dict[str, Any] | None) -> None:
        self.schema = schema
        self.operation = operation
        self.fragments = fragments
        self.variables = variables or {}

    # -- requested -------------------------------------------------------------------
    def requested(self) -> int:
        root = self._root_type()
        if self.operation.operation == OperationType.MUTATION:
            return MUTATION_COST * sum(
                1 for f in self._fields(self.operation.selection_set, root) if not f[1].name.value.startswith("__")
            )
        return self._selection_cost(self.operation.selection_set, root)

    def _root_type(self) -> GraphQLObjectType:
        root = self.schema.mutation_type if self.operation.operation == OperationType.MUTATION else self.schema.query_type
        assert root is not None  # the sandbox's schema has both roots
        return root

    def _fields(self, selection_set: SelectionSetNode | None, parent) -> list[tuple[Any, FieldNode, str | None]]:
        """Flatten fields with the type they are selected on (None = the parent itself)."""
        out: list[tuple[Any, FieldNode, str | None]] = []
        if selection_set is None:
            return out
        for selection in selection_set.selections:
            if isinstance(selection, FieldNode):
                out.append((parent, selection, None))
            elif isinstance(selection, InlineFragmentNode):
                on = selection.type_condition.name.value if selection.type_condition else None
                target = self.schema.get_type(on) if on else parent
                for t, f, cond in self._fields(selection.selection_set, target):
                    out.append((t, f, cond or (on if on != parent.name else None)))
            elif isinstance(selection, FragmentSpreadNode):
                fragment = self.fragments.get(selection.name.value)
                if fragment is None:
                    continue
                on = fragment.type_condition.name.value
                target = self.schema.get_type(on)
                for t, f, cond in self._fields(fragment.selection_set, target):
                    out.append((t, f, cond or (on if on != parent.name else None)))
        return out

    def _selection_cost(self, selection_set: SelectionSetNode | None, parent) -> int:
        common = 0
        per_type: dict[str, int] = {}
        for owner, field, condition in self._fields(selection_set, parent):
            cost = self._field_cost(owner, field)
            if condition is None:
                common += cost
            else:
                per_type[condition] = per_type.get(condition, 0) + cost
        return common + (max(per_type.values()) if per_type else 0)

    def _field_def(self, owner, field: FieldNode):
        name = field.name.value
        if name.startswith("__") or not hasattr(owner, "fields"):
            return None
        return owner.fields.get(name)

    def _field_cost(self, owner, field: FieldNode) -> int:
        definition = self._field_def(owner, field)
        if definition is None:
            return 0
        named = get_named_type(definition.type)
        if is_leaf_type(named):
            return 0
        if _is_connection(named.name):
            size = self._page_size(field)
            return CONNECTION_BASE_COST + size * self._node_cost(field, named)
        return 1 + self._selection_cost(field.selection_set, named)

    def _node_cost(self, connection_field: FieldNode, connection_type) -> int:
        """Cost of one node in a connection: the most any of edges.node / nodes asks for."""
        best = 0
        for owner, field, _ in self._fields(connection_field.selection_set, connection_type):
            name = field.name.value
            if name == "nodes":
                node_type = get_named_type(connection_type.fields["nodes"].type)
                best = max(best, 1 + self._selection_cost(field.selection_set, node_type))
            elif name == "edges":
                edge_type = get_named_type(connection_type.fields["edges"].type)
                for _, inner, _ in self._fields(field.selection_set, edge_type):
                    if inner.name.value == "node":
                        node_type = get_named_type(edge_type.fields["node"].type)
                        best = max(best, 1 + self._selection_cost(inner.selection_set, node_type))
        return best

    def _page_size(self, field: FieldNode) -> int:
        for argument in field.arguments:
            if argument.name.value in ("first", "last"):
                value = value_from_ast_untyped(argument.value, self.variables)
                if isinstance(value, int) and value > 0:
                    return value
        return 0

    # -- actual ----------------------------------------------------------------------
    def actual(self, data: dict | None) -> int:
        if data is None:
            return 0
        if self.operation.operation == OperationType.MUTATION:
            return self.requested()
        return self._actual_selection(self.operation.selection_set, self._root_type(), data)

    def _actual_selection(self, selection_set, parent, data: dict) -> int:
        total = 0
        seen: set[str] = set()
        for owner, field, _ in self._fields(selection_set, parent):
            key = field.alias.value if field.alias else field.name.value
            if key in seen or key not in data:
                continue
            seen.add(key)
            total += self._actual_field(owner, field, data[key])
        return total

    def _actual_field(self, owner, field: FieldNode, value) -> int:
        definition = self._field_def(owner, field)
        if definition is None or value is None:
            return 0
        named = get_named_type(definition.type)
        if is_leaf_type(named):
            return 0
        if _is_connection(named.name):
            return CONNECTION_BASE_COST + self._actual_nodes(field, named, value)
        if isinstance(value, list):
            # A plain list of objects is priced like one object (as requested), never more.
            children = [self._actual_selection(field.selection_set, named, i) for i in value if i is not None]
            return 1 + max(children) if children else 0
        return 1 + self._actual_selection(field.selection_set, named, value)

    def _actual_nodes(self, connection_field: FieldNode, connection_type, value: dict) -> int:
        best = 0
        for _, field, _ in self._fields(connection_field.selection_set, connection_type):
            key = field.alias.value if field.alias else field.name.value
            name = field.name.value
            if name == "nodes" and isinstance(value.get(key), list):
                node_type = get_named_type(connection_type.fields["nodes"].type)
                best = max(best, sum(1 + self._actual_selection(field.selection_set, node_type, n)
                                     for n in value[key] if n is not None))
            elif name == "edges" and isinstance(value.get(key), list):
                edge_type = get_named_type(connection_type.fields["edges"].type)
                node_type = get_named_type(edge_type.fields["node"].type)
                subtotal = 0
                for edge in value[key]:
                    for _, inner, _ in self._fields(field.selection_set, edge_type):
                        inner_key = inner.alias.value if inner.alias else inner.name.value
                        if inner.name.value == "node" and edge.get(inner_key) is not None:
                            subtotal += 1 + self._actual_selection(inner.selection_set, node_type, edge[inner_key])
                best = max(best, subtotal)
        return best


def operation_fragments(document) -> dict[str, FragmentDefinitionNode]:
    return {d.name.value: d for d in document.definitions if isinstance(d, FragmentDefinitionNode)}
