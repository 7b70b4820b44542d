"""One GraphQL request, start to finish, the way Shopify's Admin API answers it.

1. parse and validate against the sandbox's own schema (errors in Shopify's shape, with
   graphql-ruby's error codes, since that is what Shopify runs);
2. reject input arrays longer than 250 items;
3. compute the requested cost; over 1000 -> MAX_COST_EXCEEDED; not in the bucket ->
   THROTTLED (HTTP 200), both before anything executes;
4. execute; refund requested - actual; attach ``extensions.cost`` to every answer, and
   ``extensions.search`` when a ``query:`` argument named a field it cannot search.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from graphql import (
    DocumentNode,
    GraphQLError,
    GraphQLSchema,
    OperationDefinitionNode,
    ListValueNode,
    ObjectValueNode,
    execute_sync,
    parse,
    specified_rules,
    validate,
)
from graphql.execution.values import get_variable_values

from .cost import CostCalculator, operation_fragments
from .resolvers.context import RequestContext
from .throttle import LeakyBucket

# graphql-core rule -> the code graphql-ruby (and so Shopify) puts in extensions.code.
_RULE_CODES = {
    "FieldsOnCorrectTypeRule": "undefinedField",
    "KnownArgumentNamesRule": "argumentNotAccepted",
    "ProvidedRequiredArgumentsRule": "missingRequiredArguments",
    "KnownTypeNamesRule": "undefinedType",
    "NoUnusedVariablesRule": "variableNotUsed",
    "NoUndefinedVariablesRule": "variableNotDefined",
    "ScalarLeafsRule": "selectionMismatch",
    "ValuesOfCorrectTypeRule": "argumentLiteralsIncompatible",
    "VariablesInAllowedPositionRule": "variableMismatch",
    "KnownDirectivesRule": "undefinedDirective",
    "UniqueArgumentNamesRule": "argumentNotUnique",
    "NoUnusedFragmentsRule": "useAndDefineFragment",
    "KnownFragmentNamesRule": "undefinedFragment",
    "NoFragmentCyclesRule": "infiniteLoop",
    "UniqueOperationNamesRule": "operationNotUnique",
    "LoneAnonymousOperationRule": "anonymousOperationNotAlone",
    "VariablesAreInputTypesRule": "variableRequiresValidType",
    "UniqueVariableNamesRule": "variableNotUnique",
    "OverlappingFieldsCanBeMergedRule": "fieldConflict",
    "PossibleFragmentSpreadsRule": "cannotSpreadFragment",
    "FragmentsOnCompositeTypesRule": "fragmentOnNonCompositeType",
    "UniqueDirectivesPerLocationRule": "directiveNotUnique",
    "ExecutableDefinitionsRule": "notExecutable",
    "UniqueInputFieldNamesRule": "inputFieldNotUnique",
    "UniqueFragmentNamesRule": "fragmentNotUnique",
    "KnownOperationTypesRule": "missingMutationConfiguration",
}


@dataclass
class GraphQLOutcome:
    body: dict[str, Any]
    status: int = 200


def error(message: str, code: str, *, locations: list | None = None, path: list | None = None, **extra) -> dict:
    out: dict[str, Any] = {"message": message}
    if locations:
        out["locations"] = locations
    if path:
        out["path"] = path
    out["extensions"] = {"code": code, **extra}
    return out


def _locations(err: GraphQLError) -> list[dict]:
    return [{"line": loc.line, "column": loc.column} for loc in (err.locations or [])]


def validation_errors(schema: GraphQLSchema, document: DocumentNode) -> list[dict]:
    found = validate(schema, document)
    if not found:
        return []
    out = []
    for rule in specified_rules:
        for err in validate(schema, document, [rule]):
            out.append(error(err.message, _RULE_CODES.get(rule.__name__, "validationError"), locations=_locations(err)))
    return out or [error(e.message, "validationError", locations=_locations(e)) for e in found]


def parse_document(schema: GraphQLSchema, query: Any) -> tuple[DocumentNode | None, list[dict]]:
    if not isinstance(query, str) or not query.strip():
        return None, [error("No query string was present", "BAD_REQUEST")]
    try:
        document = parse(query)
    except GraphQLError as err:
        return None, [error(err.message, "syntaxError", locations=_locations(err))]
    problems = validation_errors(schema, document)
    return (None, problems) if problems else (document, [])


def pick_operation(document: DocumentNode, name: str | None) -> OperationDefinitionNode | None:
    operations = [d for d in document.definitions if isinstance(d, OperationDefinitionNode)]
    if name:
        return next((o for o in operations if o.name and o.name.value == name), None)
    return operations[0] if len(operations) == 1 else None


def _longest_array(value: Any) -> int:
    if isinstance(value, list):
        return max([len(value)] + [_longest_array(v) for v in value])
    if isinstance(value, dict):
        return max([0] + [_longest_array(v) for v in value.values()])
    return 0


def _longest_literal(node: Any) -> int:
    if isinstance(node, ListValueNode):
        return max([len(node.values)] + [_longest_literal(v) for v in node.values])
    if isinstance(node, ObjectValueNode):
        return max([0] + [_longest_literal(f.value) for f in node.fields])
    if hasattr(node, "selection_set") or hasattr(node, "arguments"):
        best = 0
        for argument in getattr(node, "arguments", None) or ():
            best = max(best, _longest_literal(argument.value))
        selection_set = getattr(node, "selection_set", None)
        for selection in (selection_set.selections if selection_set else ()):
            best = max(best, _longest_literal(selection))
        return best
    return 0


class GraphQLEndpoint:
    """Runs documents against one shop's schema with Shopify's metering."""

    def __init__(self, schema: GraphQLSchema, query_root: dict, mutation_root: dict, max_query_cost: int,
                 max_input_array: int) -> None:
        self.schema = schema
        self.query_root = query_root
        self.mutation_root = mutation_root
        self.max_query_cost = max_query_cost
        self.max_input_array = max_input_array

    def run(self, payload: Any, bucket: LeakyBucket | None, context: RequestContext) -> GraphQLOutcome:
        if not isinstance(payload, dict):
            return GraphQLOutcome({"errors": {"query": "Required parameter missing or invalid"}}, 400)
        document, problems = parse_document(self.schema, payload.get("query"))
        if document is None:
            return GraphQLOutcome(self._with_cost({"errors": problems}, 0, None, bucket))
        operation = pick_operation(document, payload.get("operationName"))
        if operation is None:
            return GraphQLOutcome(self._with_cost(
                {"errors": [error("An operation name is required when the document has several operations",
                                  "BAD_REQUEST")]}, 0, None, bucket))
        raw_variables = payload.get("variables") or {}
        if not isinstance(raw_variables, dict):
            return GraphQLOutcome({"errors": [error("Variables must be a JSON object", "BAD_REQUEST")]}, 200)
        coerced = get_variable_values(self.schema, operation.variable_definitions or [], raw_variables)
        if isinstance(coerced, list):
            return GraphQLOutcome(self._with_cost(
                {"errors": [error(e.message, "INVALID_VARIABLE", locations=_locations(e)) for e in coerced]}, 0, None, bucket))
        longest = max(_longest_array(coerced), _longest_literal(operation))
        if longest > self.max_input_array:
            return GraphQLOutcome(self._with_cost({"errors": [error(
                f"The input array size of {longest} is greater than the maximum allowed of {self.max_input_array}.",
                "MAX_INPUT_SIZE_EXCEEDED")]}, 0, None, bucket))
        calculator = CostCalculator(self.schema, operation, operation_fragments(document), coerced)
        requested = calculator.requested()
        if requested > self.max_query_cost:
            body = {"errors": [error(
                f"Query cost is {requested}, which exceeds the single query max cost limit ({self.max_query_cost}).\n\n"
                "See https://shopify.dev/concepts/about-apis/rate-limits for more information on how the\n"
                "cost of a query is calculated.\n\nTo query larger amounts of data with fewer limits, bulk operations "
                "should be used instead.\nSee https://shopify.dev/tutorials/perform-bulk-operations-with-admin-api for "
                "usage details.\n", "MAX_COST_EXCEEDED", cost=requested, maxCost=self.max_query_cost)]}
            return GraphQLOutcome(self._with_cost(body, requested, None, bucket))
        if bucket is not None and not bucket.try_take(requested):
            status = bucket.status()
            body = {"errors": [error("Throttled", "THROTTLED",
                                     documentation="https://shopify.dev/api/usage/rate-limits")]}
            return GraphQLOutcome(self._with_cost(body, requested, None, bucket, status))
        result = self.execute(document, operation, coerced, context)
        if context.search:
            result["extensions"] = {"search": context.search}
        actual = calculator.actual(result.get("data"))
        if bucket is not None:
            bucket.refund(requested - actual)
        return GraphQLOutcome(self._with_cost(result, requested, actual, bucket))

    def execute(self, document: DocumentNode, operation: OperationDefinitionNode, variables: dict,
                context: RequestContext) -> dict:
        is_mutation = operation.operation.value == "mutation"
        outcome = execute_sync(self.schema, document, root_value=self.mutation_root if is_mutation else self.query_root,
                          context_value=context, variable_values=variables,
                          operation_name=operation.name.value if operation.name else None)
        body: dict[str, Any] = {}
        if outcome.errors:
            body["errors"] = [self._execution_error(e) for e in outcome.errors]
        body["data"] = outcome.data
        return body

    @staticmethod
    def _execution_error(err: GraphQLError) -> dict:
        extensions = dict(err.extensions or {})
        code = extensions.pop("code", None)
        if code is None:
            original = err.original_error
            code = "INTERNAL_SERVER_ERROR" if original is not None and not isinstance(original, GraphQLError) else "BAD_REQUEST"
        return error(err.message, code, locations=_locations(err), path=err.path, **extensions)

    @staticmethod
    def _with_cost(body: dict, requested: int, actual: int | None, bucket: LeakyBucket | None, status=None) -> dict:
        if bucket is None:
            return body
        status = status or bucket.status()
        body.setdefault("extensions", {})["cost"] = {"requestedQueryCost": requested, "actualQueryCost": actual,
                                                     "throttleStatus": status.as_json()}
        return body


__all__ = ["GraphQLEndpoint", "GraphQLOutcome", "error", "parse_document", "pick_operation"]
