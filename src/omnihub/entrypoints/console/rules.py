"""Rules: safety stock and thresholds (per channel, SKU and location, or any of them), and
each channel's allocation (its share of the pool or a fixed number, less a buffer),
editable with validation: the same services as PUT /api/v1/stock-policies and
PUT /api/v1/channels/{code} (CatalogService.set_policy, upsert_channel), which recompute
what every channel may sell at once.

Whoever may read the rules sees them; only a role that may change channels' settings
gets the forms' save buttons, and its posts are the only ones the routes' rules accept
(a read-only user's post is refused, 403, whatever the page showed).
"""

from __future__ import annotations

from fastapi import APIRouter, Request
from fastapi.responses import RedirectResponse, Response
from starlette.concurrency import run_in_threadpool

from omnihub.domain.access import Permission, Principal
from omnihub.domain.ledger import LedgerError
from omnihub.domain.limits import MAX_QUANTITY
from omnihub.entrypoints.console.forms import read_form, whole_number
from omnihub.entrypoints.console.page_access import PagePrincipal, PageRefused
from omnihub.entrypoints.console.pages import render
from omnihub.services.audit_trail import note_change
from omnihub.services.catalog import NotFound

router = APIRouter(include_in_schema=False)
DONE = {"policy": "Saved: what every channel may sell is recomputed.",
        "channel": "Saved: the channel's allocation is recomputed."}


def _view(hub) -> dict:
    return {"policies": hub.catalog.list_policies(), "channels": hub.catalog.list_channels(),
            "locations": [loc["code"] for loc in hub.catalog.list_locations()]}


async def _page(request: Request, principal: Principal, *, status_code: int = 200, **ctx) -> Response:
    view = await run_in_threadpool(_view, request.app.state.hub)
    values = {"errors": {}, "policy_form": {}, "channel_forms": {}, "done": None, "error_channel": None, **ctx}
    return render(request, "rules.html", {"title": "Rules", **view, **values,
                                          "may_save": principal.can_somewhere(Permission.CHANNELS_WRITE)},
                  status_code=status_code)


@router.get("/console/rules")
async def rules_page(request: Request, principal: PagePrincipal, done: str = "") -> Response:
    return await _page(request, principal, done=DONE.get(done))


def _optional_number(form: dict[str, str], name: str, errors: dict[str, str], label: str) -> int | None:
    text = form.get(name, "")
    if text == "":
        return None
    value = whole_number(text, low=0, high=MAX_QUANTITY)
    if value is None:
        errors[name] = f"{label}: a whole number from 0 to {MAX_QUANTITY:,}, or empty."
    return value


@router.post("/console/rules/stock-policies")
async def save_policy(request: Request, principal: PagePrincipal) -> Response:
    hub = request.app.state.hub
    form = await read_form(request)
    errors: dict[str, str] = {}
    channel, sku, location = form.get("channel") or None, form.get("sku") or None, form.get("location") or None
    if not principal.can(Permission.CHANNELS_WRITE, channel=channel):  # a token scoped to another channel's settings
        raise PageRefused(403, f"{principal.name!r} may not change the rules of channel {channel or 'any'}")
    safety = _optional_number(form, "safety_stock", errors, "Safety stock")
    threshold = _optional_number(form, "threshold", errors, "Threshold")

    def check_scope() -> None:
        for field, value, read in (("channel", channel, hub.catalog.get_channel), ("sku", sku, hub.catalog.get_variant),
                                   ("location", location, hub.catalog.get_location)):
            if value is not None:
                try:
                    read(value)
                except NotFound:
                    errors[field] = f"There is no {field.replace('sku', 'SKU')} {value!r}."

    await run_in_threadpool(check_scope)
    if errors:
        return await _page(request, principal, status_code=422, errors=errors, policy_form=form)
    try:
        await run_in_threadpool(lambda: hub.catalog.set_policy(channel=channel, sku=sku, location=location,
                                                               safety_stock=safety, threshold=threshold))
    except LedgerError as exc:
        return await _page(request, principal, status_code=422, errors={exc.field or "safety_stock": str(exc)},
                           policy_form=form)
    note_change(action="channels.put_policy", door="console")
    return RedirectResponse("/console/rules?done=policy", status_code=303)


@router.post("/console/rules/channels/{code}")
async def save_channel(request: Request, code: str, principal: PagePrincipal) -> Response:
    hub = request.app.state.hub
    form = await read_form(request)
    try:
        channel = await run_in_threadpool(hub.catalog.get_channel, code)
    except NotFound:
        return render(request, "refused.html", {"title": "No such channel", "detail": f"There is no channel {code}."},
                      status_code=404)
    errors: dict[str, str] = {}
    share = whole_number(form.get("share_pct"), low=0, high=100)
    if share is None:
        errors["share_pct"] = "Share: a whole percentage from 0 to 100."
    fixed = _optional_number(form, "fixed_allocation", errors, "Fixed allocation")
    buffer = whole_number(form.get("buffer") or "0", low=0, high=MAX_QUANTITY)
    if buffer is None:
        errors["buffer"] = f"Buffer: a whole number from 0 to {MAX_QUANTITY:,}."
    if errors or share is None or buffer is None:
        return await _page(request, principal, status_code=422, errors=errors, channel_forms={code: form},
                           error_channel=code)
    await run_in_threadpool(lambda: hub.catalog.upsert_channel(
        code, name=channel["name"], kind=channel["kind"], per_location=channel["per_location"], share_pct=share,
        fixed_allocation=fixed, buffer=buffer))
    note_change(action="channels.put_channel", door="console")
    return RedirectResponse("/console/rules?done=channel", status_code=303)
