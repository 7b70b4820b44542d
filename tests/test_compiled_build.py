"""The compiled build of the hot path (mypyc, setup.py) runs only when it is whole and
current; otherwise every module of it loads from source, never a mix of the two."""

from __future__ import annotations

import importlib.machinery
import os
import subprocess
import sys
import textwrap
import time
from pathlib import Path

from omnihub import compiled_build
from omnihub.compiled_build import COMPILED_MODULES, GROUP, source_path, why_not_compiled

SUFFIX = importlib.machinery.EXTENSION_SUFFIXES[0]


def _age(path: Path, seconds_ago: float) -> None:
    t = time.time() - seconds_ago
    os.utime(path, (t, t))


def _build_of(src: Path) -> Path:
    return src.with_name(src.stem + SUFFIX)


def _build(tmp_path: Path, *, skip: str | None = None, library: bool = True) -> tuple[Path, Path]:
    """A package folder with every compiled module's source and (but `skip`) a build of
    each, the sources two minutes old and the builds one, as an install leaves them."""
    pkg = tmp_path / "fakehub"  # not `omnihub`: that name is the installed one
    for m in COMPILED_MODULES:
        src = source_path(pkg, m)
        src.parent.mkdir(parents=True, exist_ok=True)
        src.write_text("")
        _age(src, 120)
        if m != skip:
            _build_of(src).write_bytes(b"")
            _age(_build_of(src), 60)
    if library:
        (tmp_path / f"{GROUP}__mypyc{SUFFIX}").write_bytes(b"")
    return pkg, tmp_path


def _choosing_at_import(pkg: Path) -> None:
    """Make the fake package choose its build when imported, as omnihub's `__init__` does."""
    (pkg / "__init__.py").write_text(textwrap.dedent(f"""
        from pathlib import Path
        import sys
        sys.path.insert(0, {str(Path(compiled_build.__file__).parent)!r})
        from compiled_build import choose_build
        CORE_BUILD = choose_build(__name__, Path(__file__).resolve().parent)
    """))


def test_a_whole_current_build_is_used(tmp_path):
    assert why_not_compiled(*_build(tmp_path)) is None


def test_a_plain_source_install_is_not_compiled(tmp_path):
    pkg = tmp_path / "fakehub"
    for m in COMPILED_MODULES:
        source_path(pkg, m).parent.mkdir(parents=True, exist_ok=True)
        source_path(pkg, m).write_text("")
    assert why_not_compiled(pkg, tmp_path) == "not compiled"


def test_a_missing_module_or_library_makes_everything_load_from_source(tmp_path):
    assert why_not_compiled(*_build(tmp_path / "a", skip="domain.routing")) == "domain.routing is not compiled"
    assert why_not_compiled(*_build(tmp_path / "b", skip="services.order_pipeline")) == \
        "services.order_pipeline is not compiled"
    assert "shared library" in why_not_compiled(*_build(tmp_path / "c", library=False))


def test_a_source_edited_after_the_build_is_run_from_source(tmp_path):
    pkg, lib = _build(tmp_path)
    source_path(pkg, "adapters.db.stock_store").write_text("# edited")  # now: a minute after its build
    assert why_not_compiled(pkg, lib) == "adapters.db.stock_store changed after it was compiled"


def test_files_of_one_install_written_a_moment_apart_are_current(tmp_path):
    pkg, lib = _build(tmp_path)
    src = source_path(pkg, "domain.atp")
    _age(src, 0)  # the source landed a moment after its build
    _age(_build_of(src), 1)
    assert why_not_compiled(pkg, lib) is None


def test_a_stale_build_is_never_imported(tmp_path):
    """Real imports in a fresh interpreter: a package whose compiled files are stale (here
    not even libraries: importing one would fail) loads every module from source, with a
    warning."""
    pkg, _ = _build(tmp_path)
    _choosing_at_import(pkg)
    for sub in ("domain", "services", "adapters", "adapters/db"):
        (pkg / sub / "__init__.py").write_text("")
    source_path(pkg, "domain.routing").write_text("WHERE = 'source'\n")  # edited after its "build"
    source_path(pkg, "services.order_pipeline").write_text("WHERE = 'source'\n")
    _age(source_path(pkg, "services.order_pipeline"), 120)  # not edited: stale only by its neighbour
    out = subprocess.run(
        [sys.executable, "-W", "always", "-c",
         "import fakehub as d, fakehub.domain.routing as r, fakehub.services.order_pipeline as p;"
         "print(d.CORE_BUILD); print(r.WHERE, r.__file__); print(p.WHERE, p.__file__)"],
        cwd=tmp_path, capture_output=True, text=True, env={**os.environ, "PYTHONPATH": str(tmp_path)}, timeout=60,
    )
    assert out.returncode == 0, out.stderr
    lines = out.stdout.splitlines()
    assert lines[0] == "source (domain.routing changed after it was compiled)"
    assert lines[1].startswith("source ") and lines[1].endswith("routing.py")
    assert lines[2].startswith("source ") and lines[2].endswith("order_pipeline.py")
    assert "not used (domain.routing changed after it was compiled)" in out.stderr


def test_a_module_no_longer_compiled_loads_from_source_beside_a_current_build(tmp_path):
    """An earlier install compiled a module this build does not: its compiled file, left
    beside the source, would be imported first and fail. It is loaded from source."""
    pkg, _ = _build(tmp_path)
    _choosing_at_import(pkg)
    (pkg / "domain" / "__init__.py").write_text("")
    (pkg / "domain" / "events.py").write_text("WHERE = 'source'\n")
    (pkg / "domain" / f"events{SUFFIX}").write_bytes(b"not a library")  # as a failed import would find it
    assert compiled_build.leftover_builds(pkg) == {"domain.events"}
    out = subprocess.run(
        [sys.executable, "-c", "import fakehub as d, fakehub.domain.events as e; print(d.CORE_BUILD); print(e.WHERE)"],
        cwd=tmp_path, capture_output=True, text=True, env={**os.environ, "PYTHONPATH": str(tmp_path)}, timeout=60,
    )
    assert out.returncode == 0, out.stderr
    assert out.stdout.split() == ["compiled", "source"]


def test_pure_python_can_be_forced():
    out = subprocess.run(
        [sys.executable, "-c", "import omnihub, omnihub.adapters.db.stock_store as s; print(omnihub.CORE_BUILD, s.__file__)"],
        capture_output=True, text=True, env={**os.environ, "OMNIHUB_PURE_PYTHON": "1"}, timeout=60,
    )
    assert out.returncode == 0, out.stderr
    assert out.stdout.startswith("source (OMNIHUB_PURE_PYTHON is set)")
    assert out.stdout.split()[-1].endswith("stock_store.py")
