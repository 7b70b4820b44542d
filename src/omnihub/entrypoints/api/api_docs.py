"""The API's own description: the OpenAPI document, and the Swagger UI and ReDoc pages
over it, served offline (fastapi-offline ships their scripts and styles, served by the
hub itself: a hub on a shop's network with no way out still shows its docs).

The document is also where the problem+json body is named once (`Problem`), so every
route's error responses point at it."""

from __future__ import annotations

from typing import Any

from fastapi import FastAPI
from fastapi.openapi.utils import get_openapi
from fastapi_offline import FastAPIOffline

from omnihub.entrypoints.api.answers import Problem
from omnihub.entrypoints.api.problems import PROBLEM

OPENAPI_URL = "/api/v1/openapi.json"
DOCS_URL = "/api/v1/docs"
REDOC_URL = "/redoc"
#: where the pages' scripts, styles and favicon are served from
ASSETS_URL = "/api/v1/docs-assets"


def documented_app(**settings: Any) -> FastAPI:
    """The FastAPI app with its docs pages (`settings` go to FastAPI)."""
    app = FastAPIOffline(docs_url=DOCS_URL, redoc_url=REDOC_URL, static_url=ASSETS_URL, openapi_url=OPENAPI_URL,
                         **settings)

    def openapi() -> dict[str, Any]:
        if app.openapi_schema is None:
            doc = get_openapi(title=app.title, version=app.version, description=app.description, routes=app.routes,
                              openapi_version=app.openapi_version, tags=app.openapi_tags)
            schemas = doc.setdefault("components", {}).setdefault("schemas", {})
            schemas["Problem"] = Problem.model_json_schema(ref_template="#/components/schemas/{model}")
            for name, sub in schemas["Problem"].pop("$defs", {}).items():
                schemas.setdefault(name, sub)
            for sub in schemas.values():
                # The domain's enums describe themselves by their values: their docstrings
                # are not the document's, since the compiled build (mypyc) replaces them
                # with a filler, and the document must be the same whichever build serves it.
                if "enum" in sub:
                    sub.pop("description", None)
            for path in doc.get("paths", {}).values():
                for operation in path.values():
                    for answer in operation.get("responses", {}).values():
                        content = answer.get("content", {})
                        if PROBLEM in content:  # the error responses: problem+json only
                            content.pop("application/json", None)
                            content[PROBLEM] = {"schema": {"$ref": "#/components/schemas/Problem"}}
            app.openapi_schema = doc
        return app.openapi_schema

    app.openapi = openapi  # type: ignore[method-assign]
    return app
