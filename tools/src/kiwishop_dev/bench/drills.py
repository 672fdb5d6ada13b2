"""Fault drills (``kiwishop drills``, ``make drills``): the shop under load while things break, then the books.

On private servers with every service as a process (``Shop``; the broker on durable S3 storage, the PSP
emulator keeping its books in a file), a mixed load runs (``bench.load``; its buyers also cancel lines and
orders they paid, ``bench.cancels``) while:

1. poison records go to every business topic (``bench.poison``);
2. each service — the PSP emulator too, whose books survive in its file — is killed with SIGKILL and
   restarted, one at a time, the load continuing;
3. MariaDB is stopped and started again (same data): pooled connections die, requests answer 503
   meanwhile, consumers and workers retry;
4. for part of the run (overlapping the kills) the emulator fails 30 % of the API calls, confirms and cancels
   alike: 15 % 5xx, 10 % timeouts (hang, nothing done) and 5 % "done, then the response is lost" (the order
   service's read timeout is 2 s here, so in-doubt payments and cancels happen and the recovery worker must
   settle them);
5. the broker restarts; then the PSP loses every approval's answer for a moment and goes down — confirms
   and lookups alike — for ``outage_s`` (60 s in the full drill), while a new seller's product is sold
   before its wallet can exist (``wallet_late_s`` later); then wallet is paused while orders are paid and
   the whole stack stops and starts again (``drill_phases``).

Then the load stops, the buyers' cancels answered 202 are followed up until their orders show them (with a
deadline), and the drill waits (with a deadline) until nothing is in flight: no order or cancel in doubt,
every SUCCESS order ``is_wallet_done``, every outbox drained; more poison records prove every group still
consumes. The verdict: ``reconcile`` with no lag allowance is clean, no order is FAILURE where the PSP says
DONE, the late seller's sale is credited once, every poison record is in its DLT once per consumer group, every
cancel answered 200/202 is DONE exactly once at the PSP and in wallet (``drill_cancels``), and the load saw no
answer 500 (an outage answers 503 with ``Retry-After``; a 503 without it fails the drill too).
"""

from __future__ import annotations

import asyncio
import tempfile
import time
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from kiwishop.platform.httpclient import HttpClient
from kiwishop.toss_emulator.settings import admin_headers
from kiwishop_dev.bench import drill_cancels, drill_console, drill_phases, poison
from kiwishop_dev.bench.drill_phases import LateSale, PhasePlan
from kiwishop_dev.bench.drill_report import DrillResult, render_result, write_json
from kiwishop_dev.bench.load import Load, Mix
from kiwishop_dev.bench.shop import ORDER_DB, SERVICES, Shop

KILLED = SERVICES
OUTBOX_DBS = ("payment_msa_v2_order", "payment_msa_v2_wallet", "payment_msa_v2_seller",
              "payment_msa_v2_catalog_like", "payment_msa_v2_catalog_review")  # fmt: skip
FAULTS = {"fault5xxRate": 0.15, "faultTimeoutRate": 0.10, "faultDropRate": 0.05, "hangS": 3.0}
NO_FAULTS = {"fault5xxRate": 0.0, "faultTimeoutRate": 0.0, "faultDropRate": 0.0}
ENV = {
    "KIWI_ORDER_PSP_READ_TIMEOUT_S": "2",  # below the emulator's 3 s hang: timeouts and lost responses happen
    "KIWI_ORDER_RECOVERY_INTERVAL_S": "1",
    "KIWI_ORDER_RECOVERY_MIN_AGE_S": "1",
    "KIWI_ORDER_EXECUTING_STALE_S": "10",  # a confirm killed mid-way is taken over after 10 s
}


@dataclass(frozen=True)
class Plan:
    users: int
    down_s: float  # a killed service stays down this long before its restart
    db_down_s: float  # MariaDB stays down this long (it stops and starts in well under a second here;
    # a production server with a large buffer pool takes many seconds)
    pause_s: float  # load alone between two drills
    faults_after_s: float  # into the kill sequence
    faults_s: float
    drain_timeout_s: float
    phases: PhasePlan


FULL = Plan(
    users=24, down_s=3.0, db_down_s=10.0, pause_s=4.0, faults_after_s=20.0, faults_s=30.0, drain_timeout_s=240.0,
    phases=PhasePlan(drop_s=5.0, outage_s=60.0, wallet_late_s=20.0, broker_down_s=3.0, paused_s=5.0),
)  # fmt: skip
SHORT = Plan(
    users=8, down_s=0.5, db_down_s=3.0, pause_s=0.5, faults_after_s=8.0, faults_s=10.0, drain_timeout_s=120.0,
    phases=PhasePlan(drop_s=3.0, outage_s=10.0, wallet_late_s=5.0, broker_down_s=1.0, paused_s=2.0),
)  # fmt: skip


class Drill:
    def __init__(self, shop: Shop, plan: Plan) -> None:
        self.shop = shop
        self.plan = plan
        self.result = DrillResult()
        self.late_sale: LateSale | None = None
        self._t0 = time.monotonic()

    def note(self, what: str) -> None:
        self.result.events.append((round(time.monotonic() - self._t0, 1), what))

    async def kills(self) -> None:
        fleet = self.shop.fleet
        assert fleet is not None
        for name in KILLED:
            fleet.kill(name)
            self.note(f"kill -9 {name}")
            await asyncio.sleep(self.plan.down_s)
            started = time.monotonic()
            await asyncio.to_thread(fleet.restart, name)
            self.note(f"{name} restarted, ready after {time.monotonic() - started:.1f} s")
            await asyncio.sleep(self.plan.pause_s)
        await self.restart_mariadb()

    async def restart_mariadb(self) -> None:
        mariadb = self.shop.servers.mariadb
        self.note("MariaDB stopping")
        started = time.monotonic()
        await asyncio.to_thread(mariadb.stop)
        self.note(f"MariaDB stopped after {time.monotonic() - started:.1f} s")
        await asyncio.sleep(self.plan.db_down_s)
        await asyncio.to_thread(mariadb.start)
        await self.shop.forget_connections()
        self.note(f"MariaDB up again, {time.monotonic() - started:.1f} s after the stop began")
        await asyncio.sleep(self.plan.pause_s)

    async def faults(self) -> None:
        await asyncio.sleep(self.plan.faults_after_s)
        await self.shop.set_faults(**FAULTS)
        self.note("PSP faults on (confirms and cancels): 15 % 5xx, 10 % timeouts, 5 % done-but-response-lost")
        await asyncio.sleep(self.plan.faults_s)
        await self.shop.set_faults(**NO_FAULTS)
        self.note("PSP faults off")

    async def no_won_stranded(self) -> None:
        """Phase 5: a broker restart, the PSP losing approvals then down while a seller's wallet is late,
        then a full stop and start with wallet paused."""
        phases = self.plan.phases
        await drill_phases.restart_broker(self, phases)
        await asyncio.sleep(self.plan.pause_s)
        sale = await drill_phases.sell_for_a_seller_without_a_wallet(self)
        self.late_sale = sale
        back, _ = await asyncio.gather(
            drill_phases.psp_outage(self, phases), drill_phases.let_the_wallet_arrive(self, phases)
        )
        count, seconds = await drill_phases.settled_after(self.shop, back, self.plan.drain_timeout_s)
        self.result.in_doubt_at_psp_back, self.result.settled_after_psp_back_s = count, seconds
        self.note(f"the {count} order(s) in doubt when the PSP came back: all decided after {seconds} s")
        await drill_phases.full_restart(self, phases)

    async def drain(self) -> None:
        """Wait until nothing is in flight; whatever still is at the deadline is reported."""
        started = time.monotonic()
        while True:
            pending = await self.pending()
            if not pending or time.monotonic() - started > self.plan.drain_timeout_s:
                break
            await asyncio.sleep(1.0)
        self.result.pending = pending
        self.result.drained_in_s = round(time.monotonic() - started, 1)
        self.note(f"drained in {self.result.drained_in_s} s" if not pending else f"NOT drained: {pending}")

    async def pending(self) -> dict[str, int]:
        found: dict[str, int] = {}
        counts = await self.shop.rows(
            ORDER_DB,
            "SELECT payment_order_status, COUNT(DISTINCT order_id) FROM payment_orders "
            "WHERE payment_order_status IN ('EXECUTING', 'UNKNOWN', 'QUARANTINED') GROUP BY payment_order_status",
        )
        found.update({f"orders {status}": int(n) for status, n in counts})
        counts = await self.shop.rows(
            ORDER_DB,
            "SELECT status, COUNT(*) FROM payment_cancels WHERE status IN ('EXECUTING', 'UNKNOWN') GROUP BY status",
        )
        found.update({f"cancels {status}": int(n) for status, n in counts})
        unsettled = await self.shop.scalar(
            ORDER_DB, "SELECT COUNT(*) FROM payment_events WHERE is_payment_done = 1 AND is_wallet_done = 0"
        )
        if unsettled:
            found["paid orders not is_wallet_done"] = int(unsettled)
        for db in OUTBOX_DBS:
            waiting = await self.shop.scalar(db, "SELECT COUNT(*) FROM outbox WHERE status = 'INIT'")
            if waiting:
                found[f"{db} outbox rows not published"] = int(waiting)
        return found


async def run_drills(plan: Plan, root: Path) -> DrillResult:
    env = {**ENV, "KIWI_TOSS_EMULATOR_DATA_PATH": str(root / "toss-emulator.sqlite3")}
    shop = Shop(root, extra_env=env, broker_storage="s3")
    try:
        await shop.start(sellers=4, products_per_seller=4)
        await shop.set_faults(latencyMsMin=20, latencyMsMax=80)
        drill = Drill(shop, plan)
        load = Load(shop.targets(), shop.products, mix=Mix(buy=0.5, like=0.15, review=0.05, hot=0.15, history=0.15),
                    concurrency=plan.users, read_timeout_s=15, tokens=shop.tokens)  # fmt: skip
        infra = shop.servers.infra
        try:
            load.start()
            drill.note(f"load started: {plan.users} users")
            before = await poison.inject(infra, "before")
            drill.note(f"{len(before.keys)} poison records injected")
            await asyncio.gather(drill.kills(), drill.faults())
            await shop.set_faults(**NO_FAULTS)
            await drill.no_won_stranded()
            await load.stop()
            drill.note("load stopped")
            await load.cancels.settle(plan.drain_timeout_s)
            summary = load.cancels.summary()
            drill.note(f"cancels answered 202 followed up: {summary['doneAfter202']} shown, "
                       f"{summary['inDoubtAtEnd']} still in doubt")  # fmt: skip
        finally:
            await load.aclose()
        await drill.drain()
        after = await poison.inject(infra, "after")
        drill.note(f"{len(after.keys)} more poison records injected after the recovery")
        await _judge(shop, drill, load, poison.Injected({**before.keys, **after.keys}))
        return drill.result
    finally:
        await shop.stop()


async def _judge(shop: Shop, drill: Drill, load: Load, injected: poison.Injected) -> None:
    result = drill.result
    result.errors = load.recorder.errors()
    result.server_errors = load.recorder.server_errors()
    result.no_retry_after = dict(load.recorder.no_retry_after)
    if result.server_errors:  # when they happened (seconds since the load started), next to the faults
        at = [f"{e} {t:.1f}" for e, t, _, status in load.recorder.calls if 500 <= status < 600 and status != 503]
        drill.note(f"answers 500 at: {', '.join(at[:20])}{' …' if len(at) > 20 else ''}")
    for endpoint, _, ms, _ in load.recorder.calls:
        result.slowest_ms[endpoint] = max(result.slowest_ms.get(endpoint, 0.0), round(ms))
    result.paid = len(load.orders.paid_at)
    result.psp = await _psp_stats(shop)
    result.poison_injected = len(injected.keys)
    deadline = time.monotonic() + drill.plan.drain_timeout_s / 2
    while True:  # the post-recovery round needs a moment to be parked
        letters = await poison.read_dead_letters(shop.servers.infra)
        result.poison_problems = letters.problems(injected)
        if not result.poison_problems or time.monotonic() > deadline:
            break
        await asyncio.sleep(1.0)
    result.poison = letters.by_topic(injected)
    result.cancels = load.cancels.summary()  # judged first: it waits until wallet has debited every cancel
    result.cancel_books, result.cancel_problems = await drill_cancels.judge(
        shop, load.cancels, result.psp, drill.plan.drain_timeout_s / 2
    )
    result.findings = await shop.reconcile(lag_bound_s=0, recovery_window_s=0)
    result.order_counts = result.findings.order_counts
    failed = [row[0] for row in await shop.rows(
        ORDER_DB, "SELECT DISTINCT order_id FROM payment_orders WHERE payment_order_status = 'FAILURE'"
    )]  # fmt: skip
    result.failed_but_done = [o for o, status in (await shop.psp_status(failed)).items() if status == "DONE"]
    if drill.late_sale is not None:
        sale = drill.late_sale
        result.late_sale = {"sellerNo": sale.seller_no, "orderId": sale.order_id, "amount": str(sale.amount)}
        result.late_sale_problems = await drill_phases.late_sale_problems(shop, sale)
    drill.note("reconcile " + ("clean" if result.findings.clean else f"{len(result.findings.problems)} problems"))
    result.console_problems = await drill_console.console_problems(shop, result.poison)
    seen = result.console_problems
    drill.note("ops console " + (f"{len(seen)} problems" if seen else "agrees"))


async def _psp_stats(shop: Shop) -> dict[str, Any]:
    client = HttpClient(shop.url("toss-emulator"))
    try:
        stats: dict[str, Any] = (await client.get("/emulator/stats", headers=admin_headers())).json()
        return stats
    finally:
        await client.aclose()


def main(quick: bool = False) -> int:
    with tempfile.TemporaryDirectory(prefix="kiwishop-drills-") as tmp:
        result = asyncio.run(run_drills(SHORT if quick else FULL, Path(tmp)))
    print(render_result(result))
    print(f"\nwritten to {write_json(result)}")
    return 0 if result.clean else 1
