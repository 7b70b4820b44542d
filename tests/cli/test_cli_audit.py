"""The CLI's changes are in the audit trail as the local admin, from "cli", with the
settings' before and after and never a secret; its reads are not; `omnihub audit` shows
the trail with filters. Every command of the app is classified (audited.py)."""

from __future__ import annotations

import json

import sqlalchemy as sa
import typer.main
from cryptography.fernet import Fernet

from omnihub.adapters.db.engine import make_engine
from omnihub.entrypoints.cli.audited import CHANGES, READS
from omnihub.entrypoints.cli.main import app
from omnihub.settings import get_settings
from tests.cli.conftest import run


def _commands(cmd, path=()):
    if hasattr(cmd, "commands"):
        if getattr(cmd, "invoke_without_command", False):
            yield " ".join(path)
        for name, sub in cmd.commands.items():
            yield from _commands(sub, (*path, name))
    else:
        yield " ".join(path)


def test_every_command_is_classified_as_a_change_or_not():
    commands = set(_commands(typer.main.get_command(app)))
    unclassified = sorted(c for c in commands if c not in CHANGES and c not in READS)
    assert not unclassified, f"add these to CHANGES or READS in entrypoints/cli/audited.py: {unclassified}"
    assert not set(CHANGES) & READS
    assert {"rules set", "orders cancel", "channels connect-shopify", "import-snapshot"} <= commands


def _events(url: str) -> list[dict]:
    engine = make_engine(url)
    try:
        with engine.connect() as conn:
            return [dict(r) for r in conn.execute(sa.text("SELECT * FROM audit_events ORDER BY id")).mappings()]
    finally:
        engine.dispose()


def test_cli_changes_are_recorded_as_the_local_admin_with_before_and_after(elsewhere, tmp_path, monkeypatch):
    monkeypatch.setenv("OMNIHUB_SECRET_KEY", Fernet.generate_key().decode())
    get_settings.cache_clear()
    url = f"sqlite:///{tmp_path / 'hub.db'}"
    assert run("migrate", "--database-url", url).exit_code == 0
    assert run("sample", "--database-url", url).exit_code == 0
    rules = tmp_path / "rules.json"
    for sort in (["cost"], ["distance"]):
        rules.write_text(json.dumps({"rules": [{"name": "nearest", "sort": sort}]}))
        done = run("rules", "set", str(rules), "--comment", "closest first", "--database-url", url)
        assert done.exit_code == 0, done.output
    assert run("rules", "show", "--database-url", url).exit_code == 0  # a read: not recorded
    secret, token = "shpss_" + "s3cr3t" * 6, "shpat_" + "t0k3n" * 6
    done = run("channels", "connect-shopify", "https://shop.example", token, secret, "--database-url", url)
    assert done.exit_code == 0, done.output
    bad = run("rules", "set", str(tmp_path / "missing.json"), "--database-url", url)  # failed: nothing changed
    assert bad.exit_code == 1

    events = _events(url)
    assert [e["action"] for e in events] == ["cli.hub.migrate", "cli.catalog.load_sample", "cli.routing.set_rules",
                                             "cli.routing.set_rules", "cli.channels.connect_shopify"]
    assert {(e["actor_kind"], e["address"]) for e in events} == {("local_admin", "cli")}
    rule_change = events[3]
    before, after = (json.loads(v) if isinstance(v, str) else v for v in (rule_change["before"], rule_change["after"]))
    assert [(r["name"], r["sort"]) for r in before["rules"]] == [("nearest", ["cost"])]
    assert [(r["name"], r["sort"]) for r in after["rules"]] == [("nearest", ["distance"])]
    assert before["version"] + 1 == after["version"]
    assert rule_change["target"] == "routing-rules"
    connect = events[4]
    assert connect["target"] == "channel=shopify"
    text = json.dumps(events, default=str)
    assert secret not in text and token not in text
    connect_after = json.loads(connect["after"]) if isinstance(connect["after"], str) else connect["after"]
    assert connect_after == {"connected": True, "credentials": "changed", "shop_url": "https://shop.example",
                             "plan": "standard"}

    shown = run("audit", "--action", "cli.routing", "--database-url", url)
    assert shown.exit_code == 0, shown.output
    assert "cli.routing.set_rules" in shown.output and "local_admin" in shown.output
    assert "connect_shopify" not in shown.output
    page = run("audit", "--limit", "2", "--database-url", url)
    assert "more: --cursor" in page.output
    cursor = page.output.rsplit("--cursor", 1)[1].split()[0]
    rest = run("audit", "--limit", "2", "--cursor", cursor, "--database-url", url)
    assert "cli.routing.set_rules" in rest.output and "connect_shopify" not in rest.output
