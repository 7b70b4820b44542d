"""Shoppers along the day's demand curve: each simulated hour, `omnihub sandbox traffic`'s
driver (online, POS and Amazon buyers over the simulators' control planes) at that hour's
rate for that hour's real seconds, in a thread with its own event loop."""

from __future__ import annotations

import asyncio
import threading

from omnihub.entrypoints.chaos.demand import hourly_rates


class CurveShoppers:
    def __init__(self, shop: str, amazon: str, *, hours: int, hour_s: float, peak_orders_per_s: float, seed: int,
                 amazon_share: float = 1 / 3, pos_share: float = 0.5) -> None:
        self.shop, self.amazon = shop, amazon
        self.rates = hourly_rates(hours, peak_orders_per_s)
        self.hour_s = hour_s
        self.seed = seed
        self.amazon_share, self.pos_share = amazon_share, pos_share
        self.placed: list[dict] = []  # per hour: what the driver counted
        self.error: Exception | None = None
        self._stop = threading.Event()
        self.thread = threading.Thread(target=self._main, name="chaos-shoppers", daemon=True)

    def _main(self) -> None:
        from omnihub_sandbox.cli import drive_traffic

        try:
            for hour, rate in enumerate(self.rates):
                if self._stop.is_set():
                    return
                run = asyncio.run(drive_traffic(self.shop, orders_per_s=rate, duration=self.hour_s,
                                                pos_share=self.pos_share, amazon_url=self.amazon,
                                                amazon_share=self.amazon_share, seed=self.seed * 1000 + hour))
                s = run.shopper.summary if run.shopper else None
                self.placed.append({"hour": hour, "rate_per_s": round(rate, 3),
                                    "shopify_online": s.online_placed if s else 0,
                                    "shopify_pos": s.pos_placed if s else 0, "amazon": run.amazon["placed"],
                                    "sold_out": (s.online_refused + s.pos_refused if s else 0) + run.amazon["refused"]})
        except Exception as exc:  # reported; the day still settles and counts
            self.error = exc

    def start(self) -> None:
        self.thread.start()

    def stop(self) -> None:
        self._stop.set()
        self.thread.join(self.hour_s + 60)
