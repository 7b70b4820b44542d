"""The chaos day's world: the demo's wiring (entrypoints/cli/demo.py: vault, shop import,
opening stock, pools, listings, webhooks), with each simulator in a process of its own and
the hub's API (`omnihub serve --workers 2`) and `omnihub worker` as separate programs.

The set-up (connecting the channels, as an operator does once) runs in this process on the
hub's database, then its hub is closed: from then on the day's processes are all there is.
"""

from __future__ import annotations

import os
import socket
import sys
from pathlib import Path

from omnihub.entrypoints.chaos.supervisor import Supervised
from omnihub.entrypoints.cli.demo import _DemoWorld

_CLI = "from omnihub.entrypoints.cli.main import app; app()"


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


class ChaosWorld(_DemoWorld):
    """3 stores and 2 warehouses on Shopify (online + POS), Amazon from the warehouses."""

    amazon_listings = 900  # with the Amazon sandbox's own 50: under searchListingsItems' 1,000

    def __init__(self, state_dir: Path, *, database_url: str, secret_key: str, skus: int, seed: int,
                 amazon_rate_multiplier: float = 10.0, notification_faults: bool = True) -> None:
        ports = {"api": free_port(), "shopify": free_port(), "amazon": free_port()}
        super().__init__(state_dir, ports, products=skus, amazon_rate_multiplier=amazon_rate_multiplier,
                         fulfilments_s=60)
        self.settings = self.settings.model_copy(update={"database_url": database_url, "secret_key": secret_key})
        self.seed = seed
        # Amazon's notifications are lost and doubled as Shopify's webhooks are (its sandbox
        # decides that per notification at start-up, for the whole run: the hub's order
        # polls are what finds the lost ones)
        self.notification_faults = notification_faults
        self.env = {**os.environ, "OMNIHUB_DATABASE_URL": database_url, "OMNIHUB_SECRET_KEY": secret_key,
                    "OMNIHUB_LOG_LEVEL": "WARNING", "COLUMNS": "200"}
        self.programs: dict[str, Supervised] = {}

    def _program(self, name: str, argv: list[str], health: str | None) -> Supervised:
        p = Supervised(name, argv, self.env, self.state_dir / f"{name}.log", health)
        self.programs[name] = p
        return p

    def start(self) -> None:
        """The simulators in their processes, then the hub opened here for the set-up."""
        from omnihub.hub import Hub
        from omnihub_sandbox.amazon.config import AmazonSandboxConfig
        from omnihub_sandbox.serving import child_command
        from omnihub_sandbox.shopify.config import ShopifySandboxConfig

        self.shop_cfg = ShopifySandboxConfig(state_path=self.state_dir / "shopify.sqlite3", plan="plus", seed=self.seed,
                                             catalog_products=self.products, catalog_variants_per_product=1,
                                             catalog_stores=3, catalog_warehouses=2, time_scale=0.01)
        self.amazon_cfg = AmazonSandboxConfig(state_path=self.state_dir / "amazon.sqlite3", seed=self.seed,
                                              notification_destination=self.api + "/webhooks/amazon",
                                              rate_multiplier=self.amazon_rate_multiplier,
                                              # the listings report a reconciliation asks for: made within a
                                              # second, as the day's clock is compressed
                                              report_queue_seconds=0.3, report_processing_seconds=0.7,
                                              notification_loss_rate=0.10 if self.notification_faults else 0.0,
                                              notification_duplicate_rate=0.05 if self.notification_faults else 0.0)
        for name, cfg, health in (("shopify", self.shop_cfg, "/_sandbox/health"),
                                  ("amazon", self.amazon_cfg, "/_sandbox/stats")):
            argv = child_command(name, cfg.model_dump(mode="json", exclude_defaults=True), self.ports[name])
            url = self.shop if name == "shopify" else self.amazon
            self._program(name, argv, url + health).start(wait_s=300)
        self._hub = Hub.open(self.settings, relay=False)
        self.open_channels()

    def close_setup(self) -> None:
        """The operator's session ends: the set-up's hub and connectors go away."""
        if self._worker is not None:
            self._worker.stop()
            self._worker = None
        if self._hub is not None:
            self._hub.close()
            self._hub = None

    def start_hub_processes(self, worker_argv: list[str]) -> None:
        api = self._program("api", [sys.executable, "-c", _CLI, "serve", "--host", self.host, "--port",
                                    str(self.ports["api"]), "--workers", "2"], self.api + "/healthz")
        api.start(wait_s=180)
        self._program("worker", [sys.executable, "-c", _CLI, "worker", *worker_argv], None).start()

    def stop(self) -> None:
        self.close_setup()
        for name in ("worker", "api", "amazon", "shopify"):
            if name in self.programs:
                self.programs[name].stop()
