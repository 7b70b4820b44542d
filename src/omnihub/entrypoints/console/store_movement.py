"""One movement at a store from one form (receive a delivery, mark units damaged): a SKU
or barcode found at this store, the units, an optional note; recorded through Inventory
as the API records it, the associate as the ledger's actor, once per form shown (its
idempotency key); then the screen shows the movement as the ledger holds it.

The screens differ only in what `MovementScreen` names; the form's rules are one.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from typing import Any
from urllib.parse import quote

from fastapi import Request
from fastapi.responses import RedirectResponse, Response
from starlette.concurrency import run_in_threadpool

from omnihub.domain.ledger import LedgerError
from omnihub.domain.limits import MAX_ID, MAX_QUANTITY, REFERENCE_LENGTH
from omnihub.entrypoints.console.forms import read_form, whole_number
from omnihub.entrypoints.console.pages import render
from omnihub.entrypoints.console.store import find_here, missing_store, movement_of, new_form_key, store_of
from omnihub.services.audit_trail import note_change
from omnihub.services.inventory import Context


@dataclass(frozen=True)
class MovementScreen:
    name: str  # the path's last part, the template's name, the idempotency key's prefix
    title: str  # "Receive at": the store's code follows
    note_field: str  # the optional text's form field
    units_wanted: str  # what the units field must hold, said to the associate
    audit_action: str
    record: Callable[[Any, str, str, int, Context], Any]  # (hub, sku, location, units, ctx) → the movement's result
    default_note: str | None = None  # the ledger's reference when the note is left empty
    refused_status: int = 422  # when the ledger refuses the movement
    refused_field: str | None = None  # the field its message goes under (None: the one the ledger names, or the code)

    def page(self, request: Request, store: dict, *, status_code: int = 200, **ctx) -> Response:
        values = {"code": "", "quantity": "1", self.note_field: "", "errors": {}, "done": None, "found": None, **ctx}
        return render(request, f"{self.name}.html", {"title": f"{self.title} {store['code']}", "store": store,
                                                     "form_key": new_form_key(), **values}, status_code=status_code)

    async def show(self, request: Request, location: str, sku: str, movement: str) -> Response:
        hub = request.app.state.hub
        store = await run_in_threadpool(store_of, hub, location)
        if store is None:
            return missing_store(request, location)
        done = await run_in_threadpool(movement_of, hub, sku, whole_number(movement, low=1, high=MAX_ID), location)
        found = await run_in_threadpool(find_here, hub, sku, location) if done else None
        return self.page(request, store, done=done, found=found)

    async def post(self, request: Request, location: str, actor: str) -> Response:
        hub = request.app.state.hub
        store = await run_in_threadpool(store_of, hub, location)
        if store is None:
            return missing_store(request, location)
        form = await read_form(request)
        code, note = form.get("code", ""), form.get(self.note_field, "")[:REFERENCE_LENGTH]
        quantity = whole_number(form.get("quantity"), low=1, high=MAX_QUANTITY)
        found = await run_in_threadpool(find_here, hub, code, location) if code else None
        errors = {}
        if found is None:
            errors["code"] = f"No SKU or barcode {code!r}." if code else "Type or scan a SKU or barcode."
        if quantity is None:
            errors["quantity"] = f"{self.units_wanted}: a whole number from 1 to {MAX_QUANTITY:,}."
        if errors or found is None or quantity is None:
            return self.page(request, store, status_code=422, code=code, quantity=form.get("quantity", ""),
                             errors=errors, **{self.note_field: note})
        key = form.get("form_key", "")[:64]
        ctx = Context(actor=actor, reference=note or self.default_note,
                      idempotency_key=f"console-{self.name}:{key}" if key else None)
        try:
            result = await run_in_threadpool(self.record, hub, found.sku, location, quantity, ctx)
        except LedgerError as exc:
            field = self.refused_field or exc.field or "code"
            return self.page(request, store, status_code=self.refused_status, code=code, quantity=str(quantity),
                             errors={field: str(exc)}, **{self.note_field: note})
        note_change(action=self.audit_action, target=f"sku={found.sku} location={location}", door="console",
                    fields={"quantity": quantity})
        moved = result.movements[0]["id"] if result.movements else ""
        return RedirectResponse(f"/console/store/{quote(location, safe='')}/{self.name}?sku={quote(found.sku)}"
                                f"&movement={moved}", status_code=303)
