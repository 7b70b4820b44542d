"""Build: the hot path (the domain core, and the order pipeline, stock store and SQL
helpers around it: `omnihub.compiled_build.COMPILED_MODULES`) is compiled with mypyc when a
C compiler is at hand.

These modules run once per order, order line and location inside the writer's
transaction; compiled, the same source runs the full order path faster (README,
Benchmarks). The build stays optional: without a compiler, or with OMNIHUB_PURE_PYTHON=1
set, omnihub installs and runs as plain Python, and `omnihub` loads the source whenever
the compiled build is missing, incomplete or older than the source (see compiled_build).
Everything else is declared in pyproject.toml.
"""

import os
import sys
from pathlib import Path

from setuptools import setup
from setuptools.command.build_ext import build_ext

sys.path.insert(0, os.path.join(os.path.dirname(os.path.abspath(__file__)), "src"))
from omnihub.compiled_build import COMPILED_MODULES, GROUP, source_path  # noqa: E402  (stdlib only)


def core_extensions() -> list:
    if os.environ.get("OMNIHUB_PURE_PYTHON"):
        return []
    try:
        from mypyc.build import mypycify
    except ImportError:
        print("omnihub: mypyc not available; omnihub stays pure Python", file=sys.stderr)
        return []
    try:  # mypyc type-checks first and exits on an error: that leaves the core as source
        package = os.path.join("src", "omnihub")
        # `--config-file ""`: the compile checks types as mypy does by default, not with the
        # project's lint settings ([tool.mypy]: its plugin is not in the build's environment,
        # and a lint warning such as an unused ignore must not cost the compiled build).
        sources = [str(source_path(Path(package), m)) for m in COMPILED_MODULES]
        return mypycify(["--config-file", "", *sources], group_name=GROUP, opt_level="3")
    except (Exception, SystemExit) as exc:
        print(f"omnihub: mypyc refused the hot path ({exc!r}); omnihub stays pure Python", file=sys.stderr)
        return []


class OptionalBuildExt(build_ext):
    """A failed compile leaves a pure-Python install, never a failed one."""

    def run(self) -> None:
        try:
            super().run()
        except Exception as exc:  # no compiler, no headers...
            print(f"omnihub: compiling the hot path failed ({exc}); omnihub stays pure Python", file=sys.stderr)


setup(ext_modules=core_extensions(), cmdclass={"build_ext": OptionalBuildExt})
