"""A PostgreSQL server of the chaos day's own, so that its database can be restarted.

The machine's PostgreSQL (OMNIHUB_PG_URL, 127.0.0.1:5432) is shared with other people's
tests and CI: restarting it would fail their work, not test ours. So `--backend postgresql`
runs the hub on a cluster made for the day: `initdb` in a temporary folder, a free port on
loopback, trust authentication, fsync off (the day is thrown away at its end), stopped and
removed when the day ends. The database restart fault is `pg_ctl stop -m fast` (every
session is cut, as a restart cuts them), a pause while nothing answers, then `pg_ctl start`.

PostgreSQL refuses to run as root; as root the server is run as the `postgres` user
(the Debian package's) through `runuser`, and the folder is made over to it.
"""

from __future__ import annotations

import glob
import os
import pwd
import shutil
import socket
import subprocess
import tempfile
import time
from pathlib import Path

SERVER_USER = "postgres"


class PrivatePostgresUnavailable(RuntimeError):
    """No PostgreSQL server binaries here, or no user to run them as."""


def _free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def server_bindir() -> Path:
    """Where initdb and pg_ctl are: OMNIHUB_PG_BINDIR, else PATH, else Debian's
    /usr/lib/postgresql/<version>/bin (the newest)."""
    setting = os.environ.get("OMNIHUB_PG_BINDIR")
    if setting:
        return Path(setting)
    found = shutil.which("initdb")
    if found:
        return Path(found).parent
    versions = sorted(glob.glob("/usr/lib/postgresql/*/bin/initdb"),
                      key=lambda p: int(Path(p).parent.parent.name) if Path(p).parent.parent.name.isdigit() else 0)
    if versions:
        return Path(versions[-1]).parent
    raise PrivatePostgresUnavailable("PostgreSQL's server programs (initdb, pg_ctl) are not installed "
                                     "(Debian: apt-get install postgresql; or set OMNIHUB_PG_BINDIR)")


class PrivatePostgres:
    """One throw-away cluster on 127.0.0.1:`port`; `url` is its `postgres` database as root."""

    def __init__(self) -> None:
        self.bindir = server_bindir()
        # In the system's temp folder: the server's user must reach it (a test's tmp_path,
        # under a folder only root may enter, would not do)
        self.root = Path(tempfile.mkdtemp(prefix="omnihub-pg-"))
        self.data = self.root / "data"
        self.log = self.root / "server.log"
        self.port = _free_port()
        self.as_user: list[str] = []
        if os.geteuid() == 0:
            try:
                user = pwd.getpwnam(SERVER_USER)
            except KeyError as exc:
                raise PrivatePostgresUnavailable(f"running as root and there is no {SERVER_USER!r} user to run "
                                                 "PostgreSQL as") from exc
            os.chown(self.root, user.pw_uid, user.pw_gid)
            self.as_user = ["runuser", "-u", SERVER_USER, "--"]
        self.restarts = 0

    @property
    def url(self) -> str:
        return f"postgresql+psycopg://root@127.0.0.1:{self.port}/postgres"

    def _run(self, program: str, *args: str, timeout: float = 120) -> None:
        done = subprocess.run([*self.as_user, str(self.bindir / program), *args], capture_output=True, text=True,
                              timeout=timeout)
        if done.returncode != 0:
            raise RuntimeError(f"{program} {' '.join(args)} failed ({done.returncode}): "
                               f"{(done.stdout + done.stderr)[-1500:]}{self._log_tail()}")

    def _log_tail(self) -> str:
        try:
            return "\n" + self.log.read_text(errors="replace")[-1500:]
        except OSError:
            return ""

    def _options(self) -> str:
        # No Unix socket outside the folder; loopback only; fsync off (the day is thrown away)
        return (f"-p {self.port} -k {self.root} -c listen_addresses=127.0.0.1 -c fsync=off "
                "-c synchronous_commit=off -c full_page_writes=off -c max_connections=200")

    def start(self) -> "PrivatePostgres":
        self._run("initdb", "-D", str(self.data), "-A", "trust", "-U", "root", "-E", "UTF8", "--no-sync",
                  "--locale=C.UTF-8" if _has_locale("C.UTF-8") else "--no-locale")
        self._pg_ctl_start()
        return self

    def _pg_ctl_start(self) -> None:
        self._run("pg_ctl", "-D", str(self.data), "-l", str(self.log), "-o", self._options(), "-w", "-t", "60", "start")

    def restart(self, down_s: float) -> float:
        """Stop the server (fast: sessions cut, transactions rolled back), keep it down
        `down_s`, start it again; returns the seconds it did not answer."""
        t0 = time.monotonic()
        self.stop_server()
        time.sleep(max(0.0, down_s - (time.monotonic() - t0)))
        self._pg_ctl_start()
        self.restarts += 1
        return round(time.monotonic() - t0, 2)

    def stop_server(self) -> None:
        """The first half of a restart: stopped fast, the folder kept."""
        self._run("pg_ctl", "-D", str(self.data), "-m", "fast", "-w", "-t", "60", "stop")

    def start_server(self) -> None:
        self._pg_ctl_start()

    def stop(self) -> None:
        if (self.data / "postmaster.pid").exists():
            try:
                self._run("pg_ctl", "-D", str(self.data), "-m", "immediate", "-w", "-t", "30", "stop", timeout=60)
            except (RuntimeError, subprocess.TimeoutExpired):
                pass
        shutil.rmtree(self.root, ignore_errors=True)

    def __enter__(self) -> "PrivatePostgres":
        return self.start()

    def __exit__(self, *exc) -> None:
        self.stop()


def _has_locale(name: str) -> bool:
    try:
        out = subprocess.run(["locale", "-a"], capture_output=True, text=True, timeout=10).stdout
    except (OSError, subprocess.TimeoutExpired):
        return False
    return name.lower().replace("-", "") in {line.strip().lower().replace("-", "") for line in out.splitlines()}
