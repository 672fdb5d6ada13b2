"""The whole shop under a realistic mixed load, at two PSP latency profiles, with the money checked after.

On private servers (``Shop``: its own MariaDB, Redis and broker, every service a ``kiwishop serve``
process), ``bench.load.Load`` drives buyers (checkout → authorise → confirm; then some cancel a line, the
whole order, or a line and the rest: ``bench.cancels``), likes, reviews, hot-list and order-history reads,
first with the emulator answering in 100–300 ms ("fast"), then in 2–3.5 s ("slow"), with the broker keeping
its data in memory (``memory://``). The fast profile is a closed loop (``Sizes.users`` users); the slow one an
open loop (``bench.arrivals``) offering a little more than the actions/s the fast one carried, so its figure is
what the shop carries while every PSP call takes seconds — not users ÷ latency. Then the fast profile once
more on a new shop whose broker writes to SeaweedFS (``s3://``, as `make run` runs it): what the durable
broker costs.

Definitions (also in the report):
- *settled payments/s*: orders paid in the phase whose wallet CREDIT rows were written inside the
  measured window, per second of that window (every one of them also ends ``is_wallet_done = 1``); an order
  cancelled afterwards still counts (it was settled; its cancel is a DEBIT of its own);
- *cancels/s*, cancel p50/p99: cancel requests answered 200 inside the window (``cancel``: a line or the whole
  order; ``cancel-rest``: the rest right after a line, which waits out the PSP's one-cancel-per-second rule);
- *confirm→credited lag*: from the moment the driver received the confirm's 200 (wall clock) to the
  ``created_at`` (ms) of the order's first CREDIT row, written inside the settling transaction;
- *lost*: authorised orders the PSP reports approved (``DONE``, or ``PARTIAL_CANCELED`` / ``CANCELED`` since)
  that have no CREDIT row at the end, after the drain; must be 0. ``reconcile`` then checks every seller's
  books;
- *PSP p99*: the emulator's own latency as the order service sees it, probed directly during the phase;
- *DB limit*: the same payment statements replayed against MariaDB without the services (``replay``),
  with the load's concurrency; the report gives service throughput ÷ that limit.
"""

from __future__ import annotations

import asyncio
import base64
import os
import tempfile
import time
from pathlib import Path

from kiwishop.ops.reconcile import render
from kiwishop.order.settings import TEST_SECRET_KEY
from kiwishop.platform.httpclient import HttpClient
from kiwishop.platform.settings import InfraSettings
from kiwishop_dev.bench import profiling
from kiwishop_dev.bench.arrivals import Arrivals
from kiwishop_dev.bench.load import Load
from kiwishop_dev.bench.replay import Replayer, flush_log_at_trx_commit
from kiwishop_dev.bench.report import Report
from kiwishop_dev.bench.shop import ORDER_DB, WALLET_DB, Shop
from kiwishop_dev.bench.system_model import (
    FULL,
    PROFILES,
    QUICK,
    Outcome,
    Phase,
    Sizes,
    action_rate,
)

APPROVED = ("DONE", "PARTIAL_CANCELED", "CANCELED")  # the PSP's statuses of a payment it approved
CANCEL_FOLLOW_UP_S = 60.0  # after the load stops, how long a cancel answered 202 may take to show


async def _psp_probe(url: str, samples: list[float], stop: asyncio.Event) -> None:
    auth = {"Authorization": "Basic " + base64.b64encode(f"{TEST_SECRET_KEY}:".encode()).decode()}
    client = HttpClient(url, read_timeout_s=30, max_connections=4)
    try:
        while not stop.is_set():
            started = time.perf_counter()
            await client.get("/v1/payments/orders/probe-order-0000", headers=auth)  # 404 after the same latency
            samples.append((time.perf_counter() - started) * 1000)
            await asyncio.sleep(0.05)
    finally:
        await client.aclose()


def _pids(shop: Shop) -> dict[str, int | None]:
    assert shop.fleet is not None
    pids: dict[str, int | None] = {name: proc.pid for name, proc in shop.fleet.procs.items()}
    servers = shop.servers
    pids |= {"mariadb": servers.mariadb.proc.pid, "redis": servers.redis.proc.pid, "tansu": servers.broker.proc.pid}
    if servers.seaweedfs is not None:
        pids["seaweedfs"] = servers.seaweedfs.proc.pid
    pids["load driver"] = os.getpid()
    return pids


async def _phase(
    shop: Shop, name: str, sizes: Sizes, out: Path, *, spy_on_order: bool = True, arrivals: Arrivals | None = None
) -> Phase:
    """One profile's load; a closed loop of ``sizes.users`` users, or the open loop ``arrivals``."""
    low, high = PROFILES[name]
    await shop.set_faults(latencyMsMin=low, latencyMsMax=high, fault5xxRate=0, faultTimeoutRate=0, faultDropRate=0)
    users = 0 if arrivals is not None else sizes.users
    load = Load(shop.targets(), shop.products, concurrency=users, read_timeout_s=120, tokens=shop.tokens,
                arrivals=arrivals)  # fmt: skip
    cpu = profiling.CpuWindow(_pids(shop))
    psp_ms: list[float] = []
    stop_probe = asyncio.Event()
    try:
        load.start()
        await asyncio.sleep(sizes.warmup_s)
        began, began_rel = time.time(), time.monotonic() - load.recorder.started
        cpu.start()
        probe = asyncio.create_task(_psp_probe(shop.url("toss-emulator"), psp_ms, stop_probe))
        spy = None
        if name == "fast" and spy_on_order:
            assert shop.fleet is not None
            pid = shop.fleet.procs["order"].pid
            assert pid is not None
            spy = asyncio.create_task(profiling.record(pid, min(sizes.profile_s, sizes.duration_s), out))
        await asyncio.sleep(sizes.duration_s)
        ended, ended_rel = time.time(), time.monotonic() - load.recorder.started
        used = cpu.stop()
        stop_probe.set()
        await load.stop()
        await probe
        raw = await spy if spy is not None else None
        await load.cancels.settle(CANCEL_FOLLOW_UP_S)
    finally:
        await load.aclose()
    phase = Phase(name, (low, high), users, load.recorder, load.orders, (began, ended), (began_rel, ended_rel),
                  psp_ms, used, arrivals=arrivals)  # fmt: skip
    phase.profile = profiling.summarise(raw) if raw is not None else None
    phase.cancels = load.cancels.summary()
    await _drain(shop, phase)
    return phase


def _in(ids: list[str]) -> tuple[str, dict[str, str]]:
    """``(:o0, :o1, …)`` and its parameters, for ``… IN`` with many order ids."""
    return "(" + ", ".join(f":o{i}" for i in range(len(ids))) + ")", {f"o{i}": v for i, v in enumerate(ids)}


async def _drain(shop: Shop, phase: Phase, timeout_s: float = 180) -> None:
    """Wait until every order paid in the phase is settled (is_wallet_done), then read its credit time."""
    paid = list(phase.orders.paid_at)
    deadline = time.monotonic() + timeout_s
    while True:
        phase.not_done = await _count_not_done(shop, paid)
        if phase.not_done == 0 or time.monotonic() > deadline:
            break
        await asyncio.sleep(0.5)
    for start in range(0, len(paid), 1000):
        chunk = paid[start : start + 1000]
        marks, params = _in(chunk)
        rows = await shop.rows(
            WALLET_DB,
            "SELECT order_id, UNIX_TIMESTAMP(MIN(created_at)) FROM wallet_transactions "
            f"WHERE type = 'CREDIT' AND order_id IN {marks} GROUP BY order_id",
            params,
        )
        phase.credited.update({order_id: float(at) for order_id, at in rows})
        rows = await shop.rows(
            ORDER_DB,
            "SELECT message_key, UNIX_TIMESTAMP(created_at), UNIX_TIMESTAMP(published_at) FROM outbox "
            f"WHERE event_type = 'PAYMENT_CONFIRM' AND message_key IN {marks}",
            params,
        )
        phase.outbox.update({key: (float(made), float(sent)) for key, made, sent in rows if sent is not None})


async def _count_not_done(shop: Shop, order_ids: list[str]) -> int:
    missing = 0
    for start in range(0, len(order_ids), 1000):
        chunk = order_ids[start : start + 1000]
        marks, params = _in(chunk)
        done = await shop.scalar(
            ORDER_DB, f"SELECT COUNT(*) FROM payment_events WHERE is_wallet_done = 1 AND order_id IN {marks}", params
        )
        missing += len(chunk) - int(done or 0)
    return missing


async def _lost(shop: Shop, phases: list[Phase]) -> tuple[list[str], int]:
    """Orders the PSP approved (cancelled since or not) that no wallet credited; and how many it approved in all."""
    authorised = [order_id for phase in phases for order_id in phase.orders.authorised]
    status = await shop.psp_status(authorised)
    approved = [order_id for order_id, s in status.items() if s in APPROVED]
    credited: set[str] = set()
    for start in range(0, len(approved), 1000):
        chunk = approved[start : start + 1000]
        marks, params = _in(chunk)
        query = f"SELECT DISTINCT order_id FROM wallet_transactions WHERE order_id IN {marks}"
        rows = await shop.rows(WALLET_DB, query, params)
        credited.update(row[0] for row in rows)
    return sorted(set(approved) - credited), len(approved)


async def measure(sizes: Sizes, out: Path, extra_env: dict[str, str] | None = None) -> Outcome:
    load_before = os.getloadavg()
    with tempfile.TemporaryDirectory(prefix="kiwishop-system-") as tmp:
        shop = Shop(Path(tmp), extra_env=extra_env)
        try:
            await shop.start()
            processes = _pids(shop)
            stamp = time.strftime("%Y%m%dT%H%M%S")
            infra = shop.servers.infra
            flush = await flush_log_at_trx_commit(infra)
            fast = await _phase(shop, "fast", sizes, out / f"system-{stamp}-py-spy-fast.txt")
            offer = Arrivals(rate_per_s=max(1.0, action_rate(fast) * sizes.slow_offer))
            phases = [fast, await _phase(shop, "slow", sizes, out, arrivals=offer)]
            strict = None
            if flush != 1:  # the local stack's setting isn't production's: the fast profile once more at 1
                await flush_log_at_trx_commit(infra, 1)
                strict = await _phase(shop, "fast", sizes, out, spy_on_order=False)
                await flush_log_at_trx_commit(infra, flush)
            await shop.set_faults(latencyMsMin=0, latencyMsMax=0)  # asking the PSP about every order: no wait
            lost, approved = await _lost(shop, phases + ([strict] if strict else []))
            findings = await shop.reconcile(lag_bound_s=0, recovery_window_s=0)
            await shop.stop_services()  # the replay gets the machine to itself
            replayer = await Replayer.prepare(infra, shop.products)
            replay = await replayer.run(sizes.users, sizes.replay_s, shop.servers.mariadb.proc.pid)
            strict_replay = None
            if strict is not None:
                await flush_log_at_trx_commit(infra, 1)
                strict_replay = await replayer.run(sizes.users, sizes.replay_s, shop.servers.mariadb.proc.pid)
                await flush_log_at_trx_commit(infra, flush)
        finally:
            await shop.stop()
    durable, durable_lost = await measure_durable(sizes, extra_env)
    machine = {"cpus": len(os.sched_getaffinity(0)), "loadavg_before": load_before, "loadavg_after": os.getloadavg()}
    outcome = Outcome(phases, lost, approved, findings, replay, processes, machine, durable, durable_lost)
    outcome.flush_log_at_trx_commit = flush
    if strict is not None and strict_replay is not None:
        outcome.at_flush_1 = (strict, strict_replay)
    return outcome


async def measure_durable(sizes: Sizes, extra_env: dict[str, str] | None = None) -> tuple[Phase, list[str]]:
    """The fast profile on a shop whose broker keeps its data in SeaweedFS; and the orders it lost."""
    with tempfile.TemporaryDirectory(prefix="kiwishop-system-s3-") as tmp:
        shop = Shop(Path(tmp), extra_env=extra_env, broker_storage="s3")
        try:
            await shop.start()
            phase = await _phase(shop, "fast", sizes, Path(tmp), spy_on_order=False)
            await shop.set_faults(latencyMsMin=0, latencyMsMax=0)
            lost, _ = await _lost(shop, [phase])
        finally:
            await shop.stop()
    return phase, lost


async def run(infra: InfraSettings, report: Report, quick: bool) -> None:
    """``infra`` is not used: the scenario starts servers of its own (it must not see other scenarios' rows)."""
    from kiwishop_dev.bench import system_report

    out = Path("results")
    outcome = await measure(QUICK if quick else FULL, out)
    own = Report()
    system_report.add_rows(own, outcome)
    print(f"\n{system_report.broker_table(outcome)}\n", flush=True)
    paths = system_report.write(outcome, out, own.table())
    report.rows += own.rows
    report.notes.append(f"system report: {paths[0]} (chart {paths[1]}, data {paths[2]})")
    if not outcome.findings.clean:
        report.notes.append(render(outcome.findings))
