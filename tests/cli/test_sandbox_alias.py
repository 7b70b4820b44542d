"""`omnihub sandbox` is the simulators' own CLI when omnihub-sandbox is installed, and a
sentence saying how to install it when it is not (as `omnihub demo` and the benches that
need a simulator say); never a traceback."""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

from typer.testing import CliRunner

import omnihub

# The hub's CLI in a process where omnihub_sandbox cannot be imported (as in `pip install omnihub`).
WITHOUT_SANDBOX = ("import sys; sys.modules['omnihub_sandbox'] = None; "
                   "from omnihub.entrypoints.cli.main import app; app()")


def _hub_without_sandbox(*args: str, cwd) -> subprocess.CompletedProcess:
    env = {**os.environ, "COLUMNS": "200"}
    env.pop("OMNIHUB_DEBUG", None)
    # the omnihub this process runs (the CLI tests run in a scratch working directory)
    env["PYTHONPATH"] = os.pathsep.join([str(Path(omnihub.__file__).resolve().parents[1]), env.get("PYTHONPATH", "")])
    return subprocess.run([sys.executable, "-c", WITHOUT_SANDBOX, *args], capture_output=True, text=True, env=env,
                          cwd=cwd, timeout=60)


def test_the_alias_is_the_sandboxs_own_cli():
    from omnihub.entrypoints.cli.main import app
    from omnihub_sandbox.cli import app as sandbox_app

    hub = CliRunner().invoke(app, ["sandbox", "--help"])
    own = CliRunner().invoke(sandbox_app, ["--help"])
    assert hub.exit_code == 0 and own.exit_code == 0
    for command in ("up", "traffic"):
        assert command in hub.stdout and command in own.stdout
    up = CliRunner().invoke(app, ["sandbox", "up", "--host", "0.0.0.0"])
    assert up.exit_code == 2 and "loopback" in up.output  # the sandbox's own check, through the alias


def test_without_the_sandbox_the_alias_says_how_to_install_it(tmp_path):
    for args in (["sandbox", "up", "--seed", "3"], ["sandbox"]):
        run = _hub_without_sandbox(*args, cwd=tmp_path)
        assert run.returncode == 1, run.stderr
        assert "Traceback" not in run.stderr
        assert [ln for ln in run.stderr.splitlines() if ln.startswith("error:")] == [
            "error: the channel simulators are not installed: from omnihub's repository, `pip install -e ./sandbox` "
            "(or `pip install -e . -e ./sandbox` for both)"]
    listed = _hub_without_sandbox("--help", cwd=tmp_path)
    assert listed.returncode == 0 and "sandbox" in listed.stdout and "not installed" in listed.stdout


def test_without_the_sandbox_the_demo_says_how_to_install_it(tmp_path):
    run = _hub_without_sandbox("demo", "--state-dir", str(tmp_path / "demo"), "--run-for", "1", cwd=tmp_path)
    assert run.returncode == 1 and "Traceback" not in run.stderr, run.stderr
    assert "error: the channel simulators are not installed" in run.stderr
    assert "pip install -e ./sandbox" in run.stderr
