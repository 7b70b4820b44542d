"""`omnihub bench snapshot`: an ERP snapshot of N rows imported by `omnihub import-snapshot`.

A scratch hub gets SKUs × locations (a row per position), a CSV of N rows is written to a
temporary file, and the real CLI imports it in a child process, as a user runs it: the
figures are the import's wall time and the child's peak resident memory (the import's
own, not the bench's, which writes the file and seeds the catalog). Then the same file is
imported again, which must apply nothing (it was imported to its end).
"""

from __future__ import annotations

import os
import subprocess
import sys
import tempfile
import time
from pathlib import Path

import sqlalchemy as sa

from omnihub import CORE_BUILD
from omnihub.adapters.db import tables as t
from omnihub.adapters.db.engine import make_engine, migrate
from omnihub.benchmarks.ledger import seed_catalog
from omnihub.benchmarks.scratch_db import peak_rss_mb, scratch_database

_CLI = "from omnihub.entrypoints.cli.main import app; app()"


def write_snapshot(path: Path, rows: int, locations: int) -> int:
    """A snapshot of `rows` distinct positions (SKU-major); returns its size in bytes."""
    with path.open("w", encoding="utf-8", newline="") as f:
        f.write("sku,location,on_hand,damaged\n")
        block: list[str] = []
        for i in range(rows):
            sku, loc = divmod(i, locations)
            block.append(f"SKU{sku:06d},L{loc:03d},{(i * 7) % 50 + 1},{i % 3}\n")
            if len(block) >= 50_000:
                f.write("".join(block))
                block.clear()
        f.write("".join(block))
    return path.stat().st_size


def _run_import(path: Path, url: str) -> tuple[float, float, str]:
    """(seconds, the child's own peak RSS in MiB, its output)."""
    t0 = time.perf_counter()
    proc = subprocess.Popen([sys.executable, "-c", _CLI, "import-snapshot", str(path), "--database-url", url],
                            stdout=subprocess.PIPE, stderr=subprocess.STDOUT, text=True,
                            env={**os.environ, "COLUMNS": "200"})
    assert proc.stdout is not None
    out = proc.stdout.read()
    _, status, usage = os.wait4(proc.pid, 0)  # reaped here, for this child's own rusage
    seconds = time.perf_counter() - t0
    proc.returncode = os.waitstatus_to_exitcode(status)
    if proc.returncode != 0:
        raise RuntimeError(f"import-snapshot failed ({proc.returncode}): {out[-2000:]}")
    return seconds, round(usage.ru_maxrss / 1024, 1), out


def bench_snapshot(backend: str = "sqlite", *, rows: int = 1_000_000, locations: int = 50,
                   base_url: str | None = None) -> dict:
    skus = -(-rows // locations)
    with scratch_database(backend, base_url) as url, tempfile.TemporaryDirectory(prefix="omnihub-snapshot-") as d:
        migrate(url)
        seed_catalog(url, skus, locations, channels=2)
        path = Path(d) / "snapshot.csv"
        size = write_snapshot(path, rows, locations)
        seconds, rss, out = _run_import(path, url)
        again_s, _, again_out = _run_import(path, url)
        engine = make_engine(url)
        try:
            with engine.connect() as conn:
                movements = conn.execute(sa.select(sa.func.count()).select_from(t.movements)
                                         .where(t.movements.c.reason.in_(("erp_snapshot", "damage")))).scalar_one()
        finally:
            engine.dispose()
    return {
        "benchmark": "snapshot",
        "backend": backend,
        "rows": rows,
        "file_mb": round(size / 2**20, 1),
        "skus": skus,
        "locations": locations,
        "seconds": round(seconds, 2),
        "rows_per_s": round(rows / seconds),
        "peak_rss_mb": rss,
        "movements": movements,
        "summary": out.strip().splitlines()[-1] if out.strip() else "",
        "again_seconds": round(again_s, 2),
        "again_summary": again_out.strip().splitlines()[-1] if again_out.strip() else "",
        "bench_peak_rss_mb": peak_rss_mb(),
        "core_build": CORE_BUILD,
    }
