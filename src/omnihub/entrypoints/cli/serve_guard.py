"""`omnihub serve` binds beyond loopback only with TLS or behind a proxy that has it.

Every request carries a bearer token or a session cookie; in clear text on a network
anyone on the path can replay them. On loopback nothing crosses a wire; elsewhere the
hub serves HTTPS itself (`--ssl-certfile/--ssl-keyfile`, uvicorn's) or is told that a
TLS-terminating proxy is in front (`--behind-proxy`).
"""

from __future__ import annotations

import ipaddress
from pathlib import Path

from omnihub.entrypoints.cli.errors import CliError

LOOPBACK_NAMES = frozenset({"localhost", "localhost.localdomain", "ip6-localhost"})


def is_loopback(host: str) -> bool:
    name = host.strip().strip("[]").lower()
    if name in LOOPBACK_NAMES:
        return True
    try:
        return ipaddress.ip_address(name).is_loopback
    except ValueError:
        return False  # a name that resolves elsewhere, or every address ("", 0.0.0.0, ::)


def refuse_clear_text(host: str, certfile: Path | None, keyfile: Path | None, behind_proxy: bool) -> None:
    if bool(certfile) != bool(keyfile):
        raise CliError("--ssl-certfile and --ssl-keyfile go together: give both, or neither")
    for path in (certfile, keyfile):
        if path is not None and not path.is_file():
            raise CliError(f"{path}: no such file")
    if is_loopback(host) or certfile or behind_proxy:
        return
    raise CliError(f"refusing to serve on {host or 'every address'} without TLS: API tokens and passwords would cross "
                   "the network in clear text. Give --ssl-certfile and --ssl-keyfile, or --behind-proxy if a "
                   "TLS-terminating proxy is in front, or bind to 127.0.0.1")
