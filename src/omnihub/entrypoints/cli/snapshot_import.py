"""`omnihub import-snapshot FILE`: an ERP snapshot of any size, streamed from disk.

The file is read twice, a block at a time, and never held: once to refuse what is not
CSV text (a spreadsheet, a binary file, a legacy code page: one line, before anything
applies) and to hash it; then line by line, decoded as it is read, parsed and applied in
chunks (services/erp_snapshot.py), with a progress bar by bytes read on stderr. The same
file imported again after a kill resumes after the last chunk committed ("resumed at line
N"); imported to its end, it is not applied again unless `--again`.
"""

from __future__ import annotations

from pathlib import Path

import typer
from rich.markup import escape
from rich.progress import BarColumn, DownloadColumn, Progress, TextColumn, TimeRemainingColumn, TransferSpeedColumn

from omnihub.entrypoints.cli.errors import CliError
from omnihub.entrypoints.cli.terminal import console, err_console
from omnihub.entrypoints.cli.which_hub import open_hub
from omnihub.entrypoints.csv_text import inspect_csv


def import_snapshot_file(file: Path, database_url: str | None, *, again: bool = False,
                         chunk_rows: int | None = None) -> None:
    from omnihub.entrypoints.cli.access_commands import cli_principal
    from omnihub.services.erp_snapshot import CHUNK_ROWS, SnapshotFile, import_snapshot_lines

    try:
        raw = file.open("rb")
    except IsADirectoryError:
        raise CliError(f"{file} is a folder, not a file") from None
    except OSError as exc:
        raise CliError(f"cannot read {file}: {exc.strerror or exc}") from None
    with raw:
        err = err_console()
        with err.status(f"checking {escape(str(file))}"):
            info = inspect_csv(raw, name=str(file))
        hub = open_hub(database_url)
        ident = SnapshotFile(str(file.resolve()), info.size, info.sha256)
        try:
            columns = (TextColumn("{task.description}"), BarColumn(), DownloadColumn(), TransferSpeedColumn(),
                       TimeRemainingColumn())
            with Progress(*columns, console=err, transient=True) as bar:
                task = bar.add_task("importing", total=info.size)
                report = import_snapshot_lines(
                    hub.writer, info.lines(raw), file=ident,
                    actor=cli_principal().actor, chunk_rows=chunk_rows or CHUNK_ROWS, again=again,
                    progress=lambda: bar.update(task, completed=raw.tell()), rows_hint=info.line_breaks)
        except KeyboardInterrupt:
            hub.close()  # the chunk in the writer commits (or not) first: the record is then exact
            _say_where_it_stopped(hub.settings.database_url, ident)
            raise typer.Exit(130) from None
        finally:
            hub.close()
    out = console()
    if report.already_imported:
        out.print(f"{escape(str(file))} was imported to its end before (import #{report.import_id}: {report.rows} rows, "
                  f"{report.applied} changed stock, {report.failed} failed): nothing applied; --again imports it anew")
        return
    if report.resumed_at:
        out.print(f"resumed at line {report.resumed_at} (import #{report.import_id}: an earlier run applied the "
                  f"lines before it)")
    out.print(f"{report.rows} rows: {report.applied} changed stock ({report.movements} movements), "
              f"{report.unchanged} unchanged, {report.failed} failed")
    for e in report.errors:
        out.print(f"  [red]{escape(str(file))}:{e.line}:{e.column}[/] {escape(e.field)}: {escape(e.message)}",
                  soft_wrap=True)
    if report.failed > len(report.errors):
        out.print(f"  … and {report.failed - len(report.errors)} more")
    if report.stopped:
        out.print(f"[red]stopped:[/] {escape(report.stopped)}; every line up to {report.last_line} is applied "
                  f"(import #{report.import_id}): run the same command again to resume", soft_wrap=True)
    if report.errors or report.stopped:
        raise typer.Exit(1)


def _say_where_it_stopped(url: str, ident) -> None:
    from omnihub.adapters.db.engine import make_engine
    from omnihub.services.erp_snapshot import recorded_import

    engine = make_engine(url)
    try:
        found = recorded_import(engine, ident)
    finally:
        engine.dispose()
    if found is None or not found["chunks"]:
        console().print("stopped: nothing was applied")
    else:
        console().print(f"stopped: every line up to {found['last_line']} is applied (import #{found['id']}: "
                        f"{found['applied']} rows changed stock, {found['failed']} failed); run the same command "
                        f"again to resume at line {found['last_line'] + 1}")
