"""`omnihub sandbox ...`: the simulators' own CLI (`omnihub-sandbox`) under the hub's name.

The simulators are a distribution of their own (omnihub-sandbox, from ./sandbox), so a
production install of omnihub has none of them. Installed beside the hub, their CLI is
here as a thin alias; without them `omnihub sandbox`, `omnihub demo` and the benches that
need a simulator say how to install it rather than fail on an import.
"""

from __future__ import annotations

import importlib.util

import typer

INSTALL_HINT = ("the channel simulators are not installed: from omnihub's repository, "
                "`pip install -e ./sandbox` (or `pip install -e . -e ./sandbox` for both)")


def sandbox_installed() -> bool:
    return importlib.util.find_spec("omnihub_sandbox") is not None


def is_missing_sandbox(exc: BaseException) -> bool:
    """Whether `exc` is the import of a simulator that is not installed."""
    name = getattr(exc, "name", None) or ""
    return isinstance(exc, ModuleNotFoundError) and (name == "omnihub_sandbox" or name.startswith("omnihub_sandbox."))


def register(app: typer.Typer) -> None:
    """`omnihub sandbox`: the simulators' CLI when it is installed, else the way to install it."""
    if sandbox_installed():
        from omnihub_sandbox.cli import app as sandbox_app

        app.add_typer(sandbox_app, name="sandbox")
        return

    @app.command("sandbox", context_settings={"allow_extra_args": True, "ignore_unknown_options": True},
                 add_help_option=False)
    def sandbox_missing(ctx: typer.Context) -> None:
        """Channel simulators (not installed: `pip install -e ./sandbox`)."""
        from omnihub.entrypoints.cli.errors import CliError

        raise CliError(INSTALL_HINT)
