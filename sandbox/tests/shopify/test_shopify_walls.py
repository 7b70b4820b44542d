"""The sandbox is another world: it imports nothing of the hub, and what it accepts Shopify accepts."""

from __future__ import annotations

import ast
from pathlib import Path

import pytest
from graphql import parse, validate

import test_shopify_bulk
import test_shopify_inventory
import test_shopify_pagination_and_search
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


@pytest.mark.shared
def test_documents_the_tests_send_are_valid_against_the_official_schema(official_admin_schema):
    documents = [
        test_shopify_inventory.SET, test_shopify_inventory.ADJUST, test_shopify_inventory.LEVEL,
        test_shopify_pagination_and_search.ORDERS_PAGE, test_shopify_sales_and_oversell.FULFILL,
        test_shopify_sales_and_oversell.ORDER, test_shopify_bulk.RUN_QUERY, test_shopify_bulk.CURRENT,
        test_shopify_bulk.CATALOG_DUMP,
    ]
    for document in documents:
        assert validate(official_admin_schema, parse(document)) == [], document
