"""`bench orders|ledger --with-token --rounds N`: the benchmark without and with a token,
side by side in one run.

What a token costs is a few per cent at most, and this machine drifts more than that
from one minute to the next, so two runs compared across minutes compare the machine.
Here the two run alternately, A B B A A B ..., so a drift in time weighs on both alike;
each run is a fresh scratch database seeded the same way. The report gives every run,
each side's figures, and the ratio with / without per round (neighbours in time) and of
the means.
"""

from __future__ import annotations

from collections.abc import Callable
from statistics import mean
from typing import Any

#: the figure compared, per benchmark: the one the token's checks stand in front of
FIGURE = {"orders": "orders_per_s", "ledger": "movements_per_s"}


def token_sequence(rounds: int) -> list[bool]:
    """with_token for each run: without first, then each round mirrors the last (ABBA...)."""
    out: list[bool] = []
    for r in range(rounds):
        out.extend((False, True) if r % 2 == 0 else (True, False))
    return out


def compare_token(run: Callable[..., dict], backend: str, *, rounds: int = 2, **options: Any) -> dict:
    """Run `run(backend, with_token=..., **options)` without and with a token, in turn."""
    if rounds < 1:
        raise ValueError("rounds must be at least 1")
    runs: list[dict] = []
    for i, with_token in enumerate(token_sequence(rounds)):
        result = run(backend, with_token=with_token, **options)
        result["round"] = i // 2 + 1
        runs.append(result)
    figure = FIGURE[runs[0]["benchmark"]]
    sides: dict[str, dict] = {}
    for name, flag in (("without_token", False), ("with_token", True)):
        mine = [x for x in runs if x["with_token"] is flag]
        sides[name] = {
            figure: [x[figure] for x in mine],
            f"{figure}_mean": round(mean(x[figure] for x in mine)),
            "p99_ms": [x["p99_ms"] for x in mine],
        }
        if "cpu_us_per_order" in mine[0]:
            sides[name]["cpu_us_per_order"] = [x["cpu_us_per_order"] for x in mine]
    per_round = []
    for r in range(1, rounds + 1):
        pair = {x["with_token"]: x[figure] for x in runs if x["round"] == r}
        per_round.append(round(pair[True] / pair[False], 3))
    with_mean, without_mean = sides["with_token"][f"{figure}_mean"], sides["without_token"][f"{figure}_mean"]
    return {
        "benchmark": runs[0]["benchmark"],
        "compared": "with_token",
        "backend": backend,
        "figure": figure,
        "sequence": ["with" if x["with_token"] else "without" for x in runs],
        "rounds": rounds,
        **sides,
        "ratio_with_to_without": {"per_round": per_round, "of_means": round(with_mean / without_mean, 3)},
        "resolver": next((x["resolver"] for x in runs if x.get("resolver")), None),
        "peak_rss_mb": max(x["peak_rss_mb"] for x in runs),
        "core_build": runs[0]["core_build"],
        "runs": runs,
    }
