"""`omnihub demo` starts the sandboxes, the API and the worker, connects both channels and
says where to look; with --run-for it stops by itself (and cleanly)."""

from __future__ import annotations

from typer.testing import CliRunner

from omnihub.entrypoints.cli.main import app
from tests.live_server import free_port


def test_demo_starts_connects_and_stops(tmp_path):
    ports = [free_port() for _ in range(3)]
    result = CliRunner().invoke(app, ["demo", "--state-dir", str(tmp_path / "demo"), "--api-port", str(ports[0]),
                                      "--shopify-port", str(ports[1]), "--amazon-port", str(ports[2]),
                                      "--products", "3", "--run-for", "1"], env={"COLUMNS": "200"})
    assert result.exit_code == 0, result.output
    assert "Shopify (online + POS) and Amazon connected" in result.output
    assert f"http://127.0.0.1:{ports[0]}/api/v1/docs" in result.output
    assert (tmp_path / "demo" / "omnihub.db").exists()
