"""What the CLI says when a command cannot do what was asked: one line, in one place.

An everyday mistake (a SKU typed wrong, a file that is not there, a spreadsheet saved in
the wrong encoding, a hub that is not where the command looked, a database that does not
answer) is not a bug, and a 37-line traceback buries the one sentence that matters. Every
command of the `omnihub` app runs inside `OneLineErrors.invoke`: an exception it knows
becomes `error: <sentence>` on stderr and exit code 1 (typer keeps 2 for usage errors);
one it does not know becomes the same single line with its type, and a hint. The global
`--debug` option (or OMNIHUB_DEBUG=1) lets every exception through with its traceback.

The mapping is here and only here: commands raise (or let through) the domain's and the
services' own exceptions, or `CliError` for a condition that is not an exception
elsewhere ("no dead letter 7"); they never print an error themselves.
"""

from __future__ import annotations

import json
import os
from typing import TYPE_CHECKING

import typer
from typer.core import TyperGroup

from omnihub.entrypoints.cli.terminal import error_line

if TYPE_CHECKING:  # the context TyperGroup.invoke takes: typer's own copy of click's
    from typer._click import Context as ClickContext


class CliError(Exception):
    """A condition a command refuses, in a sentence for the user (exit code 1)."""


def _first_line(text: object) -> str:
    lines = [ln.strip() for ln in str(text).splitlines() if ln.strip()]
    return lines[0] if lines else ""


def one_line(exc: BaseException) -> str | None:
    """The sentence for an expected error, or None for one nobody expected (a bug)."""
    from omnihub.domain.ledger import LedgerError
    from omnihub.domain.order_states import IllegalTransition
    from omnihub.domain.routing_rules import RuleValidationError
    from omnihub.entrypoints.cli.sandbox_alias import INSTALL_HINT, is_missing_sandbox
    from omnihub.entrypoints.cli.which_hub import HubUnreachable, NoHubHere
    from omnihub.entrypoints.csv_text import CsvEncodingError
    from omnihub.services.order_history import HistoryWindowError
    from omnihub.services.reconciliation import RunInProgress, UnknownChannel

    if isinstance(exc, (CliError, NoHubHere, HubUnreachable, CsvEncodingError, RunInProgress, HistoryWindowError,
                        IllegalTransition, RuleValidationError)):
        return str(exc)
    if is_missing_sandbox(exc):  # `omnihub demo`, a bench that needs a simulator
        return INSTALL_HINT
    if isinstance(exc, LedgerError):  # unknown SKU/location/channel/order, validation, conflicts
        return str(exc)
    if isinstance(exc, UnknownChannel):
        return f"{exc} is not connected: run `omnihub channels connect-shopify|connect-amazon` first"
    if isinstance(exc, json.JSONDecodeError):
        return f"not valid JSON: {exc.msg} at line {exc.lineno}, column {exc.colno} (offset {exc.pos})"
    if isinstance(exc, UnicodeError):
        return f"not readable as text: {exc}"
    if isinstance(exc, OSError) and exc.filename is not None:
        return f"{exc.filename}: {exc.strerror or exc}"
    return _from_libraries(exc)


def _from_libraries(exc: BaseException) -> str | None:
    """The database, the channels' clients and the settings."""
    import httpx
    import pydantic
    import sqlalchemy.exc as sa_exc

    from omnihub.adapters.channels.amazon.lwa import LwaError
    from omnihub.adapters.channels.amazon.sp_api_client import SpApiError
    from omnihub.adapters.channels.credentials import CredentialsUnavailable
    from omnihub.adapters.channels.shopify.admin_client import ShopifyError
    from omnihub.domain.channel_fulfilment import NoticeRefused

    if isinstance(exc, (sa_exc.OperationalError, sa_exc.InterfaceError)):
        return f"the database did not answer: {_first_line(exc.orig or exc)}"
    if isinstance(exc, (sa_exc.ArgumentError, sa_exc.NoSuchModuleError)):
        return f"not a database URL omnihub can open: {_first_line(exc)}"
    if isinstance(exc, CredentialsUnavailable):
        return str(exc)
    if isinstance(exc, (ShopifyError, SpApiError, LwaError, NoticeRefused)):
        return f"the channel refused: {_first_line(exc)}"
    if isinstance(exc, httpx.TransportError):
        try:
            where = f" {exc.request.url}"
        except RuntimeError:  # no request attached
            where = ""
        return f"cannot reach{where}: {_first_line(exc) or type(exc).__name__}"
    if isinstance(exc, httpx.HTTPStatusError):
        return _first_line(exc)
    if isinstance(exc, pydantic.ValidationError):  # the settings (OMNIHUB_*, omnihub.toml)
        problems = "; ".join(f"{'.'.join(str(p) for p in e['loc']) or exc.title}: {e['msg']}" for e in exc.errors())
        where = "settings (OMNIHUB_* variables or omnihub.toml)" if exc.title == "Settings" else exc.title
        return f"invalid {where}: {problems}"
    return None


def debug_wanted(ctx: ClickContext) -> bool:
    return bool(ctx.params.get("debug")) or os.environ.get("OMNIHUB_DEBUG", "") not in ("", "0")


class OneLineErrors(TyperGroup):
    """The `omnihub` app's root group: every command's exceptions pass through `invoke`."""

    def invoke(self, ctx: ClickContext):
        from omnihub.entrypoints.cli.audited import auditing  # a change that succeeds goes into the audit trail

        try:
            with auditing():
                return super().invoke(ctx)
        except (typer.Exit, typer.Abort, typer.TyperException, BrokenPipeError):
            raise  # exit codes, Ctrl-C, usage errors (2) and a closed pipe: typer's own handling
        except Exception as exc:
            if debug_wanted(ctx):
                raise
            message = one_line(exc)
            if message is None:
                message = (f"unexpected {type(exc).__name__}: {_first_line(exc) or 'no message'} "
                           f"(run again with --debug for the traceback)")
            error_line(message)
            raise typer.Exit(1) from None
