"""The ERP's morning snapshot: a CSV of absolute on-hand per SKU and location.

Each good row becomes a count with reason `erp_snapshot` (variance movements against the
balance at the moment it is applied). A bad row is reported with its line and column and
kept in the report; it never stops the good rows.

Positions are the file's, as an editor shows them: `line` is the 1-based line of the file
where the row starts (the header is line 1, blank lines count), `column` the 1-based
column (CSV field) at fault. The report lists errors in that order, whatever step found
them (parsing, or the ledger refusing a row later).
"""

from __future__ import annotations

import csv
import io
from dataclasses import dataclass, field

from omnihub.adapters.db.group_commit import StockWriter
from omnihub.domain.ledger import LedgerError, Reason
from omnihub.services.inventory import Context, count_command

REQUIRED = ("sku", "location", "on_hand")
OPTIONAL = ("damaged",)


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

    def as_dict(self) -> dict:
        return {
            "rows": self.rows, "applied": self.applied, "unchanged": self.unchanged,
            "movements": self.movements,
            "errors": [e.as_dict() for e in self.errors],
        }


def import_snapshot(writer: StockWriter, text: str, *, source: str = "erp", actor: str | None = None) -> SnapshotReport:
    report = SnapshotReport()
    reader = csv.reader(io.StringIO(text))
    try:
        header = [h.strip().lower() for h in next(reader)]
    except StopIteration:
        report.errors.append(RowError(1, 1, "header", "the file is empty; expected a header sku,location,on_hand"))
        return report
    except csv.Error as exc:
        report.errors.append(RowError(1, 1, "header", f"not readable as CSV: {exc}"))
        return report
    missing = [c for c in REQUIRED if c not in header]
    if missing:
        report.errors.append(RowError(1, 1, "header", f"missing column(s) {', '.join(missing)}; found {', '.join(header)}"))
        return report
    col = {name: header.index(name) for name in (*REQUIRED, *OPTIONAL) if name in header}
    pending = []
    lines_read = reader.line_num
    while True:
        line = lines_read + 1  # where this row starts (a quoted field may span lines)
        try:
            values = next(reader)
        except StopIteration:
            break
        except csv.Error as exc:  # e.g. a quote never closed: nothing after it can be trusted
            report.errors.append(RowError(line, 1, "row", f"not readable as CSV: {exc}"))
            break
        lines_read = reader.line_num
        if not any(v.strip() for v in values):
            continue
        report.rows += 1
        if len(values) != len(header):
            report.errors.append(RowError(line, min(len(values), len(header)) + 1, "row", f"expected {len(header)} columns, found {len(values)}"))
            continue
        sku = values[col["sku"]].strip()
        loc = values[col["location"]].strip()
        parsed: dict[str, int] = {}
        bad = False
        for name in ("on_hand", "damaged"):
            if name not in col:
                continue
            raw = values[col[name]].strip()
            if name == "damaged" and raw == "":
                continue
            try:
                n = int(raw)
                if n < 0:
                    raise ValueError
                parsed[name] = n
            except ValueError:
                report.errors.append(RowError(line, col[name] + 1, name, f"{raw!r} is not a whole number ≥ 0"))
                bad = True
                break
        for name, v in (("sku", sku), ("location", loc)):
            if not bad and not v:
                report.errors.append(RowError(line, col[name] + 1, name, f"{name} is empty"))
                bad = True
        if bad:
            continue
        ctx = Context(actor=actor, channel=source, reference=f"erp-snapshot line {line}")
        cmd = count_command(sku, loc, parsed["on_hand"], damaged=parsed.get("damaged"), reason=Reason.ERP_SNAPSHOT, ctx=ctx)
        pending.append((line, col, writer.submit(cmd)))
    for line, c, fut in pending:
        res = fut.result(120)
        if isinstance(res, LedgerError):
            column = c.get(res.field or "", c["sku"]) + 1
            report.errors.append(RowError(line, column, res.field or "row", str(res)))
        elif isinstance(res, Exception):
            report.errors.append(RowError(line, 1, "row", f"not applied: {res}"))
        elif res.movements:
            report.applied += 1
            report.movements += len(res.movements)
        else:
            report.unchanged += 1
    report.errors.sort(key=lambda e: (e.line, e.column))
    return report
