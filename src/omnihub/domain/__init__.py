"""The domain core: pure rules of stock, ATP, orders and routing (no I/O).

`CORE_BUILD` says which build runs: "compiled" (mypyc) or "source (why)"; see compiled_core.
"""

from pathlib import Path

from omnihub.domain.compiled_core import choose_build

CORE_BUILD = choose_build(__name__, Path(__file__).resolve().parent)
