"""`omnihub users ...` and `omnihub tokens ...`: the people who sign in and the tokens
machines use. The CLI opens the database itself, so it acts as the local admin (whoever
can open the database owns the hub); a fresh hub has no anonymous mode, so the first
admin is made here (`users create-admin`) or by the first `omnihub demo`.

`tokens create` prints the new token alone on the last line of its output, so a script
can take it with `| tail -n 1`; it is never shown again (only its SHA-256 is kept).
"""

from __future__ import annotations

import sys
from collections.abc import Iterator
from contextlib import contextmanager
from typing import Annotated, Optional

import typer
from rich.table import Table

from omnihub.entrypoints.cli.terminal import console

users_app = typer.Typer(help="People who sign in: admins, operators, store associates, read-only.",
                        no_args_is_help=True)
tokens_app = typer.Typer(help="API tokens for machines (ERPs, scripts): shown once, kept as a hash.",
                         no_args_is_help=True)

DbOpt = Annotated[Optional[str], typer.Option("--database-url", help="overrides OMNIHUB_DATABASE_URL")]
LocationOpt = Annotated[list[str], typer.Option("--location", help="a location code it is bound to (repeat for more)")]
PasswordStdin = Annotated[bool, typer.Option("--password-stdin", help="read the password from stdin (first line) "
                                                                      "instead of prompting")]


def _password(from_stdin: bool) -> str:
    if from_stdin:
        return sys.stdin.readline().rstrip("\r\n")
    return typer.prompt("password (12 characters at least)", hide_input=True, confirmation_prompt=True)


@contextmanager
def _hub(database_url: str | None, must_exist: bool = True) -> Iterator:
    """The hub the command means, closed afterwards; a refusal of the users' or tokens'
    service (a duplicate e-mail, an unknown role) becomes the CLI's one-line error."""
    from omnihub.entrypoints.cli.errors import CliError
    from omnihub.entrypoints.cli.which_hub import open_hub
    from omnihub.services.api_tokens import TokenError
    from omnihub.services.users import UserError

    hub = open_hub(database_url, must_exist=must_exist)
    try:
        yield hub
    except (UserError, TokenError) as exc:
        raise CliError(str(exc)) from None
    finally:
        hub.close()


def create_admin(hub, email: str, password: str, name: str = "") -> int:
    return hub.users.add(email, password, name=name, role="admin")


@users_app.command("create-admin")
def users_create_admin(
    email: Annotated[Optional[str], typer.Option("--email", help="the admin's e-mail (prompted if left out)")] = None,
    name: Annotated[str, typer.Option(help="how the admin is shown")] = "",
    password_stdin: PasswordStdin = False,
    database_url: DbOpt = None,
) -> None:
    """Make an admin (the first one on a fresh hub)."""
    email = email or typer.prompt("e-mail")
    password = _password(password_stdin)
    with _hub(database_url, must_exist=False) as hub:
        create_admin(hub, email, password, name)
    console().print(f"admin {email.strip().lower()} created; sign in with that e-mail and password")


@users_app.command("add")
def users_add(
    email: str,
    role: Annotated[str, typer.Option(help="admin, operator, store_associate or read_only")] = "read_only",
    location: LocationOpt = [],  # noqa: B006 - typer reads the default
    name: Annotated[str, typer.Option(help="how the user is shown")] = "",
    password_stdin: PasswordStdin = False,
    database_url: DbOpt = None,
) -> None:
    """Add a person (a store associate needs --location)."""
    password = _password(password_stdin)
    with _hub(database_url, must_exist=False) as hub:
        hub.users.add(email, password, name=name, role=role, locations=location)
    console().print(f"{role} {email.strip().lower()} added" + (f" at {', '.join(location)}" if location else ""))


@users_app.command("list")
def users_list(database_url: DbOpt = None) -> None:
    """The people who sign in, their roles and locations."""
    with _hub(database_url) as hub:
        rows = hub.users.list()
    table = Table("id", "e-mail", "name", "role", "locations", "state")
    for r in rows:
        table.add_row(str(r["id"]), r["email"], r["name"], r["role"], ", ".join(r["locations"]),
                      "disabled" if r["disabled"] else "active")
    console().print(table)


def _set_disabled(email: str, disabled: bool, database_url: str | None) -> None:
    with _hub(database_url) as hub:
        hub.users.disable(email, disabled)
    console().print(f"{email.strip().lower()} {'disabled' if disabled else 'enabled'}")


@users_app.command("disable")
def users_disable(email: str, database_url: DbOpt = None) -> None:
    """Stop a person signing in (their row stays: the ledger and the audit name them)."""
    _set_disabled(email, True, database_url)


@users_app.command("enable")
def users_enable(email: str, database_url: DbOpt = None) -> None:
    """Let a disabled person sign in again."""
    _set_disabled(email, False, database_url)


@users_app.command("set-role")
def users_set_role(email: str, role: str, location: LocationOpt = [], database_url: DbOpt = None) -> None:  # noqa: B006
    """Give a person another role (and, for a store associate, its locations)."""
    with _hub(database_url) as hub:
        hub.users.set_role(email, role, location)
    console().print(f"{email.strip().lower()} is now {role}" + (f" at {', '.join(location)}" if location else ""))


@users_app.command("set-password")
def users_set_password(email: str, password_stdin: PasswordStdin = False, database_url: DbOpt = None) -> None:
    """Set a person's password (someone who forgot theirs)."""
    password = _password(password_stdin)
    with _hub(database_url) as hub:
        hub.users.set_password(email, password)
    console().print(f"password of {email.strip().lower()} set")


@tokens_app.command("create")
def tokens_create(
    name: Annotated[str, typer.Option("--name", help="what uses it (erp-sync, pos-store-12)")],
    role: Annotated[str, typer.Option("--role", help="admin, operator, store_associate, read_only or integration")],
    scope: Annotated[list[str], typer.Option("--scope", help="a permission it holds, optionally for one channel "
                                                             "(orders.ingest:erp); integration tokens need one")] = [],  # noqa: B006
    location: LocationOpt = [],  # noqa: B006
    expires: Annotated[Optional[float], typer.Option("--expires", min=0.001, help="days until it expires "
                                                                                  "(default: never)")] = None,
    database_url: DbOpt = None,
) -> None:
    """Make an API token; the token is the last line of the output, shown only this once."""
    with _hub(database_url, must_exist=False) as hub:
        issued = hub.tokens.create(name, role, scopes=scope, locations=location, expires_days=expires,
                                   created_by=cli_principal().actor)
    out = console()
    out.print(f"token {issued.id} {issued.name!r} ({issued.role.value}"
              + (f", expires {issued.expires_at:%Y-%m-%d %H:%M} UTC" if issued.expires_at else "")
              + "): keep it now, it is not shown again")
    typer.echo(issued.token)  # alone on the last line, plain (no markup, no wrapping)


def cli_principal():
    """The CLI's principal: the local admin, named after the OS user."""
    import getpass

    from omnihub.domain.access import local_admin

    try:
        return local_admin(getpass.getuser())
    except Exception:  # noqa: BLE001 - no user name in this environment
        return local_admin("cli")


@tokens_app.command("list")
def tokens_list(database_url: DbOpt = None) -> None:
    """The tokens (their first characters, never the tokens), their state and last use."""
    with _hub(database_url) as hub:
        rows = hub.tokens.list()
    table = Table("id", "name", "starts with", "role", "scopes", "locations", "state", "expires", "last used")
    for r in rows:
        table.add_row(str(r["id"]), r["name"], r["hint"] + "…", r["role"], ", ".join(r["scopes"]),
                      ", ".join(r["locations"]), r["state"],
                      f"{r['expires_at']:%Y-%m-%d}" if r["expires_at"] else "never",
                      f"{r['last_used_at']:%Y-%m-%d %H:%M}" if r["last_used_at"] else "never")
    console().print(table)


@tokens_app.command("revoke")
def tokens_revoke(token_id: int, database_url: DbOpt = None) -> None:
    """Revoke a token: refused by a running hub within 5 seconds (at once by the process that revokes it)."""
    from omnihub.services.api_tokens import TOKEN_CACHE_TTL

    with _hub(database_url) as hub:
        done = hub.tokens.revoke(token_id)
    console().print(f"token {token_id} {'revoked' if done else 'was revoked already'}; a running hub refuses it "
                    f"within {TOKEN_CACHE_TTL:g} s")


def register(app: typer.Typer) -> None:
    app.add_typer(users_app, name="users")
    app.add_typer(tokens_app, name="tokens")
