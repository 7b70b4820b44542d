"""`omnihub import-snapshot` on what an ERP really sends: a run killed part-way resumes and
applies each row once, a position named twice is reported with both lines, a spreadsheet,
a binary file or Latin-1 text is one error, a value out of range fails its row alone, and
a quoted field with a line break is reported at the line where it starts.

Memory boundedness is measured by `omnihub bench snapshot`, not asserted here."""

from __future__ import annotations

import os
import signal
import subprocess
import sys
import time

import pytest
import sqlalchemy as sa

from omnihub.adapters.db import tables as t
from omnihub.adapters.db.engine import make_engine
from tests.cli.conftest import run
from tests.conftest import PROJECT_ROOT, add_location, add_skus

HEADER = "sku,location,on_hand\n"


def reported(result) -> list[str]:
    return [ln.strip() for ln in result.stdout.splitlines() if ln.startswith("  ")]


def snapshot_movements(hub) -> dict[tuple[str, str], int]:
    """(sku, location) → movements the snapshot recorded there."""
    m = t.movements.c
    with hub.engine.connect() as conn:
        rows = conn.execute(sa.select(m.sku, m.location, sa.func.count()).where(m.reason == "erp_snapshot")
                            .group_by(m.sku, m.location)).all()
    return {(s, loc): n for s, loc, n in rows}


@pytest.fixture
def estate(hub):
    """20 locations × 250 SKUs: 5,000 positions, none stocked yet."""
    for i in range(20):
        add_location(hub, f"L{i:02d}", kind="warehouse", capabilities=["ship"])
    add_skus(hub, *(f"S{i:04d}" for i in range(250)))
    return hub


def test_an_import_killed_part_way_resumes_and_applies_each_row_exactly_once(estate, clean_url, elsewhere):
    rows = [(f"S{i // 20:04d}", f"L{i % 20:02d}", i % 9 + 1) for i in range(5000)]
    path = elsewhere / "estate.csv"
    path.write_text(HEADER + "".join(f"{s},{loc},{q}\n" for s, loc, q in rows))
    child = subprocess.Popen(
        [sys.executable, "-c", "from omnihub.entrypoints.cli.main import app; app()", "import-snapshot", str(path),
         "--database-url", clean_url, "--chunk-rows", "50"],
        cwd=PROJECT_ROOT, stdout=subprocess.DEVNULL, stderr=subprocess.PIPE,
        env={**os.environ, "XDG_STATE_HOME": str(elsewhere.parent / "state")})
    engine = make_engine(clean_url)
    imp = t.snapshot_imports.c
    committed = 0
    try:
        deadline = time.monotonic() + 120
        while committed < 5 and time.monotonic() < deadline and child.poll() is None:
            with engine.connect() as conn:
                committed = conn.execute(sa.select(imp.chunks)).scalar() or 0
            time.sleep(0.005)
        child.send_signal(signal.SIGKILL)
        child.wait(30)
        with engine.connect() as conn:
            chunks, last_line, state = conn.execute(sa.select(imp.chunks, imp.last_line, imp.state)).one()
    finally:
        engine.dispose()
    assert child.returncode == -signal.SIGKILL, child.stderr.read().decode() if child.stderr else ""
    assert 5 <= chunks < 100 and state == "running", (chunks, state)
    assert last_line == 1 + chunks * 50  # every line of the committed chunks, none of the next
    done = snapshot_movements(estate)
    assert len(done) == chunks * 50 and set(done.values()) == {1}  # the kill left whole chunks, nothing else
    sold_sku, sold_loc, sold_qty = rows[0]
    estate.inventory.record_sale(sold_sku, sold_loc, 1)  # stock moves between the kill and the re-run

    result = run("import-snapshot", str(path), "--database-url", clean_url)
    assert result.exit_code == 0, result.output
    assert f"resumed at line {last_line + 1}" in result.stdout
    assert "5000 rows: 5000 changed stock (5000 movements), 0 unchanged, 0 failed" in result.stdout
    after = snapshot_movements(estate)
    assert len(after) == 5000 and set(after.values()) == {1}  # each row applied exactly once
    assert estate.queries.positions(sold_sku)[sold_loc].on_hand == sold_qty - 1  # its row was not applied again
    s, loc, q = rows[-1]
    assert estate.queries.positions(s)[loc].on_hand == q

    again = run("import-snapshot", str(path), "--database-url", clean_url)
    assert again.exit_code == 0 and "nothing applied" in again.stdout, again.output
    assert snapshot_movements(estate) == after


def test_a_position_named_twice_is_reported_with_both_lines(stocked, clean_url, elsewhere):
    path = elsewhere / "snapshot.csv"
    path.write_text(HEADER + "A,WH,7\nB,WH,4\nA,WH,9\nB,ST,1\n")
    result = run("import-snapshot", str(path), "--database-url", clean_url)
    assert result.exit_code == 1
    (line,) = reported(result)
    assert line.startswith(f"{path}:4:1") and "line 2" in line and "lines 2 and 4" in line, line
    assert stocked.queries.positions("A")["WH"].on_hand == 7  # the first line's figure, applied once
    assert snapshot_movements(stocked)[("A", "WH")] == 1
    assert stocked.queries.positions("B")["ST"].on_hand == 1


def one_error_line(result) -> str:
    lines = result.stderr.strip().splitlines()
    notes = [ln for ln in lines if ln.startswith("using ")]
    assert len(lines) == len(notes) + 1 and lines[-1].startswith("error: "), result.stderr
    assert "Traceback" not in result.output
    return lines[-1]


@pytest.mark.parametrize("raw, said", [
    (b"PK\x03\x04\x14\x00\x06\x00\x08\x00\x00\x00!\x00b\xee\x9dh^\x01\x00\x00\x90\x04\x00\x00\x13\x00\x08\x02"
     b"[Content_Types].xml", "spreadsheet"),
    (b"\xd0\xcf\x11\xe0\xa1\xb1\x1a\xe1" + bytes(range(256)) * 4, "xls"),
    (b"\x89PNG\r\n\x1a\n\x00\x00\x00\rIHDR\x00\x00\x00\x10" + bytes(200), "binary file"),
    (HEADER.encode() + "A,WH,1\nCAFÉ,WH,2\n".encode("latin-1"), "Latin-1"),
], ids=["xlsx", "xls", "binary", "latin-1"])
def test_a_spreadsheet_binary_or_latin1_file_is_one_error(stocked, clean_url, elsewhere, raw, said):
    path = elsewhere / "snapshot.csv"
    path.write_bytes(raw)
    result = run("import-snapshot", str(path), "--database-url", clean_url)
    assert result.exit_code == 1
    line = one_error_line(result)
    assert "snapshot.csv" in line and said in line.split("snapshot.csv", 1)[1], line  # (the test's folder names it too)
    assert result.stdout == ""
    assert stocked.queries.positions("A") == {}  # nothing applied, not even the good first row


def test_latin1_names_the_line_of_the_byte(stocked, clean_url, elsewhere):
    path = elsewhere / "snapshot.csv"
    path.write_bytes((HEADER + "A,WH,1\nB,WH,2\nCAFÉ,WH,2\n").encode("latin-1"))
    line = one_error_line(run("import-snapshot", str(path), "--database-url", clean_url))
    assert "(line 4)" in line and f"offset {len(HEADER) + 14 + 3}" in line, line


def test_a_value_out_of_range_fails_its_row_alone(stocked, clean_url, elsewhere):
    path = elsewhere / "snapshot.csv"
    path.write_text(HEADER + f"A,WH,{2**64}\nA,ST,-3\nB,WH,10000001\nB,ST,5\nA,WH,99999999999999999999999999999999\n")
    result = run("import-snapshot", str(path), "--database-url", clean_url)
    assert result.exit_code == 1
    got = reported(result)
    assert [ln.split()[0] for ln in got] == [f"{path}:2:3", f"{path}:3:3", f"{path}:4:3", f"{path}:6:3"], got
    assert "more than" in got[0] and "negative" in got[1] and "more than" in got[2]
    assert "5 rows: 1 changed stock" in result.stdout
    assert stocked.queries.positions("B")["ST"].on_hand == 5
    assert set(stocked.queries.positions("A")) == set() and "WH" not in stocked.queries.positions("B")


def test_a_quoted_field_with_a_line_break_is_reported_at_its_first_line(stocked, clean_url, elsewhere):
    path = elsewhere / "snapshot.csv"
    path.write_text(HEADER + 'A,WH,1\n"B\nX",WH,2\nB,ST,3\n"A,ST,4\nB,WH,5\n')
    result = run("import-snapshot", str(path), "--database-url", clean_url)
    assert result.exit_code == 1
    got = reported(result)
    assert [ln.split()[0] for ln in got] == [f"{path}:3:1", f"{path}:6:2"], got
    assert "line break" in got[0] and "from line 3 to line 4" in got[0]
    # a quote never closed runs to the end of the file: reported where it opens
    assert "from line 6 to line 7" in got[1]
    assert stocked.queries.positions("A")["WH"].on_hand == 1
    assert stocked.queries.positions("B")["ST"].on_hand == 3
