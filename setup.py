"""Build: the domain core (routing, ATP, the ledger's fold, the channel projection, the
order model) is compiled with mypyc when a C compiler is at hand.

These modules run once per order line and per location on the writer's hot path; compiled,
the same source runs the full order path about a fifth faster (README, Benchmarks). The
build stays optional: without a compiler, or with OMNIHUB_PURE_PYTHON=1 set, omnihub
installs and runs as plain Python, and `omnihub.domain` loads its source whenever the
compiled build is missing, incomplete or older than the source (see its docstring).
Everything else is declared in pyproject.toml.
"""

import os
import sys

from setuptools import setup
from setuptools.command.build_ext import build_ext

sys.path.insert(0, os.path.join(os.path.dirname(os.path.abspath(__file__)), "src"))
from omnihub.domain.compiled_core import COMPILED_MODULES, GROUP  # noqa: E402  (stdlib only)


def core_extensions() -> list:
    if os.environ.get("OMNIHUB_PURE_PYTHON"):
        return []
    try:
        from mypyc.build import mypycify
    except ImportError:
        print("omnihub: mypyc not available; the domain core stays pure Python", file=sys.stderr)
        return []
    try:  # mypyc type-checks first and exits on an error: that leaves the core as source
        return mypycify([f"src/omnihub/domain/{m}.py" for m in COMPILED_MODULES], group_name=GROUP, opt_level="3")
    except (Exception, SystemExit) as exc:
        print(f"omnihub: mypyc refused the domain core ({exc!r}); it stays pure Python", file=sys.stderr)
        return []


class OptionalBuildExt(build_ext):
    """A failed compile leaves a pure-Python install, never a failed one."""

    def run(self) -> None:
        try:
            super().run()
        except Exception as exc:  # no compiler, no headers...
            print(f"omnihub: compiling the domain core failed ({exc}); it stays pure Python", file=sys.stderr)


setup(ext_modules=core_extensions(), cmdclass={"build_ext": OptionalBuildExt})
