"""Which hub a CLI command talks to, and why.

A user types `omnihub atp MCT-M` from wherever their shell happens to be. The hub they
mean is, in this order: the one named by `--database-url`; the one their settings name
(`OMNIHUB_DATABASE_URL` or `omnihub.toml`); an `omnihub.db` in the working directory;
the state of the most recent `omnihub demo` (recorded in the user's state folder when
the demo starts). Read commands never create a database: a hub that is not there is
an error that says where it looked.

Every command that takes `--database-url` opens its hub with `open_hub`, which says on
stderr (one dim line) which hub it used whenever that is not ./omnihub.db, so a command
that answers from the demo's hub, or from the one in the settings, never passes for the
hub in the working directory.
"""

from __future__ import annotations

import json
import os
from dataclasses import dataclass
from pathlib import Path

from omnihub.settings import Settings, get_settings

DEFAULT_DATABASE_URL = "sqlite:///omnihub.db"


class NoHubHere(Exception):
    """The command would read a hub that does not exist (and must not create one)."""


class HubUnreachable(Exception):
    """The hub's database could not be opened (server down, wrong URL, not a database)."""


def state_home() -> Path:
    """The user's state folder for omnihub (XDG: ~/.local/state/omnihub)."""
    base = os.environ.get("XDG_STATE_HOME") or str(Path.home() / ".local" / "state")
    return Path(base) / "omnihub"


def demo_record_path() -> Path:
    return state_home() / "demo.json"


def record_demo(*, database_url: str, api_url: str, state_dir: Path) -> None:
    """Called by `omnihub demo` at start: later CLI commands find its hub from anywhere."""
    path = demo_record_path()
    path.parent.mkdir(parents=True, exist_ok=True)
    record = {"database_url": database_url, "api_url": api_url, "state_dir": str(state_dir.resolve()), "pid": os.getpid()}
    tmp = path.with_suffix(".tmp")
    tmp.write_text(json.dumps(record, indent=2) + "\n")
    tmp.replace(path)


def recorded_demo() -> dict | None:
    """The most recent demo's record, if its database still exists."""
    try:
        record = json.loads(demo_record_path().read_text())
    except (OSError, ValueError):
        return None
    url = record.get("database_url")
    if not isinstance(url, str) or not sqlite_file_exists(url):
        return None
    return record


def sqlite_path(url: str) -> Path | None:
    """The file of a SQLite URL (None for other databases and for in-memory SQLite)."""
    if not url.startswith("sqlite"):
        return None
    path = url.split("///", 1)[1] if "///" in url else ""
    path = path.split("?", 1)[0]
    return Path(path) if path and path != ":memory:" else None


def sqlite_file_exists(url: str) -> bool:
    path = sqlite_path(url)
    return path is None or path.exists()


@dataclass(frozen=True)
class HubTarget:
    settings: Settings
    source: str  # "--database-url", "settings", "working directory", "demo"

    @property
    def is_default(self) -> bool:
        return self.source == "working directory"

    def describe(self) -> str:
        url = shown_url(self.settings.database_url)
        if self.source == "demo":
            return f"using the demo's hub: {url}"
        if self.source == "settings":
            return f"using the hub in your settings: {url}"
        return f"using {url}"


def choose_hub(database_url: str | None, *, follow_demo: bool = True) -> HubTarget:
    """The hub the user means (see the module's docstring), without opening it.

    `follow_demo=False` for the commands that set a hub up where the user stands
    (migrate, sample, serve): with no ./omnihub.db they create it rather than take over
    the last demo's."""
    settings = get_settings()
    if database_url:
        return HubTarget(settings.model_copy(update={"database_url": database_url}), "--database-url")
    if "database_url" in settings.model_fields_set and settings.database_url != DEFAULT_DATABASE_URL:
        return HubTarget(settings, "settings")
    if sqlite_file_exists(settings.database_url):
        return HubTarget(settings, "working directory")
    demo = recorded_demo() if follow_demo else None
    if demo:
        return HubTarget(settings.model_copy(update={"database_url": demo["database_url"]}), "demo")
    return HubTarget(settings, "working directory")


def shown_url(url: str) -> str:
    """A database URL fit to print: the password hidden, a SQLite file as an absolute path."""
    path = sqlite_path(url)
    if path is not None:
        return f"sqlite:///{path.resolve()}"
    try:
        from sqlalchemy.engine import make_url

        return make_url(url).render_as_string(hide_password=True)
    except Exception:  # not a URL SQLAlchemy can parse: it says so when opened
        return url


def require_existing(target: HubTarget) -> None:
    """Refuse to read a SQLite hub whose file is not there (opening it would create it)."""
    url = target.settings.database_url
    if sqlite_file_exists(url):
        return
    path = sqlite_path(url)
    where = str(path.resolve()) if path is not None else shown_url(url)
    if target.source == "--database-url":
        raise NoHubHere(f"no hub at {where} (the --database-url given): check the path, or create one there "
                        f"with `omnihub migrate --database-url ...`")
    if target.source == "settings":
        raise NoHubHere(f"no hub at {where} (named by OMNIHUB_DATABASE_URL or omnihub.toml): check the path, or "
                        f"create one there with `omnihub migrate`")
    raise NoHubHere(f"no hub here: {where} does not exist, no `omnihub demo` hub is recorded in {demo_record_path()}, "
                    f"and neither --database-url, OMNIHUB_DATABASE_URL nor omnihub.toml names one; start one with "
                    f"`omnihub demo` or `omnihub serve --sample`, or pass --database-url")


def open_hub(database_url: str | None, *, must_exist: bool = True, relay: bool = False):
    """The Hub a command means, opened; says on stderr which one unless it is ./omnihub.db.

    `must_exist=False` only for the commands that set a hub up (migrate, sample, serve):
    every other command refuses to create a database by reading one that is not there."""
    from omnihub.entrypoints.cli.terminal import note
    from omnihub.hub import Hub

    target = choose_hub(database_url, follow_demo=must_exist)
    if must_exist:
        require_existing(target)
    if not target.is_default:
        note(target.describe())
    import sqlalchemy.exc as sa_exc

    from omnihub.entrypoints.cli.audited import opened

    try:
        hub = Hub.open(target.settings, relay=relay)
        opened(target.settings.database_url)  # the command's change, if it makes one, is recorded there
        return hub
    except (sa_exc.OperationalError, sa_exc.InterfaceError, sa_exc.DatabaseError) as exc:
        reason = next((ln.strip() for ln in str(exc.orig or exc).splitlines() if ln.strip()), type(exc).__name__)
        raise HubUnreachable(f"cannot open the hub at {shown_url(target.settings.database_url)}: {reason}") from exc
    except (sa_exc.ArgumentError, sa_exc.NoSuchModuleError) as exc:
        raise HubUnreachable(f"{target.settings.database_url!r} is not a database URL omnihub can open "
                             f"(sqlite:///path or postgresql+psycopg://user@host/db): {exc}") from exc
