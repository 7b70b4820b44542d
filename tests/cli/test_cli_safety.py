"""The CLI as a user meets it from a terminal: it never creates a hub by reading one, it
says which hub it used when that is not ./omnihub.db, an everyday mistake is one line on
stderr (the traceback only with --debug), and spreadsheets' CSV files import whatever
Unicode encoding Excel saved them in, with their errors in line order."""

from __future__ import annotations

import codecs
import os
import subprocess
import sys
from pathlib import Path

import pytest

from omnihub.hub import Hub
from omnihub.settings import Settings
from tests.cli.conftest import run
from tests.conftest import add_location, add_skus

CSV = "sku,location,on_hand\nA,WH,7\nB,WH,4\n"


def one_error_line(result) -> str:
    """The error's line; besides it stderr holds at most the note naming the hub used."""
    lines = result.stderr.strip().splitlines()
    notes = [ln for ln in lines if ln.startswith("using ")]
    assert len(notes) <= 1 and len(lines) == len(notes) + 1 and lines[-1].startswith("error: "), result.stderr
    assert "Traceback" not in result.output
    return lines[-1]


def test_a_read_from_an_empty_directory_creates_nothing_and_says_where_it_looked(elsewhere):
    for args in (["atp", "MCT-M"], ["orders", "list"], ["sync", "status"], ["rules", "show"]):
        result = run(*args)
        assert result.exit_code == 1, result.output
        line = one_error_line(result)
        assert "no hub here" in line and str(elsewhere / "omnihub.db") in line, line
    assert list(elsewhere.iterdir()) == []


def test_a_read_of_a_missing_hub_named_by_option_creates_nothing(elsewhere):
    result = run("atp", "MCT-M", "--database-url", f"sqlite:///{elsewhere / 'typo.db'}")
    assert result.exit_code == 1
    assert str(elsewhere / "typo.db") in one_error_line(result)
    assert list(elsewhere.iterdir()) == []


def test_an_unknown_sku_is_one_line_and_a_non_zero_exit(stocked, clean_url):
    result = run("atp", "MCT-M", "--database-url", clean_url)
    assert result.exit_code == 1
    assert one_error_line(result) == "error: unknown SKU 'MCT-M'"
    assert result.stdout == ""


def test_unknown_order_channel_and_missing_file_are_one_line_each(stocked, clean_url, elsewhere):
    cases = [
        (["orders", "show", "999"], "no order 999"),
        (["atp", "A", "--channel", "nope"], "no channel 'nope'"),
        (["sync", "reconcile", "nope"], "nope is not connected"),
        (["import-snapshot", str(elsewhere / "missing.csv")], "missing.csv: No such file or directory"),
        (["rules", "set", str(elsewhere)], "is a folder"),
    ]
    for args, expected in cases:
        result = run(*args, "--database-url", clean_url)
        assert result.exit_code == 1, (args, result.output)
        assert expected in one_error_line(result), (args, result.stderr)


def test_the_hub_used_is_named_on_stderr_unless_it_is_the_working_directory_one(stocked, clean_url):
    named = run("atp", "A", "--database-url", clean_url)
    assert named.exit_code == 0, named.output
    [note] = named.stderr.strip().splitlines()
    assert note.startswith("using ") and "ATP of A" in named.stdout


def test_debug_shows_the_traceback(stocked, clean_url, elsewhere):
    command = [sys.executable, "-c", "from omnihub.entrypoints.cli.main import app; app()"]
    env = {**os.environ, "COLUMNS": "200", "PYTHONPATH": str(Path(__file__).resolve().parents[2])}
    plain = subprocess.run([*command, "atp", "MCT-M", "--database-url", clean_url], capture_output=True, text=True,
                           env=env, timeout=120)
    debug = subprocess.run([*command, "--debug", "atp", "MCT-M", "--database-url", clean_url], capture_output=True,
                           text=True, env=env, timeout=120)
    assert plain.returncode == 1 and "Traceback" not in plain.stderr
    assert [ln for ln in plain.stderr.splitlines() if ln.startswith("error:")] == ["error: unknown SKU 'MCT-M'"]
    assert debug.returncode != 0 and "Traceback" in debug.stderr and "NotFound" in debug.stderr


def test_version():
    from importlib.metadata import version

    result = run("--version")
    assert result.exit_code == 0 and result.stdout.strip() == f"omnihub {version('omnihub')}"


@pytest.mark.parametrize("encoding, bom", [("utf-8", b""), ("utf-8", codecs.BOM_UTF8), ("utf-16-le", codecs.BOM_UTF16_LE),
                                           ("utf-16-be", codecs.BOM_UTF16_BE)],
                         ids=["utf-8", "utf-8 BOM", "utf-16 LE BOM", "utf-16 BE BOM"])
def test_a_snapshot_imports_in_every_encoding_excel_writes(stocked, clean_url, elsewhere, encoding, bom):
    path = elsewhere / "snapshot.csv"
    path.write_bytes(bom + CSV.replace("\n", "\r\n").encode(encoding))
    result = run("import-snapshot", str(path), "--database-url", clean_url)
    assert result.exit_code == 0, result.output
    assert "2 rows: 2 changed stock" in result.stdout and "0 failed" in result.stdout
    assert stocked.queries.positions("A")["WH"].on_hand == 7


@pytest.mark.parametrize("raw, said", [
    ("sku,location,on_hand\nCAFÉ,WH,1\n".encode("cp1252"), "is not UTF-8 text"),
    ("sku,location,on_hand\nA,WH,1\n".encode("utf-16-le"), "NUL characters"),  # UTF-16 without its BOM
], ids=["cp1252", "utf-16 without BOM"])
def test_a_snapshot_in_another_encoding_is_refused_in_one_line(stocked, clean_url, elsewhere, raw, said):
    path = elsewhere / "snapshot.csv"
    path.write_bytes(raw)
    result = run("import-snapshot", str(path), "--database-url", clean_url)
    assert result.exit_code == 1
    assert said in one_error_line(result) and "snapshot.csv" in result.stderr
    assert stocked.queries.positions("A") == {}


def test_snapshot_errors_are_listed_in_line_order(stocked, clean_url, elsewhere):
    # Line 2 fails in the ledger (unknown SKU, found after parsing), line 3 when parsing:
    # the report still reads top to bottom. Lines are the file's: the header is line 1,
    # a quoted field spanning two lines makes the next row start a line later.
    path = elsewhere / "snapshot.csv"
    path.write_text('sku,location,on_hand\nNOPE,WH,1\nA,WH,x\n"B",WH,2\n"A\nB",WH,y\nB,ST,bad\n')
    result = run("import-snapshot", str(path), "--database-url", clean_url)
    assert result.exit_code == 1
    reported = [ln.split()[0] for ln in result.stdout.splitlines() if ln.startswith("  ")]
    assert reported == [f"{path}:2:1", f"{path}:3:3", f"{path}:5:3", f"{path}:7:3"], result.stdout


def test_the_last_demo_is_followed_from_another_directory(tmp_path, elsewhere):
    from omnihub.entrypoints.cli.which_hub import record_demo

    state = tmp_path / "demo"
    state.mkdir()
    url = f"sqlite:///{state / 'omnihub.db'}"
    hub = Hub.open(Settings(database_url=url), relay=False)  # migrated, with stock
    try:
        add_location(hub, "WH", kind="warehouse", capabilities=["ship"])
        add_skus(hub, "DEMO-1")
        hub.inventory.receive("DEMO-1", "WH", 5)
    finally:
        hub.close()
    record_demo(database_url=url, api_url="http://127.0.0.1:8000", state_dir=state)

    result = run("atp", "DEMO-1")
    assert result.exit_code == 0, result.output
    assert result.stderr.strip() == f"using the demo's hub: sqlite:///{state / 'omnihub.db'}"
    assert "ATP of DEMO-1 online: 5" in result.stdout
    assert list(elsewhere.iterdir()) == []
