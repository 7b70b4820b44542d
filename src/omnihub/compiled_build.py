"""Which build of omnihub's hot path runs: the one compiled by mypyc (setup.py) or the source.

The hot path is the domain core (routing, ATP, the ledger's fold, the channel projection,
the order model) and the writer's own code around it (the order pipeline, the stock
store and its cache, the bulk SQL helpers, order documents).

Compiled modules of one build call each other inside a shared library, past Python's
imports, so the two are never mixed: the compiled build is used only when every module of
it is there and none of its sources changed after it was built; otherwise every one of
these modules loads from source. A developer who edits `routing.py` thus runs the edit at
once (as fast as before compiling, until `pip install -e .` builds again), never a stale
compiled router next to it. `OMNIHUB_PURE_PYTHON=1` forces the source (tracebacks with
lines, a debugger) and, at install time, skips compiling.

Standard library only: setup.py reads the module list from here.
"""

from __future__ import annotations

import importlib.abc
import importlib.machinery
import importlib.util
import os
import sys
import warnings
from collections.abc import Iterable
from pathlib import Path

#: modules below the `omnihub` package, by dotted name
COMPILED_MODULES = (
    "domain.atp", "domain.catalog", "domain.channel_projection", "domain.ledger", "domain.order_states",
    "domain.orders", "domain.routing", "domain.routing_rules", "domain.stock_commands",
    "adapters.db.bulk_sql", "adapters.db.claims", "adapters.db.order_documents", "adapters.db.stock_store", "adapters.db.writer_cache",
    "services.order_pipeline",
)
GROUP = "omnihub_core"  # the shared library is `omnihub_core__mypyc`, beside the `omnihub` package
#: Files written by one install land within this many seconds of each other.
SAME_INSTALL_S = 5.0


def _built(folder: Path, name: str) -> Path | None:
    for suffix in importlib.machinery.EXTENSION_SUFFIXES:
        p = folder / f"{name}{suffix}"
        if p.exists():
            return p
    return None


def source_path(package_dir: Path, module: str) -> Path:
    """`domain.routing` → <package_dir>/domain/routing.py"""
    return package_dir.joinpath(*module.split(".")).with_suffix(".py")


def why_not_compiled(package_dir: Path, library_dir: Path) -> str | None:
    """None when the compiled build can run, else the reason it cannot. `package_dir` is
    the `omnihub` package's folder, `library_dir` the one holding the shared library."""
    built = {m: _built(source_path(package_dir, m).parent, m.rpartition(".")[2]) for m in COMPILED_MODULES}
    if not any(built.values()):
        return "not compiled"
    for m, so in built.items():
        if so is None:
            return f"{m} is not compiled"
        src = source_path(package_dir, m)
        if src.exists() and src.stat().st_mtime > so.stat().st_mtime + SAME_INSTALL_S:
            return f"{m} changed after it was compiled"
    if _built(library_dir, f"{GROUP}__mypyc") is None:
        return f"the shared library {GROUP}__mypyc is missing"
    return None


def leftover_builds(package_dir: Path) -> set[str]:
    """Modules with a compiled file beside their source that the build no longer compiles
    (left by an earlier install that did): Python would import that file first, and it
    asks the shared library for a module it does not hold any more. Only the folders the
    build compiles into are looked at: this runs at every import of a compiled build, and
    walking the whole package cost 3.7 ms, this about a tenth."""
    out = set()
    for folder in {source_path(package_dir, m).parent for m in COMPILED_MODULES}:
        prefix = folder.relative_to(package_dir).parts
        for name in os.listdir(folder):
            suffix = next((x for x in importlib.machinery.EXTENSION_SUFFIXES if name.endswith(x)), None)
            if suffix is None:
                continue
            module = ".".join((*prefix, name[: -len(suffix)]))
            if module not in COMPILED_MODULES and source_path(package_dir, module).exists():
                out.add(module)
    return out


class _FromSource(importlib.abc.MetaPathFinder):
    """Finds these modules as source, ahead of their compiled files."""

    def __init__(self, package: str, package_dir: Path, modules: Iterable[str] = COMPILED_MODULES) -> None:
        self.prefix = package + "."
        self.package_dir = package_dir
        self.modules = frozenset(modules)

    def find_spec(self, fullname, path=None, target=None):
        module = fullname[len(self.prefix):] if fullname.startswith(self.prefix) else None
        if module in self.modules:
            return importlib.util.spec_from_file_location(fullname, source_path(self.package_dir, module))
        return None


def choose_build(package: str, package_dir: Path) -> str:
    """"compiled", or "source (<why>)" after making every compiled module load from source.
    Called by the package's `__init__`, before any of them is imported."""
    forced = bool(os.environ.get("OMNIHUB_PURE_PYTHON"))
    why = "OMNIHUB_PURE_PYTHON is set" if forced else why_not_compiled(package_dir, package_dir.parent)
    if why is None:
        leftovers = leftover_builds(package_dir)
        if leftovers:
            sys.meta_path.insert(0, _FromSource(package, package_dir, leftovers))
        return "compiled"
    if not forced and why != "not compiled":  # a partial or stale build: say so, it costs speed
        warnings.warn(f"omnihub's compiled build is not used ({why}); running from source. "
                      "`pip install -e .` compiles it again.", RuntimeWarning, stacklevel=3)
    if not any(isinstance(f, _FromSource) for f in sys.meta_path):
        sys.meta_path.insert(0, _FromSource(package, package_dir))
    return f"source ({why})"
