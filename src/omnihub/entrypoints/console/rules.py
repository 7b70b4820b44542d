"""Rules: safety stock and thresholds (per channel, SKU and location, or any of them),
each channel's allocation (its share of the pool or a fixed number, less a buffer), and
the routing rules (the rule set as JSON, as GET /api/v1/routing-rules answers it),
editable with validation: the same services as PUT /api/v1/stock-policies,
PUT /api/v1/channels/{code} and PUT /api/v1/routing-rules (CatalogService.set_policy,
upsert_channel, RuleStore.save), which take effect at once.

Every form has a Preview beside its Save: the edit's effect before it is saved (what
each channel may sell of a few SKUs before → after, and how the last 100 routed orders
would route under it, beside how they did: services/rule_preview.py), computed by the
engine's own pure functions and writing nothing. htmx puts the preview under the form;
without scripts the button posts the form and the page comes back with it.

Whoever may read the rules sees them, edits the forms and previews; only a role that may
change them gets the Save buttons, and its posts are the only ones the routes' rules
accept (a read-only user's save is refused, 403, whatever the page showed).
"""

from __future__ import annotations

from fastapi import APIRouter, Request
from fastapi.responses import RedirectResponse, Response
from starlette.concurrency import run_in_threadpool

import json

from omnihub.domain.access import Permission, Principal
from omnihub.domain.atp import PolicyRule
from omnihub.domain.ledger import LedgerError
from omnihub.domain.limits import MAX_QUANTITY
from omnihub.domain.routing_rules import RoutingRuleSet, RuleValidationError
from omnihub.entrypoints.console.forms import read_form, whole_number
from omnihub.entrypoints.console.page_access import PagePrincipal, PageRefused
from omnihub.entrypoints.console.pages import render
from omnihub.services.audit_trail import note_change, note_nothing_changed
from omnihub.services.catalog import NotFound
from omnihub.services.routing_rules_store import StaleRules
from omnihub.services.rule_preview import RuleEdit, preview

router = APIRouter(include_in_schema=False)
DONE = {"policy": "Saved: what every channel may sell is recomputed.",
        "channel": "Saved: the channel's allocation is recomputed.",
        "routing": "Saved: the routing rules are a new version, in force for the next order routed."}
RULES_TEXT_LENGTH = 64_000  # a rule set's JSON as typed (the form's field is cut at forms.FIELD_LENGTH otherwise)


def _view(hub, principal: Principal) -> dict:
    may_read_routing = principal.can(Permission.RULES_READ)
    routing = hub.rules.get() if may_read_routing else None
    return {"policies": hub.catalog.list_policies(), "channels": hub.catalog.list_channels(),
            "locations": [loc["code"] for loc in hub.catalog.list_locations()],
            "may_read_routing": may_read_routing, "routing_version": routing["version"] if routing else None,
            "routing_json": _rules_text(routing) if routing else ""}


def _rules_text(rules: dict) -> str:
    return json.dumps({k: v for k, v in rules.items() if k != "version"}, indent=2)


async def _page(request: Request, principal: Principal, *, status_code: int = 200, **ctx) -> Response:
    view = await run_in_threadpool(_view, request.app.state.hub, principal)
    values = {"errors": {}, "policy_form": {}, "channel_forms": {}, "done": None, "error_channel": None,
              "routing_text": None, "routing_based_on": None, "preview": None, "preview_for": None,
              "preview_error": None, **ctx}
    return render(request, "rules.html", {"title": "Rules", **view, **values,
                                          "may_save": principal.can_somewhere(Permission.CHANNELS_WRITE),
                                          "may_save_routing": principal.can(Permission.RULES_WRITE)},
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


def _policy_edit(hub, form: dict[str, str], errors: dict[str, str]) -> PolicyRule:
    """The policy rule a form describes; what is wrong with it goes into `errors`."""
    channel, sku, location = form.get("channel") or None, form.get("sku") or None, form.get("location") or None
    safety = _optional_number(form, "safety_stock", errors, "Safety stock")
    threshold = _optional_number(form, "threshold", errors, "Threshold")
    for field, value, read in (("channel", channel, hub.catalog.get_channel), ("sku", sku, hub.catalog.get_variant),
                               ("location", location, hub.catalog.get_location)):
        if value is not None:
            try:
                read(value)
            except NotFound:
                errors[field] = f"There is no {field.replace('sku', 'SKU')} {value!r}."
    return PolicyRule(channel=channel, sku=sku, location=location, safety_stock=safety, threshold=threshold)


@router.post("/console/rules/stock-policies")
async def save_policy(request: Request, principal: PagePrincipal) -> Response:
    hub = request.app.state.hub
    form = await read_form(request)
    errors: dict[str, str] = {}
    channel = form.get("channel") or None
    if not principal.can(Permission.CHANNELS_WRITE, channel=channel):  # a token scoped to another channel's settings
        raise PageRefused(403, f"{principal.name!r} may not change the rules of channel {channel or 'any'}")
    rule = await run_in_threadpool(_policy_edit, hub, form, errors)
    if errors:
        return await _page(request, principal, status_code=422, errors=errors, policy_form=form)
    try:
        await run_in_threadpool(lambda: hub.catalog.set_policy(channel=rule.channel, sku=rule.sku, location=rule.location,
                                                               safety_stock=rule.safety_stock, threshold=rule.threshold))
    except LedgerError as exc:
        return await _page(request, principal, status_code=422, errors={exc.field or "safety_stock": str(exc)},
                           policy_form=form)
    note_change(action="channels.put_policy", door="console")
    return RedirectResponse("/console/rules?done=policy", status_code=303)


def _allocation_edit(form: dict[str, str], errors: dict[str, str]) -> tuple[int, int | None, int]:
    """(share, fixed allocation, buffer) as a channel's form sends them; faults in `errors`."""
    share = whole_number(form.get("share_pct"), low=0, high=100)
    if share is None:
        errors["share_pct"] = "Share: a whole percentage from 0 to 100."
    fixed = _optional_number(form, "fixed_allocation", errors, "Fixed allocation")
    buffer = whole_number(form.get("buffer") or "0", low=0, high=MAX_QUANTITY)
    if buffer is None:
        errors["buffer"] = f"Buffer: a whole number from 0 to {MAX_QUANTITY:,}."
    return share or 0, fixed, buffer or 0


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
    share, fixed, buffer = _allocation_edit(form, errors)
    if errors:
        return await _page(request, principal, status_code=422, errors=errors, channel_forms={code: form},
                           error_channel=code)
    await run_in_threadpool(lambda: hub.catalog.upsert_channel(
        code, name=channel["name"], kind=channel["kind"], per_location=channel["per_location"], share_pct=share,
        fixed_allocation=fixed, buffer=buffer))
    note_change(action="channels.put_channel", door="console")
    return RedirectResponse("/console/rules?done=channel", status_code=303)


async def _rules_text_of(request: Request) -> tuple[dict[str, str], str]:
    """The form's fields, and its rule set's text whole (read_form cuts long fields)."""
    form = await read_form(request)
    if "rules" in form:
        raw = await request.form()
        value = raw.get("rules")
        form["rules"] = value[:RULES_TEXT_LENGTH] if isinstance(value, str) and "\x00" not in value else ""
    return form, form.get("rules", "")


def _routing_edit(text: str, errors: dict[str, str]) -> tuple[dict | None, RoutingRuleSet | None]:
    """The rule set the text describes (its JSON, and the domain's reading of it)."""
    try:
        data = json.loads(text)
    except json.JSONDecodeError as exc:
        errors["rules"] = f"Not JSON: line {exc.lineno}, column {exc.colno}: {exc.msg}."
        return None, None
    if not isinstance(data, dict):
        errors["rules"] = "The rules are a JSON object: {\"rules\": [...], \"final_fallback\": ...}."
        return None, None
    data.pop("version", None)
    try:
        return data, RoutingRuleSet.from_dict(data)
    except RuleValidationError as exc:
        errors["rules"] = str(exc)  # the member at fault, then what is wrong with it
        return None, None


@router.post("/console/rules/routing")
async def save_routing(request: Request, principal: PagePrincipal) -> Response:
    hub = request.app.state.hub
    form, text = await _rules_text_of(request)
    errors: dict[str, str] = {}
    data, _ = _routing_edit(text, errors)
    based_on = whole_number(form.get("based_on"), low=0, high=2**31 - 1)
    if errors or data is None:
        return await _page(request, principal, status_code=422, errors=errors, routing_text=text)
    try:
        await run_in_threadpool(lambda: hub.rules.save({**data, "version": based_on}, comment=form.get("comment") or None,
                                                       actor=principal.actor))
    except StaleRules as exc:
        return await _page(request, principal, status_code=409, errors={"rules": str(exc)}, routing_text=text)
    except LedgerError as exc:
        return await _page(request, principal, status_code=422, errors={"rules": str(exc)}, routing_text=text)
    note_change(action="orders.put_rules", door="console")
    return RedirectResponse("/console/rules?done=routing", status_code=303)


def _edit_of(hub, principal: Principal, form: dict[str, str], text: str, errors: dict[str, str]) -> RuleEdit:
    """The edit a form previews: its kind says which form sent it."""
    kind = form.get("preview_of")
    if kind == "policy":
        return RuleEdit("policy", policy=_policy_edit(hub, form, errors))
    if kind == "channel":
        code = form.get("channel_code", "")
        try:
            hub.catalog.get_channel(code)
        except NotFound:
            errors["channel"] = f"There is no channel {code!r}."
        share, fixed, buffer = _allocation_edit(form, errors)
        return RuleEdit("channel", channel=code, share_pct=share, fixed=fixed, buffer=buffer)
    if kind == "routing":
        if not principal.can(Permission.RULES_READ):
            raise PageRefused(403, f"{principal.name!r} may not use {Permission.RULES_READ.value}")
        _, ruleset = _routing_edit(text, errors)
        return RuleEdit("routing", rules=ruleset)
    errors["preview_of"] = "Say which rule to preview: policy, channel or routing."
    return RuleEdit("policy")


@router.post("/console/rules/preview")
async def preview_rule(request: Request, principal: PagePrincipal) -> Response:
    """What the form's edit would do, saved nowhere (a post: a rule set is too long for a
    query string). htmx asks for the preview alone; a plain form post gets the page."""
    note_nothing_changed()
    hub = request.app.state.hub
    form, text = await _rules_text_of(request)
    errors: dict[str, str] = {}
    edit = await run_in_threadpool(_edit_of, hub, principal, form, text, errors)
    shown = None
    if not errors:
        shown = await run_in_threadpool(preview, hub.read_engine, hub.rules, edit)
    ctx = {"preview": shown, "preview_for": form.get("preview_of") if form.get("preview_of") != "channel"
           else f"channel-{form.get('channel_code', '')}", "preview_error": " ".join(errors.values()) or None,
           "may_see_orders": principal.can_somewhere(Permission.ORDERS_READ)}
    status = 422 if errors else 200
    if request.headers.get("hx-request") == "true":
        return render(request, "_rule_preview.html", ctx)  # 200 even for a fault: htmx swaps in only a success
    forms = {"policy_form": form} if edit.kind == "policy" else \
        {"channel_forms": {edit.channel or "": form}} if edit.kind == "channel" else {"routing_text": text}
    return await _page(request, principal, status_code=status, **ctx, **forms)
