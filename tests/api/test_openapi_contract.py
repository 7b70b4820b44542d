"""The API's contract, held in a checked-in copy: the OpenAPI document the app generates
must equal tests/api/openapi.json, so a change to any route, body or answer is a diff a
reviewer sees. The document must be valid OpenAPI, every route must declare what it
answers, and the docs pages must work with no way out (their assets from the hub itself).

After a deliberate change, write the copy again:

    PYTHONPATH=src python -m tests.api.test_openapi_contract
"""

from __future__ import annotations

import difflib
import json
import re
import sys
from pathlib import Path

from fastapi.routing import APIRoute, _iter_routes_with_context
from fastapi.responses import FileResponse
from fastapi.testclient import TestClient
from openapi_spec_validator import validate

from omnihub.entrypoints.api.access_policy import effective_routes
from omnihub.entrypoints.api.app import create_app
from omnihub.settings import Settings

SNAPSHOT = Path(__file__).with_name("openapi.json")
REGENERATE = "PYTHONPATH=src python -m tests.api.test_openapi_contract"


def _text(doc: dict) -> str:
    return json.dumps(doc, indent=2, sort_keys=True, ensure_ascii=False) + "\n"


def generated() -> dict:
    """The app's OpenAPI document (no hub needed: the document is made from the routes)."""
    return _inner(create_app(Settings(), run_migrations=False)).openapi()


def _inner(app):
    """The FastAPI app inside create_app's guards (request guards, body limit)."""
    while not hasattr(app, "openapi"):
        app = app.app
    return app


def test_the_generated_document_is_the_checked_in_one():
    want, got = SNAPSHOT.read_text(encoding="utf-8"), _text(generated())
    if want != got:
        diff = "".join(difflib.unified_diff(want.splitlines(True), got.splitlines(True), "tests/api/openapi.json",
                                            "generated", n=2))
        raise AssertionError(f"the API's contract changed; if that is meant, run `{REGENERATE}` and commit "
                             f"tests/api/openapi.json\n{diff[:20000]}")


def test_the_document_is_valid_openapi():
    validate(json.loads(SNAPSHOT.read_text(encoding="utf-8")))
    validate(generated())


def test_every_route_declares_what_it_answers():
    """A body model for every route in the document, or no body at all (204); and every
    route behind a principal documents its 401 and 403 as problem+json."""
    app = _inner(create_app(Settings(), run_migrations=False))
    doc = app.openapi()
    untyped, unproblematic = [], []
    for method, path, _endpoint in effective_routes(app.routes):
        if method == "HEAD":
            continue
        operation = doc["paths"].get(path, {}).get(method.lower())
        if operation is None:
            continue  # not in the document: the docs pages, health, metrics
        answers = operation["responses"]
        success = [(s, a) for s, a in answers.items() if s.startswith("2")]
        for status, answer in success:
            if status != "204" and not any("schema" in c and c["schema"] not in ({}, {"type": "object"})
                                           or status == "200" and path.endswith("/file")
                                           for c in answer.get("content", {}).values()):
                untyped.append(f"{method} {path} {status}")
        for status, answer in answers.items():
            if not status.startswith("2") and "application/problem+json" not in answer.get("content", {}):
                unproblematic.append(f"{method} {path} {status}")
    assert not untyped, f"routes answering without a declared model: {untyped}"
    assert not unproblematic, f"errors not declared as problem+json: {unproblematic}"
    routes = [r for r, _ in _iter_routes_with_context(app.routes) if isinstance(r, APIRoute) and r.include_in_schema]
    assert len(routes) > 50, f"only {len(routes)} routes found in the route table"
    for route in routes:
        if route.status_code != 204 and getattr(route.response_class, "value", route.response_class) is not FileResponse:
            assert route.response_model is not None, f"{route.path}: no response_model"


def test_swagger_ui_and_redoc_need_nothing_from_outside(hub):
    with TestClient(create_app(hub=hub)) as client:
        for page in ("/api/v1/docs", "/redoc"):
            html = client.get(page)
            assert html.status_code == 200 and "text/html" in html.headers["content-type"], page
            assert not re.search(r"""(src|href)=["']?(https?:)?//""", html.text), f"{page} loads from outside"
            assets = re.findall(r"""(?:src|href)=["']([^"']+)["']""", html.text)
            assets += re.findall(r"""(?:url|spec-url)\s*[:=]\s*['"]([^'"]+)['"]""", html.text)
            assert any(a.endswith(".js") for a in assets), f"{page}: no script found in {assets}"
            for asset in set(assets):
                got = client.get(asset)
                assert got.status_code == 200 and got.content, f"{page}: {asset} answered {got.status_code}"


if __name__ == "__main__":
    SNAPSHOT.write_text(_text(generated()), encoding="utf-8")
    print(f"wrote {SNAPSHOT}", file=sys.stderr)
