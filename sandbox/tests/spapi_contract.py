"""Validate requests and responses against Amazon's official swagger 2.0 models.

The models live in the shared contracts directory (``OMNIHUB_SHARED_DIR``, default
``../shared`` next to the project root) and are never copied into the project. A
response schema is validated with jsonschema's Draft 4 validator, resolving
``#/definitions/...`` against the model file it came from.
"""

from __future__ import annotations

import functools
import json
from pathlib import Path
from typing import Any

from jsonschema import Draft4Validator, Draft7Validator

from shared_contracts import require_shared, shared_path

def amazon_contracts() -> Path:
    return require_shared("contracts", "amazon")


@functools.lru_cache(maxsize=None)
def model(name: str) -> dict[str, Any]:
    return json.loads(require_shared("contracts", "amazon", "models", name).read_text())


@functools.lru_cache(maxsize=None)
def json_schema(name: str) -> dict[str, Any]:
    return json.loads((amazon_contracts() / "schemas" / name).read_text())


def find_operation(model_name: str, operation_id: str) -> tuple[str, str, dict[str, Any]]:
    for path, ops in model(model_name)["paths"].items():
        for verb, op in ops.items():
            if isinstance(op, dict) and op.get("operationId") == operation_id:
                return path, verb, op
    raise KeyError(operation_id)


def _validator(model_name: str, schema: dict[str, Any]) -> Draft4Validator:
    whole = {**schema, "definitions": model(model_name)["definitions"]}
    return Draft4Validator(whole)


def response_errors(model_name: str, operation_id: str, status: int, body: Any) -> list[str]:
    """Problems with ``body`` as the response of ``operation_id`` with ``status``."""
    _, _, op = find_operation(model_name, operation_id)
    response = op["responses"].get(str(status))
    if response is None:
        return [f"status {status} is not documented for {operation_id}"]
    schema = response.get("schema")
    if schema is None:
        return [] if body in (None, b"", "", {}) else [f"{operation_id} {status} has no body in the model"]
    return [f"{'/'.join(map(str, e.absolute_path))}: {e.message}" for e in _validator(model_name, schema).iter_errors(body)]


def assert_response(model_name: str, operation_id: str, answer: Any) -> Any:
    """Assert an httpx response matches the model; return its JSON body."""
    body = answer.json() if answer.content else None
    problems = response_errors(model_name, operation_id, answer.status_code, body)
    assert not problems, f"{operation_id} {answer.status_code} does not match the model: {problems[:5]} body={body}"
    return body


def body_errors(model_name: str, operation_id: str, body: Any) -> list[str]:
    """Problems with ``body`` as the request body of ``operation_id``."""
    _, _, op = find_operation(model_name, operation_id)
    param = next(p for p in op["parameters"] if p.get("in") == "body")
    return [e.message for e in _validator(model_name, param["schema"]).iter_errors(body)]


def notification_errors(schema_name: str, body: Any) -> list[str]:
    return [f"{'/'.join(map(str, e.absolute_path))}: {e.message}" for e in Draft7Validator(json_schema(schema_name)).iter_errors(body)]


def sandbox_vectors(model_name: str, operation_id: str) -> list[tuple[int, dict[str, Any], Any]]:
    """The operation's ``x-amzn-api-sandbox`` static examples: (status, parameters, response).

    Called at collection time, so it never skips: with the contracts absent it has none
    (the caller parametrizes a stand-in that skips, or fails in CI, when it runs).
    """
    if shared_path("contracts", "amazon", "models", model_name) is None:
        return []
    _, _, op = find_operation(model_name, operation_id)
    vectors = []
    for status, response in op["responses"].items():
        for example in response.get("x-amzn-api-sandbox", {}).get("static", []):
            params = {k: v.get("value") for k, v in example["request"].get("parameters", {}).items() if isinstance(v, dict)}
            vectors.append((int(status), params, example["response"]))
    return vectors
