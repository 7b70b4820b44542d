"""Loads the sandbox's own Admin API schema (schema.graphql next to this file).

The schema is the sandbox's contract: every document is parsed and validated against it
before anything runs, exactly as Shopify rejects documents that do not fit its schema. A
fresh GraphQLSchema is built per app so resolvers can be bound without sharing state.
"""

from __future__ import annotations

from functools import lru_cache
from pathlib import Path

from graphql import GraphQLSchema, build_schema

SCHEMA_PATH = Path(__file__).with_name("schema.graphql")


@lru_cache(maxsize=1)
def schema_sdl() -> str:
    return SCHEMA_PATH.read_text(encoding="utf-8")


def load_schema() -> GraphQLSchema:
    """Build a new schema object (resolvers are attached to it by the caller)."""
    return build_schema(schema_sdl())
