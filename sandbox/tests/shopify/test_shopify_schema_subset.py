"""The sandbox's schema is a true subset of Shopify's Admin schema (2026-10).

A document the sandbox accepts must also be valid against Shopify, and everything it
answers must have the type Shopify gives it. So: every type, field, argument, enum value,
input field and directive the sandbox declares exists in the official schema with the same
type, and nothing that Shopify requires (required arguments and input fields) is missing.
"""

from __future__ import annotations

from graphql import (
    GraphQLEnumType,
    GraphQLInputObjectType,
    GraphQLInterfaceType,
    GraphQLObjectType,
    GraphQLScalarType,
    GraphQLUnionType,
    is_non_null_type,
)

import pytest

from omnihub_sandbox.shopify.graphql_schema import load_schema

pytestmark = pytest.mark.shared


def _differences(ours, official) -> list[str]:
    problems: list[str] = []
    for name, our_type in ours.type_map.items():
        if name.startswith("__"):
            continue
        their_type = official.type_map.get(name)
        if their_type is None:
            problems.append(f"type {name} does not exist")
            continue
        if type(our_type) is not type(their_type):
            problems.append(f"type {name} is a {type(our_type).__name__}, official is {type(their_type).__name__}")
            continue
        if isinstance(our_type, (GraphQLObjectType, GraphQLInterfaceType)):
            their_interfaces = {i.name for i in their_type.interfaces}
            for interface in our_type.interfaces:
                if interface.name not in their_interfaces:
                    problems.append(f"{name} does not implement {interface.name}")
            for field_name, field in our_type.fields.items():
                theirs = their_type.fields.get(field_name)
                if theirs is None:
                    problems.append(f"field {name}.{field_name} does not exist")
                    continue
                if str(field.type) != str(theirs.type):
                    problems.append(f"field {name}.{field_name}: {field.type} != {theirs.type}")
                for arg_name, arg in field.args.items():
                    their_arg = theirs.args.get(arg_name)
                    if their_arg is None:
                        problems.append(f"argument {name}.{field_name}({arg_name}) does not exist")
                    elif str(arg.type) != str(their_arg.type):
                        problems.append(f"argument {name}.{field_name}({arg_name}): {arg.type} != {their_arg.type}")
                for arg_name, their_arg in theirs.args.items():
                    if is_non_null_type(their_arg.type) and _no_default(their_arg) and arg_name not in field.args:
                        problems.append(f"required argument {name}.{field_name}({arg_name}) is missing")
        elif isinstance(our_type, GraphQLInputObjectType):
            for field_name, field in our_type.fields.items():
                theirs = their_type.fields.get(field_name)
                if theirs is None:
                    problems.append(f"input field {name}.{field_name} does not exist")
                elif str(field.type) != str(theirs.type):
                    problems.append(f"input field {name}.{field_name}: {field.type} != {theirs.type}")
            for field_name, theirs in their_type.fields.items():
                if is_non_null_type(theirs.type) and _no_default(theirs) and field_name not in our_type.fields:
                    problems.append(f"required input field {name}.{field_name} is missing")
        elif isinstance(our_type, GraphQLEnumType):
            for value in our_type.values:
                if value not in their_type.values:
                    problems.append(f"enum value {name}.{value} does not exist")
        elif isinstance(our_type, GraphQLUnionType):
            their_members = {t.name for t in their_type.types}
            for member in our_type.types:
                if member.name not in their_members:
                    problems.append(f"union {name} has no member {member.name}")
        else:
            assert isinstance(our_type, GraphQLScalarType)
    for directive in ours.directives:
        theirs = official.get_directive(directive.name)
        if theirs is None:
            problems.append(f"directive @{directive.name} does not exist")
            continue
        if not set(directive.locations) <= set(theirs.locations):
            problems.append(f"directive @{directive.name} locations differ")
        for arg_name, arg in directive.args.items():
            their_arg = theirs.args.get(arg_name)
            if their_arg is None or str(arg.type) != str(their_arg.type):
                problems.append(f"directive @{directive.name}({arg_name}) differs")
    for root in ("query_type", "mutation_type"):
        our_root, their_root = getattr(ours, root), getattr(official, root)
        if our_root is not None and (their_root is None or our_root.name != their_root.name):
            problems.append(f"{root} is {our_root.name}, official is {their_root and their_root.name}")
    return problems


def _no_default(value) -> bool:
    from graphql.pyutils import Undefined

    return value.default_value is Undefined


def test_sandbox_schema_is_a_subset_of_the_official_admin_schema(official_admin_schema):
    problems = _differences(load_schema(), official_admin_schema)
    assert problems == []


def test_the_check_catches_a_field_that_shopify_does_not_have(official_admin_schema):
    from graphql import build_schema

    bogus = build_schema("type QueryRoot { shop: Shop! omnihubOnly: Int } type Shop { name: String! }")
    problems = _differences(bogus, official_admin_schema)
    assert "field QueryRoot.omnihubOnly does not exist" in problems


def test_the_check_catches_a_wrong_type(official_admin_schema):
    from graphql import build_schema

    bogus = build_schema("type QueryRoot { shop: Shop } type Shop { name: String! }")
    assert "field QueryRoot.shop: Shop != Shop!" in _differences(bogus, official_admin_schema)
