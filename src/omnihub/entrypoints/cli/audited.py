"""The CLI's changes go into the audit trail, as the local admin, from "cli".

Every command is classified here, once: `CHANGES` (recorded when they succeed, with
their arguments, secrets as "changed") or `READS` (reads, and the long-running processes
whose own work is recorded where it happens: serve, worker, demo, the sandboxes,
benchmarks and the chaos day on scratch databases). tests/cli/test_cli_audit.py walks the app's command
tree: a new command that is in neither fails the suite.

How: `OneLineErrors.invoke` (errors.py) runs every command inside `auditing()`, which
opens a change in progress (services/audit_trail.py: the services add their before and
after to it); `which_hub.open_hub` tells it which command opened which hub
(`opened`); when a command of `CHANGES` returns, one event is committed to that hub.
The CLI opens the database itself, so whoever runs it is its admin by definition
(domain/access.py `local_admin`, named after the OS user).
"""

from __future__ import annotations

from collections.abc import Iterator
from contextlib import contextmanager
from contextvars import ContextVar
from dataclasses import dataclass, field
from pathlib import Path

import typer

from omnihub.services.audit_trail import (CLI_ADDRESS, Actor, AuditEvent, PendingChange, change_in_progress,
                                          without_secrets)

#: command path → action (`cli.` prefixed in the trail)
CHANGES: dict[str, str] = {
    "migrate": "hub.migrate",
    "sample": "catalog.load_sample",
    "import-snapshot": "stock.import_snapshot",
    "orders cancel": "orders.cancel",
    "orders retry-queue": "orders.retry_queue",
    "rules set": "routing.set_rules",
    "sync retry": "sync.retry_dead_letter",
    "sync fulfilments": "sync.send_fulfilments",
    "sync fulfilment-retry": "sync.retry_fulfilment",
    "sync reconcile": "sync.reconcile",
    "sync inbox-failures retry": "sync.retry_inbox_failure",
    "channels connect-shopify": "channels.connect_shopify",
    "channels connect-amazon": "channels.connect_amazon",
    "channels import-shopify": "channels.import_shopify",
    "customers redact": "customers.redact",
    "customers export": "customers.export",
    "users create-admin": "users.create_admin",
    "users add": "users.add",
    "users disable": "users.disable",
    "users enable": "users.enable",
    "users set-role": "users.set_role",
    "users set-password": "users.set_password",
    "tokens create": "tokens.create",
    "tokens revoke": "tokens.revoke",
}
READS: frozenset[str] = frozenset({
    "serve", "worker", "demo", "chaos", "atp", "audit",
    "bench orders", "bench ledger", "bench snapshot", "bench sync", "bench estate", "bench reconcile", "bench console",
    "orders list", "orders show", "rules show", "report daily",
    "sandbox up", "sandbox traffic",
    "sync status", "sync dead-letters", "sync fulfilment-failures", "sync reconciliations",
    "sync inbox-failures", "sync inbox-failures show",
    "customers requests", "users list", "tokens list",
})
_NOT_RECORDED_PARAMS = frozenset({"database_url", "debug"})
#: arguments that name a customer: the trail says how many were given, never which (as
#: privacy_requests does: the record outlives the erasure it documents)
_NAMES_A_CUSTOMER = frozenset({"email", "phone", "channel_customer", "order"})


@dataclass
class CliRun:
    change: PendingChange
    command: str | None = None
    params: dict = field(default_factory=dict)
    database_url: str | None = None


_run: ContextVar[CliRun | None] = ContextVar("omnihub_cli_run", default=None)


def command_path(ctx) -> str:
    """`omnihub rules set` (or the test runner's name for the root) → `rules set`."""
    return " ".join(ctx.command_path.split()[1:])


def opened(database_url: str) -> None:
    """A command opened this hub (which_hub.open_hub): the one its change goes to."""
    run = _run.get()
    if run is None:
        return
    ctx = _current_context()
    run.database_url = database_url
    if ctx is not None:
        run.command = command_path(ctx)
        run.params = {k: _plain(v) for k, v in ctx.params.items() if k not in _NOT_RECORDED_PARAMS}


def _current_context():
    """The context of the command running (typer carries its own click)."""
    try:
        from typer._click.globals import get_current_context
    except ImportError:  # a typer that uses click itself
        from click import get_current_context
    return get_current_context(silent=True)


def _plain(value):
    if isinstance(value, Path):
        return str(value)
    if isinstance(value, (list, tuple)):
        return [_plain(v) for v in value]
    return value if isinstance(value, (str, int, float, bool)) or value is None else str(value)


def without_customers(command: str, params: dict) -> dict:
    """A `customers ...` command's arguments with those naming the customer replaced by
    how many were given (`{"email": "withheld (1)"}`)."""
    if not command.startswith("customers "):
        return params
    return {k: (f"withheld ({len(v) if isinstance(v, list) else 1})" if k in _NAMES_A_CUSTOMER and v else v)
            for k, v in params.items()}


def local_admin_actor() -> Actor:
    from omnihub.entrypoints.cli.access_commands import cli_principal

    return Actor.of(cli_principal())


@contextmanager
def auditing() -> Iterator[CliRun]:
    """Around a whole CLI invocation: the change it makes is recorded if it succeeds."""
    outer = _run.get()
    if outer is not None:  # a command invoking another: the outer one records
        yield outer
        return
    with change_in_progress() as change:
        run = CliRun(change)
        token = _run.set(run)
        try:
            yield run
        except typer.Exit as done:
            if done.exit_code == 0:  # a command that ends itself successfully
                record(run)
            raise
        finally:
            _run.reset(token)
    record(run)


def record(run: CliRun) -> None:
    action = CHANGES.get(run.command or "")
    if action is None or run.database_url is None:
        return
    from omnihub.adapters.db.engine import make_engine
    from omnihub.services.audit_trail import AuditTrail

    change = run.change
    params = without_secrets(without_customers(run.command or "", run.params))
    target = change.target or " ".join(f"{k}={v}" for k, v in params.items()
                                       if v not in (None, False, [], ()) and not isinstance(v, list))[:500]
    engine = make_engine(run.database_url, pool_size=1)
    try:
        AuditTrail(engine).record_now(AuditEvent(
            actor=local_admin_actor(), address=CLI_ADDRESS, action=change.action or f"cli.{action}",
            target=target, before=change.before, after=change.after,
            details={"command": f"omnihub {run.command}", "arguments": params, **change.details}))
    finally:
        engine.dispose()
