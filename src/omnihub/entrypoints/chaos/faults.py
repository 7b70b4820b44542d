"""Pulling each lever of the chaos day: the simulators' own fault controls (Shopify's
webhook faults and outage, Amazon's 429 storm), the merchant in the Shopify admin, the
ERP's files through the hub's own doors (`POST /api/v1/stock/snapshots`, then a cycle count
through `POST /api/v1/stock/counts`), SIGKILL of the hub's processes, and on PostgreSQL a
restart of the database server (the day's own: private_postgres.py).

Each lever returns how many things it did (deliveries, positions, processes), which the
tally reports per kind as `faults_injected`.
"""

from __future__ import annotations

import random
import time
from dataclasses import dataclass, field

import httpx

from omnihub.entrypoints.chaos.private_postgres import PrivatePostgres
from omnihub.entrypoints.chaos.schedule import Fault
from omnihub.entrypoints.chaos.world import ChaosWorld

WEBHOOK_FAULTS = {"loss_rate": 0.10, "duplicate_rate": 0.05, "reorder_rate": 0.10, "reorder_window_s": 2.0,
                  "delay_rate": 0.01}
MIN_REAL_S = 3.0  # an outage or a storm lasts at least this long in real time, or no call would meet it


@dataclass
class Levers:
    world: ChaosWorld
    token: str
    speed: float
    rng: random.Random
    store_ids: dict[str, int]  # hub location code → Shopify location id (the stores, feeding Shopify)
    database: PrivatePostgres | None = None  # the day's PostgreSQL server (None on SQLite)
    wrong_counts: list[tuple[str, str]] = field(default_factory=list)  # (sku, location) the ERP got wrong
    counts: dict[str, int] = field(default_factory=dict)
    log: list[dict] = field(default_factory=list)

    def http(self) -> httpx.Client:
        return httpx.Client(timeout=60)

    def real_s(self, hours: float) -> float:
        return max(MIN_REAL_S, hours * 3600 / self.speed)

    def pull(self, fault: Fault, at_real_s: float) -> None:
        did = getattr(self, "_" + fault.kind)(fault)
        self.counts[fault.kind] = self.counts.get(fault.kind, 0) + did
        self.log.append({"kind": fault.kind, "at_h": round(fault.at_h, 3), "at_real_s": round(at_real_s, 1),
                         "count": did})

    # -- the levers ------------------------------------------------------------------------
    def _webhook_chaos(self, fault: Fault) -> int:
        """10% lost, 5% duplicated, reordering, and a few deliveries a (compressed) day late."""
        late_s = min(86_400 / self.speed, 20.0) / self.world.shop_cfg.time_scale
        with self.http() as http:
            http.put(self.world.shop + "/_sandbox/faults",
                     json={**WEBHOOK_FAULTS, "max_delay_s": late_s, "seed": self.rng.randrange(1 << 30)}
                     ).raise_for_status()
        return 1

    def webhook_chaos_off(self) -> dict:
        """Faults off; what the shop's dispatcher did under them (its own counters)."""
        with self.http() as http:
            http.put(self.world.shop + "/_sandbox/faults", json={}).raise_for_status()
            stats = http.get(self.world.shop + "/_sandbox/webhooks/stats").raise_for_status().json()
            amazon = http.get(self.world.amazon + "/_sandbox/stats").raise_for_status().json()
        for kind in ("lost", "duplicated", "reordered", "delayed"):
            self.counts[f"webhook_{kind}"] = stats.get(kind, 0)
        for kind in ("lost", "duplicated"):
            self.counts[f"amazon_notification_{kind}"] = amazon.get(f"notifications_{kind}", 0)
        return stats

    def _worker_kill(self, fault: Fault) -> int:
        worker = self.world.programs["worker"]
        worker.kill9()
        time.sleep(0.5)
        worker.start()
        return 1

    def _api_kill(self, fault: Fault) -> int:
        api = self.world.programs["api"]
        if api.kill9_child() is None:
            return 0
        time.sleep(1.0)  # uvicorn's manager notices and starts another worker
        api.wait_healthy(120)
        return 1

    def _admin_edit(self, fault: Fault) -> int:
        """The merchant recounts a few shelves in the Shopify admin (the shelf moves too)."""
        levels = self._store_levels()
        picks = self.rng.sample(levels, min(5, len(levels)))
        with self.http() as http:
            for lv in picks:
                http.post(self.world.shop + "/_sandbox/inventory/admin-edits",
                          json={"sku": lv["sku"], "location_id": lv["location_id"],
                                "available": max(0, lv["available"] + self.rng.choice((-2, -1, 1, 3))),
                                "reason": "correction", "shelf_too": True}).raise_for_status()
        return len(picks)

    def _erp_snapshot(self, fault: Fault) -> int:
        """The ERP's morning file of the stores' shelves, 1% of the counts wrong by a few units."""
        code_of = {i: c for c, i in self.store_ids.items()}
        lines = ["sku,location,on_hand"]
        self.wrong_counts = []
        for lv in self._store_levels():
            shelf = lv["physical_shelf"] if lv["physical_shelf"] is not None else lv["available"]
            code = code_of[lv["location_id"]]
            if self.rng.random() < 0.01:
                shelf = max(0, shelf + self.rng.choice((-3, -2, -1, 1, 2, 4)))
                self.wrong_counts.append((lv["sku"], code))
            lines.append(f"{lv['sku']},{code},{shelf}")
        with self.http() as http:
            r = self._send(http, "POST", "/api/v1/stock/snapshots", content="\n".join(lines) + "\n",
                           headers={"Content-Type": "text/csv"})
            if r.status_code >= 300:
                raise RuntimeError(f"the hub refused the ERP snapshot: {r.status_code} {r.text[:500]}")
        return len(self.wrong_counts)

    def _cycle_count(self, fault: Fault) -> int:
        """The positions the morning file got wrong, counted on the shelf and keyed in."""
        shelves = {(lv["sku"], lv["location_id"]): lv for lv in self._store_levels()}
        done = 0
        with self.http() as http:
            for sku, code in self.wrong_counts:
                lv = shelves[(sku, self.store_ids[code])]
                counted = lv["physical_shelf"] if lv["physical_shelf"] is not None else lv["available"]
                r = self._send(http, "POST", "/api/v1/stock/counts",
                               json={"sku": sku, "location": code, "counted": max(0, counted)})
                if r.status_code < 300:
                    done += 1
        return done

    def _shopify_outage(self, fault: Fault) -> int:
        with self.http() as http:
            http.put(self.world.shop + "/_sandbox/outage", json={
                "seconds": self.real_s(fault.duration_h), "timeout_share": 0.3, "hold_s": 12.0,
                "seed": self.rng.randrange(1 << 30)}).raise_for_status()
        return 1

    def _amazon_429_storm(self, fault: Fault) -> int:
        with self.http() as http:
            http.put(self.world.amazon + "/_sandbox/throttle-storm",
                     json={"seconds": self.real_s(fault.duration_h)}).raise_for_status()
        return 1

    def _database_restart(self, fault: Fault) -> int:
        """The database server stops (every session cut, transactions in flight rolled
        back), stays down a while, and starts again; the hub's processes are not told."""
        if self.database is None:
            return 0
        down = self.database.restart(self.real_s(fault.duration_h))
        self.log.append({"kind": "database_down", "at_h": round(fault.at_h, 3), "down_s": down})
        return 1

    def _send(self, http: httpx.Client, method: str, path: str, *, attempts: int = 6, **kw) -> httpx.Response:
        """One call to the hub's API as an ERP's client makes it: a 503 (the database
        restarting) is sent again after its Retry-After."""
        headers = {**kw.pop("headers", {}), "Authorization": f"Bearer {self.token}"}
        for _ in range(attempts - 1):
            r = http.request(method, self.world.api + path, headers=headers, **kw)
            if r.status_code != 503:
                return r
            time.sleep(min(10.0, float(r.headers.get("retry-after") or 1)))
        return http.request(method, self.world.api + path, headers=headers, **kw)

    def _store_levels(self) -> list[dict]:
        with self.http() as http:
            levels = http.get(self.world.shop + "/_sandbox/inventory/levels").raise_for_status().json()["levels"]
        stores = set(self.store_ids.values())
        return [lv for lv in levels if lv["location_id"] in stores]
