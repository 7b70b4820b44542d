"""`omnihub demo`: the whole thing on one laptop in one command.

Starts the Shopify and Amazon sandboxes on loopback, the hub's API and worker on the
embedded default (SQLite), connects both channels the way an operator would (credentials
in the encrypted vault; the shop's catalog, locations and opening stock imported; the
seller's Amazon listings imported, those the hub lacks created in its catalog; the
warehouse feeding Amazon and the stores feeding Shopify; webhooks subscribed), prints
where to look, and runs until SIGINT (Ctrl-C) or SIGTERM. Everything meets over HTTP, as
in production.

State. The hub's database, both sandboxes' files and the key of the credential vault
live in the state directory (`var/demo` by default) and are kept between starts: a demo
started again reconnects to its sandboxes (at the ports it used, unless told others),
keeps its orders and stock, and imports nothing twice. `--fresh` starts from nothing.

Shoppers. `--traffic R` sends shoppers at R orders a second (Shopify online, Shopify POS
and Amazon, a third each by default) through the sandboxes' control planes, with the
traffic generator of `omnihub sandbox traffic`. With `--run-for S` they stop after S
seconds, the demo lets sync settle (every sandbox order in the hub, the inbox empty,
every push acknowledged; bounded by `--settle-s`), stops, and `--report FILE` writes what
happened (demo_report.py).

The demo plays the world as well as the operator: it reads the sandboxes' control planes
to know which Shopify location is a warehouse (the Admin API does not say) and how many
units are on the warehouse's shelf (to give the Amazon sandbox the seller's shelf, so
that it can count what Amazon sells beyond it). The hub reads neither: it knows only
what the channels' APIs answer.
"""

from __future__ import annotations

import asyncio
import json
import os
import signal
import threading
import time
from collections.abc import Callable
from functools import partial
from pathlib import Path
from typing import TYPE_CHECKING, Annotated, Any, Optional

import httpx
import typer
from rich.console import Console
from rich.table import Table

if TYPE_CHECKING:
    from omnihub.adapters.channels.connectors import AmazonConnector, ShopifyConnector
    from omnihub.entrypoints.worker import Worker
    from omnihub.hub import Hub

console = Console()
WEBHOOK_TOPICS = ("ORDERS_CREATE", "ORDERS_UPDATED", "ORDERS_CANCELLED", "ORDERS_EDITED", "INVENTORY_LEVELS_UPDATE")
DEFAULT_PORTS = {"api": 8000, "shopify": 8701, "amazon": 8702}
STATE_FILE = "demo.json"  # ports, and whether the channels were connected
KEY_FILE = "vault.key"  # the credential vault's key, when the settings give none
CREDENTIALS_FILE = "credentials.json"  # the demo's admin (e-mail, password) and API token, readable by the user only
DEMO_ADMIN = "admin@demo.omnihub.local"
WEBHOOKS = """query { webhookSubscriptions(first: 100) { nodes { id topic uri } } }"""
UNSUBSCRIBE = """mutation Unsubscribe($id: ID!) { webhookSubscriptionDelete(id: $id) {
  deletedWebhookSubscriptionId userErrors { field message } } }"""


def demo(
    state_dir: Annotated[Path, typer.Option(help="hub database, sandbox state and vault key (kept between starts)")]
    = Path("var/demo"),
    fresh: Annotated[bool, typer.Option("--fresh", help="forget the state directory and start from nothing")] = False,
    api_port: Annotated[Optional[int], typer.Option(min=1, max=65535, help="default: the last run's, else 8000")] = None,
    shopify_port: Annotated[Optional[int], typer.Option(min=1, max=65535, help="default: the last run's, else 8701")] = None,
    amazon_port: Annotated[Optional[int], typer.Option(min=1, max=65535, help="default: the last run's, else 8702")] = None,
    products: Annotated[int, typer.Option(min=1, max=1000, help="Shopify products (at the first start)")] = 10,
    fulfilments_s: Annotated[float, typer.Option(min=5, help="fulfilment batch period (seeds: 1800)")] = 60,
    run_for: Annotated[float, typer.Option(min=0, help="stop after this many seconds (0: until SIGINT/SIGTERM)")] = 0,
    traffic: Annotated[float, typer.Option(min=0, max=1000, help="shoppers' orders per second, all channels (0: none)")]
    = 0,
    amazon_share: Annotated[float, typer.Option(min=0, max=1, help="share of the orders placed on Amazon")] = 1 / 3,
    pos_share: Annotated[float, typer.Option(min=0, max=1, help="share of the Shopify orders rung up at a POS")] = 0.5,
    report: Annotated[Optional[Path], typer.Option(help="write a JSON report here when the demo stops")] = None,
    settle_s: Annotated[float, typer.Option(min=0, help="after the shoppers, wait at most this long for sync")] = 120,
    amazon_rate_multiplier: Annotated[float, typer.Option(
        min=1, help="the seller's SP-API usage plans, times the published ones (Amazon raises them for busy "
                    "sellers; at 1, getOrder's 0.5/s keeps up with one Amazon order every 4 s)")] = 10,
    seed: Annotated[int, typer.Option(help="seed of the shoppers")] = 7,
) -> None:
    """Sandboxes + hub API + worker on SQLite, channels connected; state kept between starts."""
    import shutil

    from omnihub.entrypoints.cli.which_hub import record_demo
    from omnihub.logs import configure_logging

    from omnihub.settings import get_settings

    # Warnings only, so the demo's table stays readable, unless the settings ask for a level
    # (OMNIHUB_LOG_LEVEL=DEBUG: what tests/sync/test_demo_secrets.py searches for secrets).
    settings = get_settings()
    configure_logging(settings.log_level if "log_level" in settings.model_fields_set else "WARNING", settings.log_json)
    if fresh:
        shutil.rmtree(state_dir, ignore_errors=True)
    state = _load_state(state_dir)
    if state.get("connected") is not True and (state_dir / "omnihub.db").exists():
        # A first start that never finished connecting: nothing worth keeping yet.
        console.print(f"[yellow]{state_dir} holds a set-up that did not finish: starting again from nothing[/]")
        shutil.rmtree(state_dir, ignore_errors=True)
        state = {}
    ports = {name: given or state.get("ports", {}).get(name) or DEFAULT_PORTS[name]
             for name, given in (("api", api_port), ("shopify", shopify_port), ("amazon", amazon_port))}
    if len(set(ports.values())) != 3:
        raise typer.BadParameter("the API, Shopify and Amazon need three different ports")
    state_dir.mkdir(parents=True, exist_ok=True)
    stop = threading.Event()
    previous = {sig: signal.signal(sig, lambda *_: stop.set()) for sig in (signal.SIGINT, signal.SIGTERM)}
    try:
        world = _DemoWorld(state_dir, ports, products=products, amazon_rate_multiplier=amazon_rate_multiplier,
                           fulfilments_s=fulfilments_s)
        try:
            with console.status("starting the sandboxes and the hub"):
                world.start()
            if state.get("connected"):
                with console.status("reconnecting to the sandboxes"):
                    world.reconnect()
                console.print(f"restarted from {state_dir.resolve()}: {world.order_count()} orders kept")
            else:
                with console.status("connecting Shopify and Amazon (catalogs, locations, opening stock)"):
                    world.connect()
            _save_state(state_dir, {"ports": ports, "connected": True})
            world.credentials = _credentials(world.hub, state_dir)
            world.worker.start()
            if state.get("connected"):
                world.catch_up()
            record_demo(database_url=world.settings.database_url, api_url=world.api, state_dir=state_dir)
            with console.status("first pushes to the channels"):
                world.wait_synced(60, stop)
            _print_where(world, state_dir, fulfilments_s)
            shoppers = _run(world, stop, run_for=run_for, traffic=traffic, pos_share=pos_share,
                            amazon_share=amazon_share, seed=seed)
            settled = False
            if run_for and not stop.is_set() and (traffic or report):
                settled = _settle(world, stop, settle_s)
            if report:
                from omnihub.entrypoints.cli.demo_report import collect

                result = collect(shop=world.shop, amazon=world.amazon, hub=world.hub, lags=world.lags,
                                 traffic=shoppers, settled=settled,
                                 extra={"run_for_s": run_for, "traffic_orders_per_s": traffic,
                                        "state_dir": str(state_dir.resolve()), "restarted": bool(state.get("connected"))})
                text = json.dumps(result, indent=2)
                report.write_text(text + "\n")
                console.print_json(text)
        finally:
            _restore(previous)  # a second Ctrl-C or SIGTERM while stopping is the user insisting
            console.print("stopping the worker, the API and the sandboxes...")
            world.stop()
    finally:
        _restore(previous)


def _restore(handlers: dict) -> None:
    for sig, handler in handlers.items():
        signal.signal(sig, handler)


# -- the world -----------------------------------------------------------------------------
class _DemoWorld:
    """The hub, its API and worker, and the two sandboxes, in this process."""

    _hub: Hub | None = None  # made by start()
    _worker: Worker | None = None
    #: how many of the shop's SKUs the seller also lists on Amazon (None: all). The hub
    #: learns Amazon listings through searchListingsItems, which Amazon lets page through
    #: 1,000 listings at most: a larger world keeps its Amazon catalog under that.
    amazon_listings: int | None = None

    @property
    def hub(self) -> Hub:
        if self._hub is None:
            raise RuntimeError("the demo's hub is not started")
        return self._hub

    @property
    def worker(self) -> Worker:
        if self._worker is None:
            raise RuntimeError("the demo's worker is not started")
        return self._worker

    @property
    def shopify_connector(self) -> ShopifyConnector:
        """The worker's, from the vault start() filled."""
        if self.worker.shopify is None:
            raise RuntimeError("the demo's worker has no Shopify connector")
        return self.worker.shopify

    @property
    def amazon_connector(self) -> AmazonConnector:
        if self.worker.amazon is None:
            raise RuntimeError("the demo's worker has no Amazon connector")
        return self.worker.amazon

    def __init__(self, state_dir: Path, ports: dict[str, int], *, products: int, amazon_rate_multiplier: float,
                 fulfilments_s: float) -> None:
        from omnihub.benchmarks.sync import AckLags
        from omnihub.settings import get_settings

        self.state_dir = state_dir
        self.host = "127.0.0.1"
        self.api = f"http://{self.host}:{ports['api']}"
        self.shop = f"http://{self.host}:{ports['shopify']}"
        self.amazon = f"http://{self.host}:{ports['amazon']}"
        self.ports = ports
        self.products = products
        self.amazon_rate_multiplier = amazon_rate_multiplier
        self.fulfilments_s = fulfilments_s
        base = get_settings()
        self.settings = base.model_copy(update={"database_url": f"sqlite:///{(state_dir / 'omnihub.db').resolve()}",
                                                "secret_key": base.secret_key or _vault_key(state_dir),
                                                # plain http on 127.0.0.1: the console's cookie without Secure
                                                # (still Secure under any other Host, session_cookie.py)
                                                "session_cookie_secure": False})
        self.servers: list = []
        self.lags = AckLags()
        self.skus = 0
        self.credentials: dict = {}

    def start(self) -> None:
        from omnihub.entrypoints.api.app import create_app
        from omnihub.hub import Hub
        from omnihub_sandbox.amazon.app import create_app as create_amazon
        from omnihub_sandbox.amazon.config import AmazonSandboxConfig
        from omnihub_sandbox.serving import start_server
        from omnihub_sandbox.shopify.app import create_app as create_shopify
        from omnihub_sandbox.shopify.config import ShopifySandboxConfig

        self._hub = Hub.open(self.settings, relay=False)
        # The sandboxes' catalogs are seeded at their first start only; later starts carry on.
        self.shop_cfg = ShopifySandboxConfig(state_path=self.state_dir / "shopify.sqlite3", plan="plus",
                                             catalog_products=self.products, catalog_stores=2, catalog_warehouses=1)
        self.amazon_cfg = AmazonSandboxConfig(state_path=self.state_dir / "amazon.sqlite3",
                                              notification_destination=self.api + "/webhooks/amazon",
                                              rate_multiplier=self.amazon_rate_multiplier)
        for app, port in ((create_shopify(self.shop_cfg), self.ports["shopify"]),
                          (create_amazon(self.amazon_cfg), self.ports["amazon"]),
                          (create_app(self.settings, hub=self.hub), self.ports["api"])):
            self.servers.append(start_server(app, self.host, port))  # the hub's API served the same way
        self.open_channels()
        self.hub.sync.ack_listeners.append(self.lags.ack)

    def open_channels(self) -> None:
        """What an operator types once (`omnihub channels connect-*`), again at each start
        (the sandboxes may listen on other ports than last time); then the worker, built
        from the vault, holds the connectors."""
        from omnihub.entrypoints.worker import Schedules, Worker

        self.hub.vault.put("shopify", {"shop_url": self.shop, "access_token": self.shop_cfg.access_tokens[0],
                                       "client_secret": self.shop_cfg.client_secret, "plan": "plus",
                                       # its webhooks say they are from this shop (X-Shopify-Shop-Domain)
                                       "shop_domain": self.shop_cfg.shop_domain})
        a = self.amazon_cfg
        self.hub.vault.put("amazon_seller", {"endpoint": self.amazon, "lwa_url": self.amazon + "/auth/o2/token",
                                             "client_id": a.lwa_client_id, "client_secret": a.lwa_client_secret,
                                             "refresh_token": a.lwa_refresh_token, "seller_id": a.seller_id,
                                             "marketplace_id": a.marketplace_id,
                                             "notification_secret": a.notification_signing_secret})
        self._worker = Worker.from_vault(self.hub, schedules=Schedules(
            new_orders_s=60, order_updates_s=120, level_snapshot_s=300, amazon_orders_s=60,
            fulfilments_s=self.fulfilments_s))

    def connect(self) -> None:
        """What an operator does once: import the shop, take its levels as opening stock,
        let the warehouse feed Amazon and the stores feed Shopify (each channel's orders
        routed from its own pool; the stores keep their last two units for walk-ins), list
        the shop's SKUs on Amazon, import the seller's Amazon listings, subscribe to webhooks."""
        from omnihub.services.amazon_setup import import_amazon_listings
        from omnihub.services.channel_setup import import_shopify_shop
        from omnihub.services.erp_snapshot import import_snapshot

        hub = self.hub
        summary = import_shopify_shop(hub.catalog, self.shopify_connector.client, channel="shopify")
        lines = ["sku,location,on_hand"] + [f"{s},{c},{q}" for (s, c), q in sorted(summary.levels.items())]
        import_snapshot(hub.writer, "\n".join(lines) + "\n", actor="demo-setup")
        catalog = httpx.get(self.shop + "/_sandbox/catalog", timeout=30).json()  # which location is a warehouse
        kinds = {loc["admin_graphql_api_id"]: loc["kind"] for loc in catalog["locations"]}
        mapped = self._shopify_locations()
        warehouses = [c for c, gid in mapped.items() if kinds.get(gid) == "warehouse"]
        stores = [c for c in mapped if c not in warehouses]
        for code in warehouses:
            hub.catalog.update_location(code, {"groups": ["amazon-pool"]})
        for code in stores:
            hub.catalog.update_location(code, {"groups": ["shopify-pool"]})
            hub.catalog.set_policy(location=code, safety_stock=2)
        hub.catalog.upsert_channel("shopify", name="Shopify", kind="shopify", per_location=True,
                                   feeds={c: "ship" for c in stores})
        hub.catalog.upsert_channel("amazon_seller", name="Amazon", kind="amazon", feeds={w: "ship" for w in warehouses})

        def pool_rule(name: str, channels: list[str], group: str) -> dict:
            return {"name": name, "enabled": True, "order_filter": {"channels": channels},
                    "location_filter": {"groups": [group]}, "sort": ["fewest_shipments", "priority"],
                    "split": {"mode": "split", "max_shipments": 3}, "fallback": "queue"}

        hub.rules.save({"rules": [pool_rule("amazon-from-warehouse", ["amazon_seller"], "amazon-pool"),
                                  pool_rule("shopify-from-stores", ["shopify"], "shopify-pool")],
                        "final_fallback": "queue"})
        # The seller lists the shop's SKUs on Amazon too (in Seller Central: the sandbox's
        # control plane), shipped from the warehouse: its shelf is the one Amazon sells from.
        shop_skus = sorted({s for s, _ in summary.levels})[:self.amazon_listings]
        gids = {v["sku"]: v["inventory_item_id"] for v in catalog["variants"]}
        by_code = {code: gid for code, gid in mapped.items()}
        with httpx.Client(timeout=30) as http:
            for sku in shop_skus:
                shelf = sum(http.get(self.shop + "/_sandbox/inventory", params={
                    "inventory_item_id": gids[sku], "location_id": by_code[w]}).json().get("physical_shelf", 0)
                    for w in warehouses)
                http.put(f"{self.amazon}/_sandbox/listings/{sku}", json={"quantity": 0, "shelf": shelf}).raise_for_status()
        # The seller's Amazon catalog, read over the SP-API: its own listings become products
        # of the hub, their Amazon quantity the warehouse's opening stock of them.
        amazon = import_amazon_listings(hub.engine, hub.catalog, self.amazon_connector.client, channel="amazon_seller")
        if amazon.created_levels and warehouses:
            for sku, qty in amazon.created_levels.items():
                hub.sync.observe_level("amazon_seller", sku, "", qty)  # what Amazon shows now
            import_snapshot(hub.writer, "sku,location,on_hand\n" + "".join(
                f"{sku},{warehouses[0]},{qty}\n" for sku, qty in sorted(amazon.created_levels.items())), actor="demo-setup")
        self.skus = len(shop_skus) + amazon.created
        self._subscribe_webhooks()

    def reconnect(self) -> None:
        """A later start: the connection is in the state; only addresses may have moved."""
        self._subscribe_webhooks()
        from omnihub.services.estate_figures import sku_count

        self.skus = sku_count(self.hub.engine)

    def catch_up(self) -> None:
        """Orders taken while the hub was not listening (between two starts) are found by the
        polls; run them now rather than at their first interval."""
        polls: list[Callable[[], object]] = []
        if self.worker.shopify_poller:
            polls.append(partial(self.worker.shopify_poller.poll_orders, field="updated_at"))
        if self.worker.amazon_poller:
            polls.append(self.worker.amazon_poller.poll_orders)
        for poll in polls:
            try:
                poll()
            except Exception as exc:  # the schedules run them again
                console.print(f"[yellow]catching up with the channels' orders: {exc}[/]")

    def _shopify_locations(self) -> dict[str, str]:
        from omnihub.services.estate_figures import channel_location_ids

        return channel_location_ids(self.hub.engine, "shopify")

    def _subscribe_webhooks(self) -> None:
        from omnihub.adapters.channels.shopify import documents as docs

        client = self.shopify_connector.client
        uri = self.api + "/webhooks/shopify"
        for node in client.execute(WEBHOOKS)["webhookSubscriptions"]["nodes"]:
            if node["uri"].endswith("/webhooks/shopify") and node["uri"] != uri:  # a former start's address
                client.execute(UNSUBSCRIBE, {"id": node["id"]})
        for topic in WEBHOOK_TOPICS:
            data = client.execute(docs.WEBHOOK_SUBSCRIBE, {"topic": topic, "uri": uri})
            errors = data["webhookSubscriptionCreate"]["userErrors"]
            if errors and not all("already been taken" in e["message"] for e in errors):
                raise RuntimeError(f"Shopify refused the {topic} webhook: {errors}")

    def order_count(self) -> int:
        from omnihub.services.estate_figures import order_count

        return order_count(self.hub.engine)

    def alive(self) -> bool:
        return all(s.alive() for s in self.servers)

    def wait_synced(self, timeout: float, stop: threading.Event) -> bool:
        """Until every channel shows the hub's figures (nothing left to push), bounded."""
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline and not stop.is_set():
            if self.hub.sync.idle():
                return True
            time.sleep(0.2)
        return False

    def stop(self) -> None:
        if self._worker:
            self._worker.stop()
        for s in reversed(self.servers):  # the API first, then the sandboxes (which close their files)
            s.stop()
        if self._hub:
            self._hub.close()


# -- shoppers and settling -----------------------------------------------------------------
class _Shoppers:
    """`omnihub sandbox traffic`'s driver in a thread of its own, stoppable."""

    def __init__(self, world: _DemoWorld, *, orders_per_s: float, duration: float, pos_share: float,
                 amazon_share: float, seed: int) -> None:
        from omnihub_sandbox.cli import TrafficRun

        self.run = TrafficRun()
        self.done = 0.0
        self.error: Exception | None = None
        self._loop: asyncio.AbstractEventLoop | None = None
        self._task: asyncio.Task | None = None
        self._args: dict[str, Any] = dict(shopify_url=world.shop, orders_per_s=orders_per_s, duration=duration, pos_share=pos_share,
                          amazon_url=world.amazon, amazon_share=amazon_share, seed=seed)
        self.thread = threading.Thread(target=self._main, name="demo-shoppers", daemon=True)

    def _main(self) -> None:
        from omnihub_sandbox.cli import drive_traffic

        async def go() -> None:
            self._task = asyncio.current_task()
            await drive_traffic(**self._args, run=self.run, on_progress=lambda done: setattr(self, "done", done))

        self._loop = asyncio.new_event_loop()
        try:
            self._loop.run_until_complete(go())
        except asyncio.CancelledError:
            pass
        except Exception as exc:  # shown, not fatal: the hub is what the demo is about
            self.error = exc
        finally:
            self._loop.close()

    def start(self) -> None:
        self.thread.start()

    def cancel(self) -> None:
        loop, task = self._loop, self._task
        if loop is not None and task is not None:
            try:
                loop.call_soon_threadsafe(task.cancel)
            except RuntimeError:  # the loop already ended
                pass
        self.thread.join(timeout=30)


def _run(world: _DemoWorld, stop: threading.Event, *, run_for: float, traffic: float, pos_share: float,
         amazon_share: float, seed: int) -> _Shoppers | None:
    """Serve (and send shoppers) until stopped or `run_for` seconds have passed."""
    from rich.progress import BarColumn, Progress, TextColumn, TimeRemainingColumn

    shoppers = None
    if traffic:
        world.lags.clear()  # the lag of the shoppers' changes, not of the set-up's pushes
        shoppers = _Shoppers(world, orders_per_s=traffic, duration=run_for or 86_400.0, pos_share=pos_share,
                             amazon_share=amazon_share, seed=seed)
        shoppers.start()
    deadline = time.monotonic() + run_for if run_for else float("inf")
    progress = Progress(TextColumn("[bold]shoppers"), BarColumn(), TextColumn("{task.percentage:>3.0f}%"),
                        TextColumn("{task.fields[orders]} orders in the hub"), TimeRemainingColumn(),
                        console=console, transient=True) if shoppers and run_for else None
    try:
        if progress:
            progress.start()
            task = progress.add_task("shoppers", total=100, orders=0)
        ticks = 0
        while not stop.is_set() and world.alive() and time.monotonic() < deadline:
            if shoppers and run_for and not shoppers.thread.is_alive():
                break  # the shoppers are done (their last orders placed)
            stop.wait(0.2)
            ticks += 1
            if progress and shoppers and ticks % 5 == 0:
                progress.update(task, completed=shoppers.done * 100, orders=world.order_count())
    finally:
        if progress:
            progress.stop()
    if shoppers:
        if stop.is_set() or not run_for:
            shoppers.cancel()
        else:
            shoppers.thread.join(timeout=60)  # their last orders are in flight
        if shoppers.error:
            console.print(f"[yellow]the shoppers stopped: {shoppers.error}[/]")
        from omnihub_sandbox.cli import print_traffic_summary

        print_traffic_summary(shoppers.run)
    return shoppers


def _settle(world: _DemoWorld, stop: threading.Event, timeout: float) -> bool:
    """Until every sandbox order is in the hub, the inbox is empty and every push is
    acknowledged, or `timeout` seconds; True if it settled."""
    from omnihub.entrypoints.cli.demo_report import hub_backlog, missing_in_hub

    deadline = time.monotonic() + timeout
    with console.status("letting sync settle") as status:
        while time.monotonic() < deadline and not stop.is_set():
            try:
                httpx.post(world.shop + "/_sandbox/webhooks/wait-idle", params={"timeout": 1}, timeout=10)
                missing = missing_in_hub(world.shop, world.amazon, world.hub.engine)
            except httpx.HTTPError:
                missing = -1
            backlog = hub_backlog(world.hub.engine)
            idle = world.hub.sync.idle()
            if missing == 0 and backlog["inbox_pending"] == 0 and idle:
                return True
            status.update(f"letting sync settle: {missing} orders not yet in the hub, {backlog['inbox_pending']} "
                          f"deliveries in the inbox, pushes {'done' if idle else 'pending'}")
            stop.wait(0.5)
    return False


# -- state ---------------------------------------------------------------------------------
def _load_state(state_dir: Path) -> dict:
    try:
        return json.loads((state_dir / STATE_FILE).read_text())
    except (OSError, ValueError):
        return {}


def _save_state(state_dir: Path, state: dict) -> None:
    tmp = state_dir / (STATE_FILE + ".tmp")
    tmp.write_text(json.dumps(state, indent=2) + "\n")
    tmp.replace(state_dir / STATE_FILE)


def _vault_key(state_dir: Path) -> str:
    """The credential vault's key, kept beside the database it opens (only readable by
    the user): the next start must decrypt what this one stored."""
    from cryptography.fernet import Fernet

    path = state_dir / KEY_FILE
    if path.exists():
        return path.read_text().strip()
    state_dir.mkdir(parents=True, exist_ok=True)
    key = Fernet.generate_key().decode()
    fd = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600)
    with os.fdopen(fd, "w") as f:
        f.write(key + "\n")
    return key


def _credentials(hub, state_dir: Path) -> dict:
    """The demo's admin and API token: made at the first start (a fresh hub has no
    anonymous mode), kept beside the database in a file only the user can read, so each
    start can say them again."""
    import secrets as random

    path = state_dir / CREDENTIALS_FILE
    try:
        creds = json.loads(path.read_text())
        if hub.tokens.verify(creds["token"]) is not None:
            return creds
    except (OSError, ValueError, KeyError, TypeError):
        pass
    from omnihub.services.users import UserError

    password = random.token_urlsafe(12)
    try:
        hub.users.add(DEMO_ADMIN, password, name="demo admin", role="admin")
    except UserError:  # made by an earlier start whose file is gone: a new password
        hub.users.set_password(DEMO_ADMIN, password)
    token = hub.tokens.create("demo", "admin", created_by="local_admin:demo:demo").token
    creds = {"email": DEMO_ADMIN, "password": password, "token": token}
    path.unlink(missing_ok=True)
    fd = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600)
    with os.fdopen(fd, "w") as f:
        f.write(json.dumps(creds, indent=2) + "\n")
    return creds


def _print_where(world: _DemoWorld, state_dir: Path, fulfilments_s: float) -> None:
    api, shop, amazon = world.api, world.shop, world.amazon
    creds = world.credentials
    auth = f"-H 'Authorization: Bearer {creds['token']}'"
    table = Table(title=f"omnihub demo: {world.skus} SKUs, Shopify (online + POS) and Amazon connected", show_lines=True)
    table.add_column("what", style="bold")
    table.add_column("where", overflow="fold")
    for what, where in [
        ("hub API (docs)", f"{api}/api/v1/docs"),
        ("admin and API token", f"below; kept in {(state_dir / CREDENTIALS_FILE).resolve()}"),
        ("what Amazon may sell", f"curl -s {auth} '{api}/api/v1/channels/amazon_seller/availability?sku=<SKU>'"),
        ("orders in the hub", f"curl -s {auth} {api}/api/v1/orders"),
        ("refused / failed deliveries", f"curl -s {auth} {api}/api/v1/sync/inbox/failures  "
                                        "or: omnihub sync inbox-failures"),
        ("metrics", f"curl -s {auth} {api}/metrics"),
        ("Shopify admin GraphQL", f"{shop}/admin/api/2026-10/graphql.json (token {world.shop_cfg.access_tokens[0]})"),
        ("Shopify control plane", f"{shop}/docs"),
        ("Amazon SP-API / control plane", f"{amazon}  /  {amazon}/docs"),
        ("send shoppers", f"omnihub sandbox traffic --shopify-url {shop} --amazon-url {amazon} --amazon-share 0.3"
                          " --orders-per-s 2 --duration 60"),
        ("fulfilments to channels", f"every {fulfilments_s:g} s, or: omnihub sync fulfilments "
                                    f"--database-url {world.settings.database_url}"),
        ("state (kept; --fresh forgets it)", str(state_dir.resolve())),
    ]:
        table.add_row(what, where)
    console.print(table)
    # Plain lines, never folded by the table: what a user copies.
    typer.echo(f"sign in (admin): {creds['email']}  password: {creds['password']}")
    typer.echo(f"API token (admin): {creds['token']}")
    console.print("[dim]Ctrl-C (or SIGTERM) stops the worker, the API and the sandboxes; "
                  "the next `omnihub demo` carries on from the state.[/dim]")
