"""omnihub: the omnichannel order and inventory hub.

`CORE_BUILD` says which build of the hot path runs: "compiled" (mypyc) or "source (why)";
see compiled_build. It is decided here, before any module of it is imported.
"""

from pathlib import Path

from omnihub.compiled_build import choose_build

__version__ = "0.1.0"
CORE_BUILD = choose_build(__name__, Path(__file__).resolve().parent)
