"""The sandbox's own subset schema of Walmart's JSON API (marketplace_subset.schema.json).

Walmart's current OpenAPI definitions may not be redistributed, so the sandbox writes
down the part it answers, from the public documentation, as JSON Schema: requests are
checked against it before anything changes (a refusal names the field, in Walmart's
error shape), and the tests hold every response to it and, where shapes overlap, to
Walmart's own XSDs.
"""

from __future__ import annotations

import functools
import json
from importlib import resources
from typing import Any

from jsonschema import Draft202012Validator, FormatChecker

from .errors import GATEWAY, WalmartError

SCHEMA_FILE = "marketplace_subset.schema.json"


@functools.lru_cache(maxsize=1)
def subset_schema() -> dict[str, Any]:
    schema: dict[str, Any] = json.loads(resources.files(__package__).joinpath(SCHEMA_FILE).read_text())
    return schema


@functools.lru_cache(maxsize=None)
def validator(definition: str) -> Draft202012Validator:
    schema = subset_schema()
    if definition not in schema["$defs"]:
        raise KeyError(definition)
    return Draft202012Validator({"$ref": f"#/$defs/{definition}", "$defs": schema["$defs"]},
                                format_checker=FormatChecker())


def problems(definition: str, instance: Any) -> list[tuple[str, str]]:
    """(JSON path, message) of each way `instance` breaks the definition, first by path."""
    found = sorted(validator(definition).iter_errors(instance), key=lambda e: list(map(str, e.absolute_path)))
    return [(".".join(str(p) for p in error.absolute_path), error.message) for error in found]


def require(definition: str, instance: Any, service: str = GATEWAY) -> None:
    """400 INVALID_REQUEST_CONTENT naming the first field that breaks the definition."""
    found = problems(definition, instance)
    if found:
        where, message = found[0]
        raise WalmartError("INVALID_REQUEST_CONTENT", f"{where or 'body'}: {message}", field=where or None,
                           service=service)
