"""Which build of the domain core runs: the one compiled by mypyc (setup.py) or the source.

Compiled modules of one build call each other inside a shared library, past Python's
imports, so the two are never mixed: the compiled build is used only when every module of
it is there and none of its sources changed after it was built; otherwise every module of
the core loads from source. A developer who edits `routing.py` thus runs the edit at once
(as fast as before compiling, until `pip install -e .` builds again), never a stale
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
from pathlib import Path

COMPILED_MODULES = (
    "atp", "catalog", "channel_projection", "ledger", "order_states", "orders", "routing", "routing_rules",
    "stock_commands",
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


def why_not_compiled(package_dir: Path, library_dir: Path) -> str | None:
    """None when the compiled build can run, else the reason it cannot."""
    built = {m: _built(package_dir, m) for m in COMPILED_MODULES}
    if not any(built.values()):
        return "not compiled"
    for m, so in built.items():
        if so is None:
            return f"{m} is not compiled"
        src = package_dir / f"{m}.py"
        if src.exists() and src.stat().st_mtime > so.stat().st_mtime + SAME_INSTALL_S:
            return f"{m}.py changed after it was compiled"
    if _built(library_dir, f"{GROUP}__mypyc") is None:
        return f"the shared library {GROUP}__mypyc is missing"
    return None


class _FromSource(importlib.abc.MetaPathFinder):
    """Finds the core's modules as source, ahead of their compiled files."""

    def __init__(self, package: str, package_dir: Path) -> None:
        self.prefix = package + "."
        self.package_dir = package_dir

    def find_spec(self, fullname, path=None, target=None):
        if fullname.startswith(self.prefix) and fullname[len(self.prefix):] in COMPILED_MODULES:
            return importlib.util.spec_from_file_location(fullname, self.package_dir / f"{fullname[len(self.prefix):]}.py")
        return None


def choose_build(package: str, package_dir: Path) -> str:
    """"compiled", or "source (<why>)" after making every core module load from source."""
    forced = bool(os.environ.get("OMNIHUB_PURE_PYTHON"))
    why = "OMNIHUB_PURE_PYTHON is set" if forced else why_not_compiled(package_dir, package_dir.parent.parent)
    if why is None:
        return "compiled"
    if not forced and why != "not compiled":  # a partial or stale build: say so, it costs speed
        warnings.warn(f"omnihub's compiled domain core is not used ({why}); running it from source. "
                      "`pip install -e .` compiles it again.", RuntimeWarning, stacklevel=3)
    if not any(isinstance(f, _FromSource) for f in sys.meta_path):
        sys.meta_path.insert(0, _FromSource(package, package_dir))
    return f"source ({why})"
