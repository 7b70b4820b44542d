"""The console's own files (its stylesheet, htmx and its SSE extension, the camera's
barcode scanner and the ZXing reader it falls back on, uPlot and the script that draws
the SKU page's chart with it): served by name from a fixed list, public (they hold no
data; the sign-in page needs them), cached by the browser for a day.

uPlot 1.6.32 is vendored as published (MIT, its licence beside it; npm's
uplot-1.6.32.tgz, sha256 4b8a8191e425658e3ea8c8c1314b0fc679c861ee3a1af2b20c7b16ba50b5133d,
its dist/uPlot.iife.min.js and dist/uPlot.min.css): it uses no eval and sets styles
through the DOM, so the pages' CSP stands as it is."""

from __future__ import annotations

from importlib import resources

from fastapi import APIRouter
from fastapi.responses import FileResponse, Response

router = APIRouter(include_in_schema=False)

_ROOT = resources.files("omnihub.entrypoints.console") / "static"
FILES = {
    "console.css": ("console.css", "text/css"),
    "htmx.min.js": ("vendor/htmx-2.0.11.min.js", "text/javascript"),
    "htmx-ext-sse.min.js": ("vendor/htmx-ext-sse-2.2.4.min.js", "text/javascript"),
    "scanner.js": ("scanner.js", "text/javascript"),
    "zxing.min.js": ("vendor/zxing-library-0.23.0.min.js", "text/javascript"),
    "uPlot.iife.min.js": ("vendor/uPlot-1.6.32.iife.min.js", "text/javascript"),
    "uPlot.min.css": ("vendor/uPlot-1.6.32.min.css", "text/css"),
    "stock-chart.js": ("stock-chart.js", "text/javascript"),
}


@router.get("/console/static/{name}")
def static_file(name: str) -> Response:
    found = FILES.get(name)
    if found is None:
        return Response("not found", status_code=404, media_type="text/plain")
    path, media = found
    return FileResponse(str(_ROOT / path), media_type=media,
                        headers={"Cache-Control": "public, max-age=86400", "X-Content-Type-Options": "nosniff"})
