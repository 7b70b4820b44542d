"""Which hub a CLI command talks to, and why.

A user types `omnihub atp MCT-M` from wherever their shell happens to be. The hub they
mean is, in this order: the one named by `--database-url`; the one their settings name
(`OMNIHUB_DATABASE_URL` or `omnihub.toml`); an `omnihub.db` in the working directory;
the state of the most recent `omnihub demo` (recorded in the user's state folder when
the demo starts). Read commands never create a database: a hub that is not there is
an error that says where it looked.
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
        url = self.settings.database_url
        if self.source == "demo":
            return f"using the demo's hub: {url}"
        if self.source == "settings":
            return f"using the hub in your settings: {url}"
        return f"using {url}"


def choose_hub(database_url: str | None) -> HubTarget:
    """The hub the user means (see the module's docstring), without opening it."""
    settings = get_settings()
    if database_url:
        return HubTarget(settings.model_copy(update={"database_url": database_url}), "--database-url")
    if "database_url" in settings.model_fields_set and settings.database_url != DEFAULT_DATABASE_URL:
        return HubTarget(settings, "settings")
    if sqlite_file_exists(settings.database_url):
        return HubTarget(settings, "working directory")
    demo = recorded_demo()
    if demo:
        return HubTarget(settings.model_copy(update={"database_url": demo["database_url"]}), "demo")
    return HubTarget(settings, "working directory")


def require_existing(target: HubTarget) -> None:
    """Refuse to read a SQLite hub whose file is not there (opening it would create it)."""
    url = target.settings.database_url
    if not sqlite_file_exists(url):
        raise NoHubHere(f"no hub at {url} (looked at --database-url, OMNIHUB_DATABASE_URL, omnihub.toml, "
                        f"./omnihub.db and the last `omnihub demo`): start one with `omnihub demo` or "
                        f"`omnihub serve --sample`, or pass --database-url")
