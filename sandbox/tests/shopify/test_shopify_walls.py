"""The sandbox is another world: it imports nothing of the hub, and what it accepts Shopify accepts."""

from __future__ import annotations

import ast
from pathlib import Path

import pytest
from graphql import parse, validate

import test_shopify_bulk
import test_shopify_fulfillment_holds
import test_shopify_inventory
import test_shopify_inventory_moves_and_activation
import test_shopify_pagination_and_search
import test_shopify_returns_and_refunds
import test_shopify_sales_and_oversell

SANDBOX = Path(__file__).resolve().parents[2] / "src" / "omnihub_sandbox"


def test_the_sandbox_imports_nothing_from_the_hub():
    offenders = []
    for path in SANDBOX.rglob("*.py"):
        for node in ast.walk(ast.parse(path.read_text())):
            names = []
            if isinstance(node, ast.Import):
                names = [a.name for a in node.names]
            elif isinstance(node, ast.ImportFrom) and node.level == 0 and node.module:
                names = [node.module]
            offenders += [f"{path.name}: {n}" for n in names
                          if n == "omnihub" or n.startswith("omnihub.")]
    assert offenders == []
    assert len(list(SANDBOX.rglob("*.py"))) > 50  # the walk found the package


DOCUMENTS = [
    test_shopify_inventory.SET, test_shopify_inventory.ADJUST, test_shopify_inventory.LEVEL,
    test_shopify_pagination_and_search.ORDERS_PAGE, test_shopify_pagination_and_search.PRODUCTS_SEARCH,
    test_shopify_sales_and_oversell.FULFILL, test_shopify_sales_and_oversell.ORDER, test_shopify_bulk.RUN_QUERY,
    test_shopify_bulk.CURRENT, test_shopify_bulk.CATALOG_DUMP,
    *test_shopify_returns_and_refunds.DOCUMENTS, *test_shopify_inventory_moves_and_activation.DOCUMENTS,
    *test_shopify_fulfillment_holds.DOCUMENTS,
]
# What the sandbox learnt to serve after the official client found it missing (issue 23): each
# is sent by a test above, and so validated against Shopify's schema here.
NEW_OPERATIONS = {
    "returnCreate", "returnRequest", "returnApproveRequest", "returnDeclineRequest", "returnProcess", "returnClose",
    "returnReopen", "returnCancel", "refundCreate", "inventoryActivate", "inventoryDeactivate",
    "inventoryMoveQuantities", "fulfillmentOrderHold", "fulfillmentOrderReleaseHold", "return",
}


@pytest.mark.shared
def test_documents_the_tests_send_are_valid_against_the_official_schema(official_admin_schema):
    for document in DOCUMENTS:
        assert validate(official_admin_schema, parse(document)) == [], document


def test_every_new_operation_is_sent_by_a_validated_document():
    from graphql import FieldNode, OperationDefinitionNode

    from omnihub_sandbox.shopify.graphql_schema import load_schema

    sent = {selection.name.value for document in DOCUMENTS for definition in parse(document).definitions
            if isinstance(definition, OperationDefinitionNode)
            for selection in definition.selection_set.selections if isinstance(selection, FieldNode)}
    assert NEW_OPERATIONS <= sent, NEW_OPERATIONS - sent
    schema = load_schema()
    served = set(schema.mutation_type.fields) | set(schema.query_type.fields)
    assert NEW_OPERATIONS <= served
