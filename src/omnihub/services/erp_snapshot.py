"""The ERP's morning snapshot: a CSV of absolute on-hand per SKU and location.

Each good row becomes a count with reason `erp_snapshot` (variance movements against the
balance at the moment it is applied). A bad row is reported with its line and column and
kept in the report; it never stops the good rows.

Positions are the file's, as an editor shows them: `line` is the 1-based line of the file
where the row starts (the header is line 1, blank lines count), `column` the 1-based
column (CSV field) at fault. The report lists errors in that order, whatever step found
them (parsing, or the ledger refusing a row later).

Files of millions of rows (an ERP's whole estate: 11 M rows, 200 MB) are streamed: the
text comes line by line (the caller decodes as it reads, see entrypoints/csv_text.py),
the stdlib csv module parses it, and rows are applied in chunks (`CHUNK_ROWS`) through
the stock writer's bulk path (StockStore.apply_batch), one chunk in the writer while the
next is parsed. Memory stays flat: what is kept per row is 12 bytes of duplicate check.

A file imported from disk is recorded (`snapshot_imports`: name, size, SHA-256, the
chunks committed and the last line they hold), and each chunk's record
(`snapshot_import_chunks`, keyed by import and chunk number) is written in the same
transaction as that chunk's movements. A run killed part-way therefore leaves exactly its
committed chunks; the same file imported again resumes after them ("resumed at line N"),
and a file imported to the end is not applied again (a snapshot is absolute: replaying an
old one would undo every sale since). Chunks are numbered by row count with the chunk
size the import started with, so a resumed run cuts the file where the first one did.

A position named twice in one file is an error on the later line (naming both): the
first is applied, the later never silently overrides it.
"""

from __future__ import annotations

import csv
import io
from array import array
from collections.abc import Callable, Iterable, Sequence
from dataclasses import dataclass, field
from datetime import UTC, datetime

import sqlalchemy as sa

from omnihub.adapters.db import tables as t
from omnihub.adapters.db.batch_jobs import StagedTransaction
from omnihub.adapters.db.group_commit import StockWriter
from omnihub.domain.ledger import LedgerError, Reason
from omnihub.domain.limits import CODE_LENGTH, MAX_QUANTITY, SKU_LENGTH
from omnihub.services.inventory import Context, count_command

REQUIRED = ("sku", "location", "on_hand")
OPTIONAL = ("damaged",)
#: rows applied per transaction (and per chunk record): the API's orders wait for the
#: write lock behind a chunk (10,000 rows at 50 locations held it 0.35-0.75 s on SQLite);
#: each chunk also costs a fixed ~70 ms, so 2,000 made the import 2.5x slower
CHUNK_ROWS = 5_000
#: the most units a snapshot may state for one position (the bound of a counted shelf):
#: a larger figure is a typo or a corrupt export
MAX_UNITS = MAX_QUANTITY
#: errors a report holds (and a chunk records); beyond, they are counted
MAX_ERRORS = 10_000


@dataclass(frozen=True, slots=True)
class RowError:
    line: int
    column: int
    field: str
    message: str

    def as_dict(self) -> dict:
        return {"line": self.line, "column": self.column, "field": self.field, "message": self.message}


@dataclass(slots=True)
class SnapshotReport:
    rows: int = 0
    applied: int = 0
    unchanged: int = 0
    movements: int = 0
    errors: list[RowError] = field(default_factory=list)
    failed: int = 0  # rows that failed (errors beyond MAX_ERRORS are counted, not kept)
    import_id: int | None = None
    #: the first line this run applied, when an earlier run of the same file had applied
    #: the lines before it
    resumed_at: int | None = None
    already_imported: bool = False  # the same file was imported to its end before: nothing applied
    #: every line up to this one is applied (or failed, as reported)
    last_line: int = 1
    #: why the import stopped before the end of the file (a chunk the database refused)
    stopped: str | None = None

    def as_dict(self) -> dict:
        return {
            "rows": self.rows, "applied": self.applied, "unchanged": self.unchanged,
            "movements": self.movements, "failed": self.failed,
            "errors": [e.as_dict() for e in self.errors],
            "import_id": self.import_id, "resumed_at": self.resumed_at,
            "already_imported": self.already_imported, "last_line": self.last_line, "stopped": self.stopped,
        }

    def _fail(self, error: RowError) -> None:
        self.failed += 1
        if len(self.errors) < MAX_ERRORS:
            self.errors.append(error)


@dataclass(frozen=True, slots=True)
class SnapshotFile:
    """What identifies a file across runs: its name (for people) and size and SHA-256."""

    name: str
    size: int
    sha256: str


class _SeenPositions:
    """(SKU, location) → the line that first named it, for every row of the file, in flat
    memory: an open-addressing table of 64-bit hashes and 32-bit lines (12 bytes a slot,
    ~17 a row at most 70 % full: 85 MB for 5 M rows), where a set of tuples cost ~200
    bytes a row. Two positions whose 64-bit hashes collide (odds ~n²/2⁶⁵, 4·10⁻⁶ at
    11 M rows) would be reported as a duplicate: a false alarm, never a silent apply."""

    __slots__ = ("_hashes", "_lines", "_mask", "_count")

    def __init__(self, capacity: int = 1 << 16) -> None:
        self._hashes = array("Q", [0]) * capacity
        self._lines = array("I", [0]) * capacity
        self._mask = capacity - 1
        self._count = 0

    def first_line(self, key: tuple[str, str], line: int) -> int:
        """The line that named `key` before, or 0 (and `line` is remembered)."""
        h = (hash(key) & 0xFFFF_FFFF_FFFF_FFFF) or 1
        hashes, mask = self._hashes, self._mask
        i = h & mask
        while True:
            k = hashes[i]
            if k == 0:
                hashes[i] = h
                self._lines[i] = min(line, 0xFFFF_FFFF)
                self._count += 1
                if self._count * 10 > mask * 7:
                    self._grow()
                return 0
            if k == h:
                return self._lines[i]
            i = (i + 1) & mask

    def _grow(self) -> None:
        old_h, old_l = self._hashes, self._lines
        size = (self._mask + 1) * 2
        self._hashes, self._lines, self._mask = array("Q", [0]) * size, array("I", [0]) * size, size - 1
        hashes, lines, mask = self._hashes, self._lines, self._mask
        for h, ln in zip(old_h, old_l):
            if h:
                i = h & mask
                while hashes[i]:
                    i = (i + 1) & mask
                hashes[i] = h
                lines[i] = ln


def _capacity_for(rows: int) -> int:
    """The smallest power of two that holds `rows` under 70 % full (at least 2^16)."""
    capacity = 1 << 16
    while (capacity - 1) * 7 <= rows * 10:
        capacity <<= 1
    return capacity


# -- the writer's side: one chunk, its movements and its record in one transaction -----------

class _ChunkOutOfOrder(Exception):
    """Another run of the same import committed this chunk, or one after it, meanwhile."""


@dataclass(slots=True)
class _ChunkOutcome:
    applied: int = 0
    unchanged: int = 0
    movements: int = 0
    errors: list[RowError] = field(default_factory=list)
    already: bool = False  # committed by an earlier run: nothing applied now


def _now() -> datetime:
    return datetime.now(UTC)


class _ChunkKind:
    """How the writer decides a batch of chunks (batch_jobs.JobKind)."""

    __slots__ = ()

    def decide(self, tx: StagedTransaction, jobs: Sequence["_Chunk"]) -> list:
        return _apply_chunks(tx, jobs)


def _apply_chunks(tx: StagedTransaction, jobs: Sequence["_Chunk"]) -> list:
    """A writer's batch of chunks: every chunk's commands go through the ledger together,
    then each chunk's record and its import's progress are written in the same
    transaction. A chunk
    already recorded is skipped: (import, chunk) is its idempotency key, and the
    progress update is a compare-and-set on the chunk count, so two runs of one import
    can never both apply a chunk."""
    conn = tx.conn
    out: list = [None] * len(jobs)
    live: list[int] = []
    c = t.snapshot_import_chunks.c
    for i, job in enumerate(jobs):
        if job.import_id is not None and conn.execute(
                sa.select(c.chunk).where(c.import_id == job.import_id, c.chunk == job.number)).first() is not None:
            out[i] = _ChunkOutcome(already=True)
        else:
            live.append(i)
    commands = [cmd for i in live for cmd in jobs[i].commands]
    results = tx.apply_commands(commands) if commands else []
    at = 0
    now = _now()
    for i in live:
        job = jobs[i]
        outcome = job.outcome(results[at:at + len(job.commands)])
        at += len(job.commands)
        out[i] = outcome
        if job.import_id is None:
            continue
        errors = sorted(outcome.errors, key=lambda e: (e.line, e.column))
        failed = len(errors)
        conn.execute(t.snapshot_import_chunks.insert().values(
            import_id=job.import_id, chunk=job.number, first_line=job.first_line, last_line=job.last_line,
            rows=job.rows, applied=outcome.applied, movements=outcome.movements,
            errors=[e.as_dict() for e in errors[:MAX_ERRORS]], committed_at=now))
        imp = t.snapshot_imports
        done = conn.execute(imp.update().where(imp.c.id == job.import_id, imp.c.chunks == job.number).values(
            chunks=job.number + 1, last_line=job.last_line, rows=imp.c.rows + job.rows,
            applied=imp.c.applied + outcome.applied, unchanged=imp.c.unchanged + outcome.unchanged,
            failed=imp.c.failed + failed, movements=imp.c.movements + outcome.movements, updated_at=now))
        if done.rowcount != 1:
            raise _ChunkOutOfOrder(f"import {job.import_id} is past chunk {job.number}")
    return out


@dataclass(slots=True)
class _Chunk:
    """One chunk of rows: the writer job that applies it (see _apply_chunks)."""

    import_id: int | None
    number: int
    first_line: int
    last_line: int = 0
    rows: int = 0
    commands: list = field(default_factory=list)
    #: (line, column index map) per command, to place the ledger's refusals
    places: list = field(default_factory=list)
    errors: list[RowError] = field(default_factory=list)  # found while parsing

    batch_kind = _ChunkKind()  # the writer runs a batch of chunks in one transaction

    def outcome(self, results: Sequence) -> _ChunkOutcome:
        out = _ChunkOutcome(errors=list(self.errors))
        for (line, col), res in zip(self.places, results):
            if isinstance(res, LedgerError):
                column = col.get(res.field or "", col["sku"]) + 1
                out.errors.append(RowError(line, column, res.field or "row", str(res)))
            elif isinstance(res, Exception):
                out.errors.append(RowError(line, 1, "row", f"not applied: {res}"))
            elif res._rows:  # the rows the batch inserted (res.movements would build a dict each)
                out.applied += 1
                out.movements += len(res._rows)
            else:
                out.unchanged += 1
        return out


# -- parsing ----------------------------------------------------------------------------------

def _units(raw: str, name: str) -> int | str:
    """A count of units, or why it is not one."""
    s = raw.strip()
    if s.isascii() and s.isdigit():
        if len(s) > 12 or int(s) > MAX_UNITS:
            return f"{s[:40]}{'…' if len(s) > 40 else ''} is more than the {MAX_UNITS:,} units a snapshot may state for one position"
        return int(s)
    if s.startswith("-") and s[1:].isascii() and s[1:].isdigit():
        return f"{s[:40]} is negative: {name} is a count of units, 0 or more"
    return f"{raw[:60]!r} is not a whole number ≥ 0"


def _text_error(name: str, value: str, limit: int, line: int, end_line: int) -> str | None:
    if not value:
        return f"{name} is empty"
    if "\n" in value or "\r" in value:
        return (f"{name} {value[:40]!r} holds a line break: a quoted field runs from line {line} to line {end_line} "
                f"(a closing quote missing?)")
    if len(value) > limit:
        return f"{name} is longer than {limit} characters"
    return None


def import_snapshot(writer: StockWriter, text: str, *, source: str = "erp", actor: str | None = None,
                    chunk_rows: int = CHUNK_ROWS) -> SnapshotReport:
    """A snapshot held as text (an API upload): applied in chunks, not recorded."""
    return import_snapshot_lines(writer, io.StringIO(text), source=source, actor=actor, chunk_rows=chunk_rows)


def import_snapshot_lines(writer: StockWriter, lines: Iterable[str], *, file: SnapshotFile | None = None,
                          source: str = "erp", actor: str | None = None, chunk_rows: int = CHUNK_ROWS,
                          again: bool = False, progress: Callable[[], None] | None = None,
                          rows_hint: int = 0) -> SnapshotReport:
    """Apply a snapshot given line by line (each line ending in "\\n", as a text file
    opened with newline="\\n" gives them). With `file`, the import is recorded and
    resumable (see the module's docstring); `again` imports a file anew that was imported
    to its end before. `progress` is called after each chunk is committed. `rows_hint`,
    a bound on the rows (the file's line breaks), sizes the duplicate check once rather
    than let it grow (a growth holds the old table and the new one at once)."""
    report = SnapshotReport()
    reader = csv.reader(lines)
    try:
        header = [h.strip().lower() for h in next(reader)]
    except StopIteration:
        report._fail(RowError(1, 1, "header", "the file is empty; expected a header sku,location,on_hand"))
        return report
    except csv.Error as exc:
        report._fail(RowError(1, 1, "header", f"not readable as CSV: {exc}"))
        return report
    missing = [c for c in REQUIRED if c not in header]
    if missing:
        report._fail(RowError(1, 1, "header", f"missing column(s) {', '.join(missing)}; found {', '.join(header)}"))
        return report
    col = {name: header.index(name) for name in (*REQUIRED, *OPTIONAL) if name in header}
    skip_chunks = 0
    if file is not None:
        found = recorded_import(writer.engine, file)
        if found is not None and found["state"] == "done" and not again:
            report.import_id, report.already_imported = found["id"], True
            _totals_from(report, found)
            return report
        if found is not None and found["state"] == "running":
            report.import_id, skip_chunks, chunk_rows = found["id"], found["chunks"], found["chunk_rows"]
            if skip_chunks:
                report.resumed_at = found["last_line"] + 1
                _totals_from(report, found)
                report.errors.extend(_recorded_errors(writer.engine, found["id"]))
        else:
            report.import_id = _start_import(writer.engine, file, chunk_rows, actor)
    seen = _SeenPositions(_capacity_for(rows_hint))
    n_cols = len(header)
    sku_i, loc_i, on_hand_i = col["sku"], col["location"], col["on_hand"]
    damaged_i = col.get("damaged")
    chunk = _Chunk(report.import_id, 0, 2)
    in_flight: tuple[_Chunk, object] | None = None
    row_index = unreadable = 0
    lines_read = reader.line_num
    stopped = False

    def settle() -> bool:
        """Wait for the chunk in the writer; False if it was refused as a whole."""
        nonlocal in_flight
        if in_flight is None:
            return True
        job, ticket = in_flight
        in_flight = None
        res = ticket.result(600)  # type: ignore[attr-defined]
        if isinstance(res, Exception):
            report.stopped = (f"lines {job.first_line}–{job.last_line} (chunk {job.number + 1}) were not applied: {res}; "
                              f"every line before {job.first_line} is")
            return False
        if not res.already:
            report.applied += res.applied
            report.unchanged += res.unchanged
            report.movements += res.movements
            for e in sorted(res.errors, key=lambda e: (e.line, e.column)):
                report._fail(e)
        report.last_line = job.last_line
        if progress is not None:
            progress()
        return True

    def send(job: _Chunk) -> bool:
        nonlocal in_flight
        if not settle():
            return False
        if job.number < skip_chunks:  # committed by the run that was stopped
            report.last_line = job.last_line
            if progress is not None:
                progress()
            return True
        in_flight = (job, writer.submit(job))  # type: ignore[arg-type]
        return True

    while True:
        line = lines_read + 1  # where this row starts (a quoted field may span lines)
        try:
            values = next(reader)
        except StopIteration:
            break
        except csv.Error as exc:  # e.g. a field past the csv module's limit: nothing after it can be trusted
            chunk.rows += 1
            unreadable = 1
            chunk.errors.append(RowError(line, 1, "row", f"not readable as CSV from here on (nothing after it "
                                                         f"was read): {exc}"))
            chunk.last_line = reader.line_num
            break  # the row says so; the import ends there (as the file does, for the csv module)
        lines_read = reader.line_num
        if not any(v.strip() for v in values):
            continue
        if row_index and row_index % chunk_rows == 0:
            if not send(chunk):
                stopped = True
                chunk = _Chunk(None, -1, line)  # not sent
                break
            chunk = _Chunk(report.import_id, row_index // chunk_rows, line)
        row_index += 1
        chunk.rows += 1
        chunk.last_line = lines_read
        skipping = chunk.number < skip_chunks
        if len(values) != n_cols:
            spans = "" if lines_read == line else (f" (a quoted field runs from line {line} to line {lines_read}: "
                                                   f"a closing quote missing?)")
            chunk.errors.append(RowError(line, min(len(values), n_cols) + 1, "row",
                                         f"expected {n_cols} columns, found {len(values)}{spans}"))
            continue
        on_hand = _units(values[on_hand_i], "on_hand")
        if type(on_hand) is str:
            chunk.errors.append(RowError(line, on_hand_i + 1, "on_hand", on_hand))
            continue
        damaged = None
        if damaged_i is not None and values[damaged_i].strip():
            damaged = _units(values[damaged_i], "damaged")
            if type(damaged) is str:
                chunk.errors.append(RowError(line, damaged_i + 1, "damaged", damaged))
                continue
        sku, loc = values[sku_i].strip(), values[loc_i].strip()
        bad = _text_error("sku", sku, SKU_LENGTH, line, lines_read)
        at = sku_i
        if bad is None:
            bad, at = _text_error("location", loc, CODE_LENGTH, line, lines_read), loc_i
        if bad is not None:
            chunk.errors.append(RowError(line, at + 1, "sku" if at == sku_i else "location", bad))
            continue
        first = seen.first_line((sku, loc), line)
        if first:
            chunk.errors.append(RowError(line, sku_i + 1, "row",
                                         f"{sku} at {loc} is also on line {first}: a position appears once in a "
                                         f"snapshot, so only line {first} is used (lines {first} and {line})"))
            continue
        if skipping:
            continue
        ctx = Context(actor=actor, channel=source, reference=f"erp-snapshot line {line}")
        try:
            cmd = count_command(sku, loc, on_hand, damaged=damaged, reason=Reason.ERP_SNAPSHOT, ctx=ctx)  # type: ignore[arg-type]
        except LedgerError as exc:  # refused at the door: this row alone
            chunk.errors.append(RowError(line, col.get(exc.field or "", sku_i) + 1, exc.field or "row", str(exc)))
            continue
        chunk.commands.append(cmd)
        chunk.places.append((line, col))
    if chunk.number >= 0 and (chunk.rows or chunk.errors):
        if not send(chunk):
            stopped = True
    if not settle():
        stopped = True
    report.rows = row_index + unreadable
    if not stopped and report.import_id is not None:
        _finish_import(writer.engine, report.import_id)
    report.errors.sort(key=lambda e: (e.line, e.column))
    return report


# -- the import's record ------------------------------------------------------------------------

def recorded_import(engine, file: SnapshotFile) -> dict | None:
    """The newest import of this file (same size and SHA-256), as recorded."""
    imp = t.snapshot_imports
    with engine.connect() as conn:
        row = conn.execute(sa.select(imp).where(imp.c.sha256 == file.sha256, imp.c.size == file.size)
                           .order_by(imp.c.id.desc()).limit(1)).mappings().first()
    return dict(row) if row is not None else None


def _start_import(engine, file: SnapshotFile, chunk_rows: int, actor: str | None) -> int:
    now = _now()
    with engine.begin() as conn:
        return int(conn.execute(t.snapshot_imports.insert().values(
            file_name=file.name[-500:], size=file.size, sha256=file.sha256, state="running", chunk_rows=chunk_rows,
            chunks=0, last_line=1, actor=actor, started_at=now, updated_at=now,
        ).returning(t.snapshot_imports.c.id)).scalar_one())


def _finish_import(engine, import_id: int) -> None:
    imp = t.snapshot_imports
    now = _now()
    with engine.begin() as conn:
        conn.execute(imp.update().where(imp.c.id == import_id).values(state="done", finished_at=now, updated_at=now))


def _totals_from(report: SnapshotReport, found: dict) -> None:
    """What the earlier run(s) of this import applied, from its record."""
    report.applied, report.unchanged = found["applied"], found["unchanged"]
    report.movements, report.failed = found["movements"], found["failed"]
    report.last_line = found["last_line"]
    report.rows = found["rows"]


def _recorded_errors(engine, import_id: int) -> list[RowError]:
    c = t.snapshot_import_chunks.c
    out: list[RowError] = []
    with engine.connect() as conn:
        for (errors,) in conn.execute(sa.select(c.errors).where(c.import_id == import_id).order_by(c.chunk)):
            for e in errors:
                if len(out) < MAX_ERRORS:
                    out.append(RowError(e["line"], e["column"], e["field"], e["message"]))
    return out
