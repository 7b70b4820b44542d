"""A production install of omnihub carries no simulator: the hub's distribution has no
omnihub_sandbox and none of the simulators' own dependencies (graphql-core, jsonschema),
which the omnihub-sandbox distribution (./sandbox) declares instead.

python-multipart stays the hub's: its sign-in reads an HTML form (routes_session.py).

The declarations are read on every run; the wheels themselves are built by pip (with
build isolation, the build requirements come from the index: about 1.5 minutes) in the
step of .ci/run that sets OMNIHUB_BUILD_WHEELS=1, and wherever it is set.
"""

from __future__ import annotations

import os
import re
import shutil
import subprocess
import sys
import tomllib
import zipfile
from email.parser import Parser
from pathlib import Path

import pytest
from setuptools import find_packages

PROJECT_ROOT = Path(__file__).resolve().parents[1]
SIMULATORS_ONLY = {"graphql-core", "jsonschema"}


def _name(requirement: str) -> str:
    return re.split(r"[\s\[<>=!~;]", requirement.strip(), maxsplit=1)[0].lower().replace("_", "-")


def _project(path: Path) -> dict:
    return tomllib.loads(path.read_text())["project"]


def test_the_hub_declares_none_of_the_simulators_dependencies():
    hub = {_name(r) for r in _project(PROJECT_ROOT / "pyproject.toml")["dependencies"]}
    sandbox = {_name(r) for r in _project(PROJECT_ROOT / "sandbox" / "pyproject.toml")["dependencies"]}
    assert hub & SIMULATORS_ONLY == set()
    assert SIMULATORS_ONLY <= sandbox
    assert "python-multipart" in hub  # request.form() of the sign-in


def test_the_hub_packages_no_simulator():
    packages = find_packages(PROJECT_ROOT / "src")
    assert "omnihub" in packages and "omnihub.entrypoints.cli" in packages
    assert [p for p in packages if "sandbox" in p] == []


def test_the_shared_pins_agree():
    """One environment holds both: a package both use is pinned the same in each."""
    pins = lambda path: {_name(r): r for r in _project(path)["dependencies"]}  # noqa: E731
    hub, sandbox = pins(PROJECT_ROOT / "pyproject.toml"), pins(PROJECT_ROOT / "sandbox" / "pyproject.toml")
    assert {n: sandbox[n] for n in hub.keys() & sandbox.keys()} == {n: hub[n] for n in hub.keys() & sandbox.keys()}


def _wheel(source: Path, out: Path) -> Path:
    env = {**os.environ, "OMNIHUB_PURE_PYTHON": "1"}  # the contents are the same compiled or not
    subprocess.run([sys.executable, "-m", "pip", "wheel", "-q", "--no-deps", str(source), "-w", str(out)],
                   check=True, env=env, timeout=900)
    return next(out.glob("*.whl"))


def _requires(wheel: zipfile.ZipFile) -> set[str]:
    metadata = next(n for n in wheel.namelist() if n.endswith(".dist-info/METADATA"))
    return {_name(r) for r in Parser().parsestr(wheel.read(metadata).decode()).get_all("Requires-Dist") or []
            if "extra ==" not in r}


@pytest.fixture(scope="module")
def wheels(tmp_path_factory) -> dict[str, zipfile.ZipFile]:
    if os.environ.get("OMNIHUB_BUILD_WHEELS") != "1":
        pytest.skip("builds both wheels with pip (about 1.5 min): set OMNIHUB_BUILD_WHEELS=1 (.ci/run does)")
    tmp = tmp_path_factory.mktemp("wheels")
    tree = tmp / "tree"  # a copy: the build leaves build/ and *.egg-info behind
    shutil.copytree(PROJECT_ROOT, tree, ignore=shutil.ignore_patterns(
        ".git", ".venv", "var", "build", "*.egg-info", "__pycache__", ".*_cache", ".hypothesis", "*.so", "*.db*"))
    built = {"omnihub": _wheel(tree, tmp / "hub"), "omnihub-sandbox": _wheel(tree / "sandbox", tmp / "sandbox")}
    opened = {name: zipfile.ZipFile(path) for name, path in built.items()}
    yield opened
    for wheel in opened.values():
        wheel.close()


def test_the_hubs_wheel_has_no_simulator_and_needs_none_of_their_dependencies(wheels):
    hub = wheels["omnihub"]
    files = hub.namelist()
    assert "omnihub/entrypoints/cli/main.py" in files and "omnihub/domain/atp.py" in files
    assert [f for f in files if "sandbox" in f.split("/")[0] or f.startswith("omnihub/sandbox")] == []
    assert not any(f.endswith("schema.graphql") for f in files)
    requires = _requires(hub)
    assert "fastapi" in requires and requires & SIMULATORS_ONLY == set()


def test_the_sandboxs_wheel_has_every_simulator_and_its_files(wheels):
    sandbox = wheels["omnihub-sandbox"]
    files = sandbox.namelist()
    for needed in ("omnihub_sandbox/serving.py", "omnihub_sandbox/cli.py", "omnihub_sandbox/shopify/app.py",
                   "omnihub_sandbox/shopify/schema.graphql", "omnihub_sandbox/amazon/app.py"):
        assert needed in files
    assert [f for f in files if f.startswith("omnihub/")] == []
    assert SIMULATORS_ONLY <= _requires(sandbox) and "omnihub" not in _requires(sandbox)
    entry_points = next(n for n in files if n.endswith(".dist-info/entry_points.txt"))
    assert "omnihub-sandbox = omnihub_sandbox.cli:app" in sandbox.read(entry_points).decode()
