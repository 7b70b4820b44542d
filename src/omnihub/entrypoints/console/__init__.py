"""The console: the pages operators and store associates use, served by the hub's own
app under /console/ (`/` sends a browser there).

Server-rendered Jinja2 with htmx for the parts that change in place and server-sent
events for the live overview: pages that work as plain HTML forms (every action is a
form post with the session's CSRF token, then a redirect), no build step, nothing from a
CDN (htmx and its SSE extension are vendored under static/vendor with their licences),
and a strict Content-Security-Policy (scripts and styles from the hub only, no inline
code). One module per screen; each reads through the services, never raw SQL, and each
route's access is declared with the API's in entrypoints/api/access_policy.py.
"""

from __future__ import annotations

from fastapi import APIRouter, Depends, FastAPI

from omnihub.entrypoints.console import page_access


def install(app: FastAPI) -> None:
    """Add the console's routes, its error pages and `/` → /console/."""
    from omnihub.entrypoints.console import (
        damage, inventory, orders, overview, receiving, rules, shelf_count, sign_in, static_files, store,
    )
    from omnihub.entrypoints.console import hand_over, picking, store_mode
    from omnihub.entrypoints.console import audit, channels, sync_retries, users

    page_access.install(app)
    app.include_router(static_files.router)
    app.include_router(sign_in.public_router)
    signed: list = [Depends(page_access.page_principal)]
    for module in (sign_in, overview, inventory, orders, store, receiving, shelf_count, damage, rules,
                   picking, hand_over, store_mode, channels, sync_retries, audit, users):
        router: APIRouter = module.router
        app.include_router(router, dependencies=signed)
