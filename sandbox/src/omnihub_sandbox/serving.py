"""Serving a simulator: the public way to put one on a loopback port.

Others start simulators too: `omnihub demo`, the hub's benchmarks and its tests. They do
it through here, never through uvicorn by hand, so that how a simulator is served (its
lifespan runs its background work; it listens on loopback only) is decided once.

- `start_server(app)` serves an ASGI app in a thread of this process (signals stay with
  the main thread, which owns Ctrl-C) and returns once it accepts connections.
- `python -m omnihub_sandbox.serving shopify|amazon|amazon_vendor|walmart CONFIG_JSON PORT` serves one
  channel's simulator in a process of its own (the benchmarks' child, whose GIL is not
  the hub's).
"""

from __future__ import annotations

import ipaddress
import json
import sys
import threading
import time
from typing import Any

LOOPBACK_NAMES = frozenset({"localhost"})


def is_loopback(host: str) -> bool:
    """Whether `host` is a loopback address or `localhost`: the simulators listen nowhere else."""
    if host in LOOPBACK_NAMES:
        return True
    try:
        return ipaddress.ip_address(host).is_loopback
    except ValueError:
        return False


class SandboxServer:
    """An ASGI app served by uvicorn in a daemon thread on a loopback port.

    `port=0` takes a free port from the system; `port` and `url` say which once started.
    """

    def __init__(self, app: Any, host: str = "127.0.0.1", port: int = 0) -> None:
        import uvicorn

        if not is_loopback(host):
            raise ValueError(f"a simulator listens on loopback only, not on {host!r}")
        self.app = app
        self.host = host
        self.port = port
        self.server = uvicorn.Server(uvicorn.Config(app, host=host, port=port, log_level="warning", lifespan="on",
                                                    access_log=False))
        self.thread = threading.Thread(target=self.server.run, name=f"sandbox-server-{port}", daemon=True)

    @property
    def url(self) -> str:
        host = f"[{self.host}]" if ":" in self.host else self.host
        return f"http://{host}:{self.port}"

    def start(self, timeout: float = 15.0) -> "SandboxServer":
        """Start serving; return once the server accepts connections (its lifespan started)."""
        self.thread.start()
        deadline = time.monotonic() + timeout
        while not self.server.started:
            if not self.thread.is_alive() or time.monotonic() > deadline:
                raise RuntimeError(f"the server did not start on {self.host}:{self.port} (is the port free?)")
            time.sleep(0.01)
        if self.port == 0:  # the port the system gave
            self.port = self.server.servers[0].sockets[0].getsockname()[1]
        return self

    def alive(self) -> bool:
        return self.thread.is_alive()

    def stop(self) -> None:
        """Stop serving (the app's lifespan ends: a simulator closes its state files)."""
        self.server.should_exit = True
        self.thread.join(timeout=10)

    def __enter__(self) -> "SandboxServer":
        return self if self.server.started else self.start()

    def __exit__(self, *exc: object) -> None:
        self.stop()


def start_server(app: Any, host: str = "127.0.0.1", port: int = 0, timeout: float = 15.0) -> SandboxServer:
    """Serve `app` in a thread on `host:port` (0: a free port) and return the running server."""
    return SandboxServer(app, host, port).start(timeout)


def channel_app(channel: str, config: dict[str, Any]) -> Any:
    """The ASGI app of one channel's simulator, from its config's fields."""
    if channel == "shopify":
        from omnihub_sandbox.shopify.app import create_app as create_shopify
        from omnihub_sandbox.shopify.config import ShopifySandboxConfig

        return create_shopify(ShopifySandboxConfig(**config))
    if channel == "amazon":
        from omnihub_sandbox.amazon.app import create_app as create_amazon
        from omnihub_sandbox.amazon.config import AmazonSandboxConfig

        return create_amazon(AmazonSandboxConfig(**config))
    if channel == "walmart":
        from omnihub_sandbox.walmart.app import create_app as create_walmart
        from omnihub_sandbox.walmart.config import WalmartSandboxConfig

        return create_walmart(WalmartSandboxConfig(**config))
    if channel == "amazon_vendor":
        from omnihub_sandbox.amazon_vendor.app import create_app as create_amazon_vendor
        from omnihub_sandbox.amazon_vendor.config import AmazonVendorSandboxConfig

        return create_amazon_vendor(AmazonVendorSandboxConfig(**config))
    raise ValueError(f"no simulator of channel {channel!r} (shopify, amazon, amazon_vendor, walmart)")


def child_command(channel: str, config: dict[str, Any], port: int) -> list[str]:
    """The command that serves one channel's simulator in a child process on 127.0.0.1:`port`."""
    return [sys.executable, "-m", "omnihub_sandbox.serving", channel, json.dumps(config), str(port)]


def main(argv: list[str]) -> None:
    import uvicorn

    channel, config, port = argv
    uvicorn.run(channel_app(channel, json.loads(config)), host="127.0.0.1", port=int(port), log_level="warning",
                access_log=False)


if __name__ == "__main__":
    main(sys.argv[1:])
