"""The compiled domain core (mypyc, setup.py) runs only when it is whole and current;
otherwise every core module loads from source, never a mix of the two."""

from __future__ import annotations

import importlib.machinery
import os
import subprocess
import sys
import textwrap
import time
from pathlib import Path

from omnihub.domain import compiled_core
from omnihub.domain.compiled_core import COMPILED_MODULES, GROUP, why_not_compiled

SUFFIX = importlib.machinery.EXTENSION_SUFFIXES[0]


def _age(path: Path, seconds_ago: float) -> None:
    t = time.time() - seconds_ago
    os.utime(path, (t, t))


def _build(tmp_path: Path, *, skip: str | None = None, library: bool = True) -> tuple[Path, Path]:
    """A package folder with every core source and (but `skip`) a build of each, the
    sources two minutes old and the builds one, as an install leaves them."""
    pkg = tmp_path / "fakehub" / "domain"  # not `omnihub`: that name is the installed one
    pkg.mkdir(parents=True)
    for m in COMPILED_MODULES:
        (pkg / f"{m}.py").write_text("")
        _age(pkg / f"{m}.py", 120)
        if m != skip:
            (pkg / f"{m}{SUFFIX}").write_bytes(b"")
            _age(pkg / f"{m}{SUFFIX}", 60)
    if library:
        (tmp_path / f"{GROUP}__mypyc{SUFFIX}").write_bytes(b"")
    return pkg, tmp_path


def test_a_whole_current_build_is_used(tmp_path):
    assert why_not_compiled(*_build(tmp_path)) is None


def test_a_plain_source_install_is_not_compiled(tmp_path):
    pkg = tmp_path / "domain"
    pkg.mkdir()
    for m in COMPILED_MODULES:
        (pkg / f"{m}.py").write_text("")
    assert why_not_compiled(pkg, tmp_path) == "not compiled"


def test_a_missing_module_or_library_makes_the_whole_core_load_from_source(tmp_path):
    assert why_not_compiled(*_build(tmp_path / "a", skip="routing")) == "routing is not compiled"
    assert "shared library" in why_not_compiled(*_build(tmp_path / "b", library=False))


def test_a_source_edited_after_the_build_is_run_from_source(tmp_path):
    pkg, lib = _build(tmp_path)
    (pkg / "orders.py").write_text("# edited")  # now: well after its build, a minute old
    assert why_not_compiled(pkg, lib) == "orders.py changed after it was compiled"


def test_files_of_one_install_written_a_moment_apart_are_current(tmp_path):
    pkg, lib = _build(tmp_path)
    _age(pkg / "atp.py", 0)  # the source landed a moment after its build
    _age(pkg / f"atp{SUFFIX}", 1)
    assert why_not_compiled(pkg, lib) is None


def test_a_stale_build_is_never_imported(tmp_path):
    """Real imports in a fresh interpreter: a package whose compiled file is stale (here not
    even a library: importing it would fail) loads the source, with a warning."""
    pkg, _ = _build(tmp_path)
    (pkg / "__init__.py").write_text(textwrap.dedent(f"""
        from pathlib import Path
        import sys
        sys.path.insert(0, {str(Path(compiled_core.__file__).parent)!r})
        from compiled_core import choose_build
        CORE_BUILD = choose_build(__name__, Path(__file__).resolve().parent)
    """))
    (pkg / "routing.py").write_text("WHERE = 'source'\n")  # edited after its "build"
    out = subprocess.run(
        [sys.executable, "-W", "always", "-c",
         "import fakehub.domain as d, fakehub.domain.routing as r; print(d.CORE_BUILD); print(r.WHERE, r.__file__)"],
        cwd=tmp_path, capture_output=True, text=True, env={**os.environ, "PYTHONPATH": str(tmp_path)}, timeout=60,
    )
    assert out.returncode == 0, out.stderr
    lines = out.stdout.splitlines()
    assert lines[0] == "source (routing.py changed after it was compiled)"
    assert lines[1].startswith("source ") and lines[1].endswith("routing.py")
    assert "not used (routing.py changed after it was compiled)" in out.stderr


def test_pure_python_can_be_forced():
    out = subprocess.run(
        [sys.executable, "-c", "import omnihub.domain as d, omnihub.domain.routing as r; print(d.CORE_BUILD, r.__file__)"],
        capture_output=True, text=True, env={**os.environ, "OMNIHUB_PURE_PYTHON": "1"}, timeout=60,
    )
    assert out.returncode == 0, out.stderr
    assert out.stdout.startswith("source (OMNIHUB_PURE_PYTHON is set)")
    assert out.stdout.split()[-1].endswith("routing.py")
