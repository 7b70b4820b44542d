"""Throw-away databases for benchmarks and tests: a SQLite file in a temp folder, or a
fresh PostgreSQL database created beside the configured one and dropped afterwards, so a
benchmark never touches a user's data."""

from __future__ import annotations

import contextlib
import os
import tempfile
import uuid
from collections.abc import Iterator
from pathlib import Path

import sqlalchemy as sa
from sqlalchemy.pool import NullPool

from omnihub.adapters.db.engine import normalise_url

DEFAULT_PG = "postgresql+psycopg://root@127.0.0.1:5432/test"


@contextlib.contextmanager
def scratch_database(backend: str, base_url: str | None = None) -> Iterator[str]:
    if backend == "sqlite":
        with tempfile.TemporaryDirectory(prefix="omnihub-") as d:
            yield f"sqlite:///{Path(d) / 'hub.db'}"
        return
    if backend != "postgresql":
        raise ValueError(f"unknown backend {backend!r}: sqlite or postgresql")
    base = sa.engine.make_url(normalise_url(base_url or os.environ.get("OMNIHUB_PG_URL", DEFAULT_PG)))
    name = f"omnihub_scratch_{uuid.uuid4().hex[:10]}"
    # No pool: a connection kept from the start would be a dead one at the end if the
    # server restarted in between (the chaos day restarts its own)
    admin = sa.create_engine(base, isolation_level="AUTOCOMMIT", poolclass=NullPool)
    with admin.connect() as c:
        c.exec_driver_sql(f'CREATE DATABASE "{name}"')
    try:
        yield base.set(database=name).render_as_string(hide_password=False)
    finally:
        with admin.connect() as c:
            c.exec_driver_sql(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')
        admin.dispose()


def peak_rss_mb() -> float:
    """Peak resident memory of this process and its finished children, in MiB."""
    import resource

    own = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss
    kids = resource.getrusage(resource.RUSAGE_CHILDREN).ru_maxrss
    return round(max(own, kids) / 1024, 1)


def rss_mb(pid: int) -> float:
    """Resident memory of another process now, in MiB (0 once it is gone): the figure a
    benchmark samples of the hub's processes while they run."""
    try:
        with open(f"/proc/{pid}/status") as f:
            for line in f:
                if line.startswith("VmRSS:"):
                    return int(line.split()[1]) / 1024
    except OSError:
        pass
    return 0.0
