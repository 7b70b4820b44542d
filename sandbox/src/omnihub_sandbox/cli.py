"""``omnihub-sandbox`` (and the hub's ``omnihub sandbox`` alias): run the channel sandboxes
and drive shoppers at them.

- ``up`` starts the Shopify sandbox (and the Amazon Seller, Amazon Vendor and Walmart ones
  unless told not to) on loopback, prints what a user needs to connect (URLs, tokens,
  secrets), and runs until Ctrl-C; ``--vendor-shoppers-per-s`` also sends Amazon's shoppers
  at the vendor's declared stock while it runs.
- ``traffic`` places online orders and POS sales (and Amazon buyer orders, direct-fulfilment
  orders on Vendor Central and Walmart checkouts, if asked) over HTTP at a steady rate, with
  a progress bar and a summary.

Only the sandboxes are imported here: like the hub, this CLI meets them over HTTP.
"""

from __future__ import annotations

import asyncio
import threading
import time
from collections.abc import Callable, Coroutine
from dataclasses import dataclass, field
from pathlib import Path
from typing import TYPE_CHECKING, Annotated, Any, Optional

import httpx
import typer
from rich.console import Console
from rich.table import Table

from omnihub_sandbox.serving import SandboxServer, is_loopback, start_server

if TYPE_CHECKING:
    from omnihub_sandbox.amazon_vendor.shoppers import ShopperCounts
    from omnihub_sandbox.shopify.traffic import ShopperTraffic
    from omnihub_sandbox.walmart.shoppers import ShopperCounts as WalmartCounts

app = typer.Typer(help="Channel sandboxes: simulated Shopify, Amazon and Walmart APIs on loopback.", no_args_is_help=True)
console = Console()


def _loopback(host: str) -> str:
    if is_loopback(host):
        return host
    raise typer.BadParameter("the sandboxes only listen on loopback (127.0.0.1, ::1 or localhost)")


@app.command()
def up(
    shopify_plan: Annotated[str, typer.Option(help="standard | advanced | plus | enterprise")] = "plus",
    seed: Annotated[int, typer.Option(help="seed of catalogs, stock and webhook faults")] = 7,
    host: Annotated[str, typer.Option(callback=_loopback)] = "127.0.0.1",
    shopify_port: Annotated[int, typer.Option(min=1, max=65535)] = 8701,
    amazon_port: Annotated[int, typer.Option(min=1, max=65535)] = 8702,
    state_dir: Annotated[Path, typer.Option(help="where the sandboxes keep their SQLite files")] = Path("var/sandbox"),
    products: Annotated[int, typer.Option(min=1, max=1_000_000)] = 200,
    shopify_bucket_size: Annotated[Optional[float], typer.Option(
        min=1, help="Shopify's leaky bucket in points (default 20 x the plan's restore rate)")] = None,
    stores: Annotated[int, typer.Option(min=0, max=500)] = 4,
    warehouses: Annotated[int, typer.Option(min=0, max=500)] = 2,
    time_scale: Annotated[float, typer.Option(min=0.0001, help="multiplies webhook back-off and delays")] = 1.0,
    webhook_loss: Annotated[float, typer.Option(min=0.0, max=1.0)] = 0.0,
    webhook_duplicates: Annotated[float, typer.Option(min=0.0, max=1.0)] = 0.0,
    webhook_reorder: Annotated[float, typer.Option(min=0.0, max=1.0)] = 0.0,
    compliance_url: Annotated[Optional[str], typer.Option(help="app URL for the privacy webhooks")] = None,
    amazon: Annotated[bool, typer.Option(help="also start the Amazon sandbox when installed")] = True,
    walmart: Annotated[bool, typer.Option(help="also start the Walmart Marketplace sandbox")] = True,
    walmart_port: Annotated[int, typer.Option(min=1, max=65535)] = 8704,
    amazon_vendor: Annotated[bool, typer.Option(help="also start the Amazon Vendor Central sandbox")] = True,
    amazon_vendor_port: Annotated[int, typer.Option(min=1, max=65535)] = 8703,
    vendor_shoppers_per_s: Annotated[float, typer.Option(
        min=0.0, max=1000, help="Amazon shoppers per second buying the vendor's declared stock while up (0: none)")] = 0.0,
) -> None:
    """Start the sandboxes on loopback and keep them running until Ctrl-C."""
    from omnihub_sandbox.shopify.app import create_app as create_shopify_app
    from omnihub_sandbox.shopify.config import Plan, ShopifySandboxConfig, WebhookFaults

    try:
        plan = Plan(shopify_plan)
    except ValueError:
        raise typer.BadParameter("plan must be standard, advanced, plus or enterprise", param_hint="--shopify-plan")
    if shopify_port == amazon_port and amazon:
        raise typer.BadParameter("Shopify and Amazon need different ports", param_hint="--amazon-port")
    if walmart and walmart_port in {shopify_port} | ({amazon_port} if amazon else set()):
        raise typer.BadParameter("the Walmart sandbox needs a port of its own", param_hint="--walmart-port")
    if amazon_vendor and amazon_vendor_port in {shopify_port} | ({amazon_port} if amazon else set()) | (
            {walmart_port} if walmart else set()):
        raise typer.BadParameter("the Vendor sandbox needs a port of its own", param_hint="--amazon-vendor-port")
    if vendor_shoppers_per_s and not amazon_vendor:
        raise typer.BadParameter("vendor shoppers need the Vendor sandbox", param_hint="--vendor-shoppers-per-s")
    state_dir.mkdir(parents=True, exist_ok=True)
    shopify_config = ShopifySandboxConfig(
        state_path=state_dir / "shopify.sqlite3", plan=plan, seed=seed, catalog_products=products,
        bucket_size=shopify_bucket_size, catalog_stores=stores, catalog_warehouses=warehouses, time_scale=time_scale,
        compliance_webhook_url=compliance_url,
        webhook_faults=WebhookFaults(loss_rate=webhook_loss, duplicate_rate=webhook_duplicates,
                                     reorder_rate=webhook_reorder))
    servers: list[SandboxServer] = []
    table = Table(title="omnihub sandboxes", show_lines=True)
    table.add_column("channel", style="bold")
    table.add_column("what")
    table.add_column("value", overflow="fold")
    with console.status("starting the Shopify sandbox"):
        servers.append(start_server(create_shopify_app(shopify_config), host, shopify_port))
    base = f"http://{host}:{shopify_port}"
    for what, value in [
        ("shop", shopify_config.shop_domain), ("plan", f"{plan.value} ({plan.restore_rate:g} points/s,"
                             f" bucket {shopify_config.maximum_available:g})"),
        ("GraphQL", f"{base}/admin/api/2026-10/graphql.json"),
        ("X-Shopify-Access-Token", shopify_config.access_tokens[0]),
        ("client secret (webhook HMAC)", shopify_config.client_secret),
        ("control plane", f"{base}/_sandbox/  (docs: {base}/docs)"), ("state", str(shopify_config.state_path)),
    ]:
        table.add_row("Shopify", what, value)
    if amazon:
        amazon_server = _start_amazon(host, amazon_port, state_dir, seed, table)
        if amazon_server:
            servers.append(amazon_server)
    shoppers = None
    if amazon_vendor:
        vendor_server = _start_amazon_vendor(host, amazon_vendor_port, state_dir, seed, table)
        if vendor_server:
            servers.append(vendor_server)
            if vendor_shoppers_per_s:
                shoppers = BackgroundShoppers(vendor_server.url, vendor_shoppers_per_s, seed)
                table.add_row("Amazon Vendor", "shoppers", f"{vendor_shoppers_per_s:g}/s on the declared stock")
    if walmart:
        servers.append(_start_walmart(host, walmart_port, state_dir, seed, table))
    console.print(table)
    console.print("[dim]Ctrl-C to stop. State persists in the state directory between runs.[/dim]")
    if shoppers:
        shoppers.start()
    try:
        while all(s.alive() for s in servers):
            time.sleep(0.5)
    except KeyboardInterrupt:
        console.print("stopping...")
    finally:
        if shoppers:
            shoppers.stop()
            console.print(f"vendor shoppers: {shoppers.counts.as_dict()}")
        for server in servers:
            server.stop()


def _start_amazon(host: str, port: int, state_dir: Path, seed: int, table: Table) -> SandboxServer | None:
    try:
        from omnihub_sandbox.amazon.app import create_app as create_amazon_app
        from omnihub_sandbox.amazon.config import AmazonSandboxConfig
    except ImportError as exc:
        console.print(f"[yellow]Amazon sandbox not started: omnihub_sandbox.amazon is not available ({exc}).[/yellow]")
        return None
    config = AmazonSandboxConfig(state_path=state_dir / "amazon.sqlite3", seed=seed)
    with console.status("starting the Amazon sandbox"):
        server = start_server(create_amazon_app(config), host, port)
    base = f"http://{host}:{port}"
    rows = [("SP-API endpoint", base), ("LWA token URL", f"{base}/auth/o2/token")]
    for label, attribute in [("seller id", "seller_id"), ("marketplace id", "marketplace_id"),
                             ("LWA client id", "lwa_client_id"), ("LWA client secret", "lwa_client_secret"),
                             ("LWA refresh token", "lwa_refresh_token")]:
        value = getattr(config, attribute, None)
        if value is not None:
            rows.append((label, str(value)))
    rows += [("control plane", f"{base}/_sandbox/"), ("state", str(config.state_path))]
    for what, value in rows:
        table.add_row("Amazon", what, value)
    return server


def _start_walmart(host: str, port: int, state_dir: Path, seed: int, table: Table) -> SandboxServer:
    from omnihub_sandbox.walmart.app import create_app as create_walmart_app
    from omnihub_sandbox.walmart.config import WalmartSandboxConfig

    config = WalmartSandboxConfig(state_path=state_dir / "walmart.sqlite3", seed=seed)
    with console.status("starting the Walmart sandbox"):
        server = start_server(create_walmart_app(config), host, port)
    base = f"http://{host}:{port}"
    for what, value in [("Marketplace API", base), ("token URL", f"{base}/v3/token"),
                        ("client id", config.client_id), ("client secret", config.client_secret),
                        ("ship nodes", ", ".join(f"{n.id} ({n.name})" for n in config.ship_nodes)),
                        ("WM_SEC.SIGNATURE secret", config.webhook_signing_secret),
                        ("control plane", f"{base}/_sandbox/"), ("state", str(config.state_path))]:
        table.add_row("Walmart", what, value)
    return server


def _start_amazon_vendor(host: str, port: int, state_dir: Path, seed: int, table: Table) -> SandboxServer | None:
    try:
        from omnihub_sandbox.amazon_vendor.app import create_app as create_vendor_app
        from omnihub_sandbox.amazon_vendor.config import AmazonVendorSandboxConfig
    except ImportError as exc:
        console.print(f"[yellow]Amazon Vendor sandbox not started: omnihub_sandbox.amazon_vendor is not available "
                      f"({exc}).[/yellow]")
        return None
    config = AmazonVendorSandboxConfig(state_path=state_dir / "amazon_vendor.sqlite3", seed=seed)
    with console.status("starting the Amazon Vendor sandbox"):
        server = start_server(create_vendor_app(config), host, port)
    base = f"http://{host}:{port}"
    for what, value in [("SP-API endpoint", base), ("LWA token URL", f"{base}/auth/o2/token"),
                        ("vendor code", config.vendor_code), ("warehouses", ", ".join(config.warehouses)),
                        ("fulfilment centres", ", ".join(config.fulfillment_centers)),
                        ("LWA client id", config.lwa_client_id), ("LWA client secret", config.lwa_client_secret),
                        ("LWA refresh token", config.lwa_refresh_token),
                        ("control plane", f"{base}/_sandbox/"), ("state", str(config.state_path))]:
        table.add_row("Amazon Vendor", what, value)
    return server


class BackgroundShoppers:
    """The Vendor sandbox's shoppers in a thread of their own while ``up`` runs."""

    def __init__(self, url: str, rate: float, seed: int) -> None:
        from omnihub_sandbox.amazon_vendor.shoppers import ShopperCounts

        self.url, self.rate, self.seed = url, rate, seed
        self.counts = ShopperCounts()
        self._stop = threading.Event()
        self._thread = threading.Thread(target=self._main, name="vendor-shoppers", daemon=True)

    def _main(self) -> None:
        from omnihub_sandbox.amazon_vendor.shoppers import VendorShoppers

        round_ = 0
        while not self._stop.is_set():  # a minute at a time, so that a stop takes at most that long
            shoppers = VendorShoppers(self.url, self.rate, seed=self.seed * 1000 + round_, counts=self.counts)
            try:
                asyncio.run(shoppers.run(min(60.0, max(1.0, 10 / self.rate))))
            except httpx.HTTPError:
                self.counts.errors += 1
                self._stop.wait(1.0)
            round_ += 1

    def start(self) -> None:
        self._thread.start()

    def stop(self) -> None:
        self._stop.set()


@app.command()
def traffic(
    orders_per_s: Annotated[float, typer.Option(min=0.01, max=10_000)] = 50.0,
    duration: Annotated[float, typer.Option(min=0.1, max=86_400, help="seconds")] = 60.0,
    shopify_url: Annotated[str, typer.Option()] = "http://127.0.0.1:8701",
    pos_share: Annotated[float, typer.Option(min=0.0, max=1.0, help="share of Shopify sales at POS")] = 0.3,
    amazon_url: Annotated[Optional[str], typer.Option(help="also send buyers to this Amazon sandbox")] = None,
    amazon_share: Annotated[float, typer.Option(min=0.0, max=1.0, help="share of all orders placed on Amazon")] = 0.0,
    walmart_url: Annotated[Optional[str], typer.Option(help="also send shoppers to this Walmart sandbox")] = None,
    walmart_share: Annotated[float, typer.Option(min=0.0, max=1.0, help="share of all orders placed on Walmart")] = 0.0,
    amazon_vendor_url: Annotated[Optional[str], typer.Option(
        help="also send Amazon's shoppers to this Vendor sandbox (direct-fulfilment orders)")] = None,
    amazon_vendor_share: Annotated[float, typer.Option(
        min=0.0, max=1.0, help="share of all orders placed as direct-fulfilment orders on Vendor Central")] = 0.0,
    seed: Annotated[int, typer.Option()] = 7,
) -> None:
    """Drive shoppers (online), cashiers (POS) and optionally Amazon buyers and Walmart shoppers over HTTP."""
    from rich.progress import BarColumn, Progress, TextColumn, TimeRemainingColumn

    if amazon_share > 0 and not amazon_url:
        raise typer.BadParameter("--amazon-share needs --amazon-url")
    if walmart_share > 0 and not walmart_url:
        raise typer.BadParameter("--walmart-share needs --walmart-url")
    if amazon_vendor_share > 0 and not amazon_vendor_url:
        raise typer.BadParameter("--amazon-vendor-share needs --amazon-vendor-url")
    if amazon_share + amazon_vendor_share + walmart_share > 1:
        raise typer.BadParameter("--amazon-share, --amazon-vendor-share and --walmart-share add up to more than 1")
    with Progress(TextColumn("[bold]traffic"), BarColumn(), TextColumn("{task.percentage:>3.0f}%"),
                  TimeRemainingColumn(), console=console) as progress:
        task = progress.add_task("traffic", total=100)
        try:
            run = asyncio.run(drive_traffic(shopify_url, orders_per_s=orders_per_s, duration=duration,
                                            pos_share=pos_share, amazon_url=amazon_url, amazon_share=amazon_share,
                                            walmart_url=walmart_url, walmart_share=walmart_share,
                                            amazon_vendor_url=amazon_vendor_url, amazon_vendor_share=amazon_vendor_share,
                                            seed=seed, on_progress=lambda done: progress.update(task, completed=done * 100)))
        except httpx.HTTPError as exc:
            raise typer.Exit(_fail(f"cannot reach the sandbox: {exc}"))
        progress.update(task, completed=100)
    print_traffic_summary(run, shopify_url, amazon_vendor_url, walmart_url=walmart_url)


@dataclass
class TrafficRun:
    """What the shoppers did: Shopify's summary (online and POS), Amazon's counts, and the
    Vendor sandbox's shoppers' (``amazon_vendor``: placed, refused, errors, units, oversold_units)."""

    shopper: "ShopperTraffic | None" = None
    amazon: dict = field(default_factory=lambda: {"placed": 0, "refused": 0, "errors": 0})
    walmart: "WalmartCounts | None" = None
    vendor_shoppers: "ShopperCounts | None" = None

    @property
    def amazon_vendor(self) -> dict:
        return self.vendor_shoppers.as_dict() if self.vendor_shoppers else {"placed": 0, "refused": 0, "errors": 0}


async def drive_traffic(shopify_url: str, *, orders_per_s: float, duration: float, pos_share: float = 0.3,
                        amazon_url: str | None = None, amazon_share: float = 0.0, seed: int = 7,
                        amazon_vendor_url: str | None = None, amazon_vendor_share: float = 0.0,
                        on_progress: Callable[[float], None] | None = None, run: TrafficRun | None = None,
                        walmart_url: str | None = None, walmart_share: float = 0.0) -> TrafficRun:
    """Shoppers and cashiers on Shopify, buyers on Amazon, Amazon's shoppers of the vendor's
    direct-fulfilment stock and shoppers on Walmart at `orders_per_s` in all (`amazon_share`
    of them on Seller Central, `amazon_vendor_share` on Vendor Central, `walmart_share` on
    Walmart) for `duration` seconds; `on_progress(done)` gets the share done (0-1). `run`
    collects the counts as they come (a caller that cancels the drive keeps what was counted)."""
    from omnihub_sandbox.shopify.traffic import ShopperTraffic, TrafficMix
    from omnihub_sandbox.walmart.shoppers import WalmartShoppers

    run = run or TrafficRun()
    vendor_share = amazon_vendor_share if amazon_vendor_url else 0.0
    shopify_rate = orders_per_s * max(0.0, 1 - amazon_share - vendor_share - walmart_share)
    amazon_rate = orders_per_s * amazon_share
    vendor_rate = orders_per_s * vendor_share
    walmart_rate = orders_per_s * walmart_share
    jobs: list[Coroutine[Any, Any, Any]] = []
    if shopify_rate > 0:
        run.shopper = ShopperTraffic(shopify_url, rate_per_s=shopify_rate, mix=TrafficMix(pos_share=pos_share), seed=seed)
        jobs.append(run.shopper.run(duration, on_progress=(lambda s, done: on_progress(done)) if on_progress else None))
    if amazon_rate > 0 and amazon_url:
        jobs.append(_amazon_buyers(amazon_url, amazon_rate, duration, seed, run.amazon))
    if vendor_rate > 0 and amazon_vendor_url:
        from omnihub_sandbox.amazon_vendor.shoppers import ShopperCounts, VendorShoppers

        run.vendor_shoppers = run.vendor_shoppers or ShopperCounts()
        jobs.append(VendorShoppers(amazon_vendor_url, vendor_rate, seed=seed + 2, counts=run.vendor_shoppers).run(
            duration, on_progress=on_progress if shopify_rate <= 0 else None))
    if walmart_rate > 0 and walmart_url:
        shoppers = WalmartShoppers(walmart_url, rate_per_s=walmart_rate, seed=seed)
        run.walmart = shoppers.counts
        jobs.append(shoppers.run(duration))
    await asyncio.gather(*jobs)
    return run


def print_traffic_summary(run: TrafficRun, shopify_url: str | None = None, amazon_vendor_url: str | None = None, *,
                          walmart_url: str | None = None) -> None:
    summary = Table(title="traffic summary")
    summary.add_column("channel")
    summary.add_column("placed", justify="right")
    summary.add_column("refused (sold out)", justify="right")
    summary.add_column("errors", justify="right")
    if run.shopper:
        s = run.shopper.summary
        summary.add_row("Shopify online", str(s.online_placed), str(s.online_refused), "")
        summary.add_row("Shopify POS", str(s.pos_placed), str(s.pos_refused), str(s.errors))
        if shopify_url:
            try:
                oversells = httpx.get(shopify_url.rstrip("/") + "/_sandbox/oversells", timeout=10).json()
                console.print(f"Shopify oversold units so far: [bold]{oversells['units']}[/bold] "
                              f"(by channel {oversells['by_channel']})")
            except httpx.HTTPError:
                pass
        console.print(f"achieved rate {s.rate_per_s:.1f} orders/s over {s.elapsed_s:.1f} s")
    if any(run.amazon.values()):
        summary.add_row("Amazon", str(run.amazon["placed"]), str(run.amazon["refused"]), str(run.amazon["errors"]))
    if run.vendor_shoppers:
        counts = run.vendor_shoppers
        summary.add_row("Amazon Vendor (direct fulfilment)", str(counts.placed), str(counts.refused), str(counts.errors))
        if amazon_vendor_url:
            try:
                oversells = httpx.get(amazon_vendor_url.rstrip("/") + "/_sandbox/oversells", timeout=10).json()
                console.print(f"Amazon Vendor oversold units so far: [bold]{oversells['units']}[/bold] "
                              f"(units the vendor had not declared; by warehouse {oversells['by_warehouse']})")
            except httpx.HTTPError:
                pass
    if run.walmart:
        summary.add_row("Walmart", str(run.walmart.placed), str(run.walmart.refused), str(run.walmart.errors))
        if walmart_url:
            try:
                oversells = httpx.get(walmart_url.rstrip("/") + "/_sandbox/oversells", timeout=10).json()
                console.print(f"Walmart oversold units so far: [bold]{oversells['units']}[/bold] "
                              f"(by ship node {oversells['by_ship_node']})")
            except httpx.HTTPError:
                pass
    console.print(summary)


def _fail(message: str) -> int:
    console.print(f"[red]{message}[/red]")
    return 1


async def _amazon_buyers(base_url: str, rate: float, duration: float, seed: int, counts: dict) -> None:
    import random

    rng = random.Random(seed + 1)
    async with httpx.AsyncClient(timeout=30) as client:
        listings = (await client.get(base_url.rstrip("/") + "/_sandbox/listings")).json()
        skus = [row["sku"] for row in (listings.get("listings") or listings.get("items") or [])]
        if not skus:
            counts["errors"] += 1
            return
        start = time.monotonic()
        pending = set()

        async def buy() -> None:
            body = {"lines": [{"sku": rng.choice(skus), "quantity": rng.randint(1, 2)}],
                    "ship_to": {"postal_code": "10001", "city": "New York", "state": "NY", "country_code": "US"}}
            try:
                response = await client.post(base_url.rstrip("/") + "/_sandbox/orders", json=body)
            except httpx.HTTPError:
                counts["errors"] += 1
                return
            key = "placed" if response.status_code == 201 else "refused" if response.status_code < 500 else "errors"
            counts[key] += 1

        for index in range(int(rate * duration)):
            delay = start + index / rate - time.monotonic()
            if delay > 0:
                await asyncio.sleep(delay)
            job = asyncio.create_task(buy())
            pending.add(job)
            job.add_done_callback(pending.discard)
        if pending:
            await asyncio.gather(*pending)
