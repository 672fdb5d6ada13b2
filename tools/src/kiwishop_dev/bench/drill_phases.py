"""The drill's "no won stranded" faults, each under the running load (see ``drills``):

- **the PSP loses approvals, then goes down**: for ``drop_s`` every confirm is approved but its answer lost,
  then for ``outage_s`` every confirm *and lookup* answers 5xx. No order may become FAILURE for it; after
  the PSP's return every one of them is paid, and the drill notes how long that took;
- **the broker restarts** (durable storage): records, headers and committed offsets survive;
- **a seller's wallet arrives late**: a seller registers while wallet's database refuses new wallets (as a
  read-only failover would: error 1290), one of its products is sold, and only ``wallet_late_s`` later may
  the wallet be created — the sale must then be credited exactly once, with nothing in any DLT;
- **a full stop and start** with wallet paused (SIGSTOP) while orders are paid: wallet only dies by SIGKILL,
  every other service stops gracefully, then the broker and its S3 store stop and everything starts again.
"""

from __future__ import annotations

import asyncio
import os
import signal
import time
from dataclasses import dataclass
from decimal import Decimal
from typing import Any, Protocol

from kiwishop.platform.httpclient import HttpClient
from kiwishop_dev.bench.shop import ORDER_DB, SERVICES, WALLET_DB, Shop
from kiwishop_dev.devstack.infra import SeaweedFS, TansuBroker

LATE_WALLET_TRIGGER = "drill_wallet_arrives_late"


class Drill(Protocol):
    shop: Shop

    def note(self, what: str) -> None: ...


@dataclass(frozen=True)
class PhasePlan:
    drop_s: float
    outage_s: float
    wallet_late_s: float
    broker_down_s: float
    paused_s: float


@dataclass
class LateSale:
    seller_no: int
    order_id: str
    amount: Decimal


async def restart_broker(drill: Drill, plan: PhasePlan) -> None:
    broker = drill.shop.servers.broker
    drill.note(f"broker stopping ({broker.storage})")
    await asyncio.to_thread(broker.stop)
    await asyncio.sleep(plan.broker_down_s)
    await asyncio.to_thread(broker.start)
    drill.note("broker up again")


async def psp_outage(drill: Drill, plan: PhasePlan) -> float:
    """Lost approvals, then the PSP down with failing lookups; returns the monotonic time it came back."""
    shop = drill.shop
    await shop.set_faults(faultDropRate=1.0, fault5xxRate=0.0, faultTimeoutRate=0.0)
    drill.note(f"PSP approves but every answer is lost, for {plan.drop_s:.0f} s")
    await asyncio.sleep(plan.drop_s)
    await shop.set_faults(faultDropRate=0.0, fault5xxRate=1.0, faultLookups=True)
    drill.note(f"PSP down: every confirm and lookup answers 5xx for {plan.outage_s:.0f} s")
    await asyncio.sleep(plan.outage_s)
    await shop.set_faults(fault5xxRate=0.0, faultLookups=False)
    drill.note("PSP back")
    return time.monotonic()


async def in_doubt_orders(shop: Shop, among: list[str] | None = None) -> list[str]:
    """Orders in doubt now (EXECUTING, UNKNOWN, QUARANTINED), or those of ``among`` still in doubt."""
    sql = (
        "SELECT DISTINCT order_id FROM payment_orders WHERE payment_order_status IN "
        "('EXECUTING', 'UNKNOWN', 'QUARANTINED')"
    )
    found = [str(row[0]) for row in await shop.rows(ORDER_DB, sql)]
    return found if among is None else sorted(set(found) & set(among))


async def settled_after(shop: Shop, since: float, deadline_s: float) -> tuple[int, float | None]:
    """The orders in doubt when the PSP came back (``since``): how many, and the seconds until the last of
    them had its verdict (None: not within the deadline). Orders the running load creates later don't count."""
    waiting = await in_doubt_orders(shop)
    count = len(waiting)
    while time.monotonic() - since < deadline_s:
        waiting = await in_doubt_orders(shop, waiting)
        if not waiting:
            return count, round(time.monotonic() - since, 1)
        await asyncio.sleep(0.5)
    return count, None


async def refuse_new_wallets(shop: Shop, refuse: bool) -> None:
    async with shop.db(WALLET_DB).engine.begin() as conn:
        await conn.exec_driver_sql(f"DROP TRIGGER IF EXISTS {LATE_WALLET_TRIGGER}")
        if refuse:
            await conn.exec_driver_sql(
                f"CREATE TRIGGER {LATE_WALLET_TRIGGER} BEFORE INSERT ON wallets FOR EACH ROW SIGNAL SQLSTATE 'HY000'"
                " SET MYSQL_ERRNO = 1290, MESSAGE_TEXT = 'drill: the wallets table is read-only for a while'"
            )


async def sell_for_a_seller_without_a_wallet(drill: Drill) -> LateSale:
    """Wallet creation is refused (waited out, never parked); the new seller's product is sold meanwhile."""
    shop = drill.shop
    await refuse_new_wallets(shop, True)
    seller = HttpClient(shop.url("seller"), read_timeout_s=30)
    try:
        registered = await seller.post("/api/sellers", json={"sellerId": f"late-{time.time_ns()}"})
        if registered.status_code != 202:
            raise RuntimeError(f"seller registration: {registered.status_code} {registered.text}")
        seller_no = int(registered.json()["sellerNo"])
    finally:
        await seller.aclose()
    product_no = await shop.register_product(seller_no, "LATE", "늦은지갑상품", 7000)
    order_id, amount = await buy(shop, product_no)
    drill.note(f"seller {seller_no} sold {amount} (order {order_id}) while wallets cannot be created")
    return LateSale(seller_no, order_id, amount)


async def let_the_wallet_arrive(drill: Drill, plan: PhasePlan) -> None:
    await asyncio.sleep(plan.wallet_late_s)
    await refuse_new_wallets(drill.shop, False)
    drill.note(f"wallets can be created again, {plan.wallet_late_s:.0f} s after the sale")


async def buy(shop: Shop, product_no: int, member: int = 777) -> tuple[str, Decimal]:
    """Checkout, authorise at the PSP, confirm (a 202 is fine: recovery settles it), as ``member``."""
    order = HttpClient(shop.url("order"), read_timeout_s=60)
    psp = HttpClient(shop.url("toss-emulator"), read_timeout_s=30)
    auth = shop.tokens.as_member(member)
    try:
        checkout = {"memberNo": member, "productNoList": [product_no]}
        created = (await order.post("/api/checkout", json=checkout, headers=auth)).json()
        order_id, amount = str(created["orderId"]), Decimal(str(created["amount"]))
        body = {"orderId": order_id, "amount": int(amount), "orderName": created["orderName"]}
        key = (await psp.post("/emulator/payments", json=body)).json()["paymentKey"]
        confirm = {"paymentKey": key, "orderId": order_id, "amount": int(amount)}
        answered = await order.post("/api/payments/confirm", json=confirm, headers=auth)
        if answered.status_code not in (200, 202):
            raise RuntimeError(f"confirm of the late seller's order: {answered.status_code} {answered.text}")
        return order_id, amount
    finally:
        await order.aclose()
        await psp.aclose()


async def late_sale_problems(shop: Shop, sale: LateSale) -> list[str]:
    """The late seller's sale: credited exactly once, nothing still held."""
    rows: list[Any] = await shop.rows(
        WALLET_DB,
        "SELECT (SELECT COALESCE(SUM(balance), 0) FROM wallets WHERE seller_no = :s),"
        " (SELECT COUNT(*) FROM wallet_transactions t JOIN wallets w ON w.wallet_no = t.wallet_no"
        "  WHERE w.seller_no = :s AND t.order_id = :o),"
        " (SELECT COUNT(*) FROM held_settlements WHERE seller_no = :s AND released_at IS NULL)",
        {"s": sale.seller_no, "o": sale.order_id},
    )
    balance, credits, held = rows[0]
    problems = []
    if Decimal(balance) != sale.amount or int(credits) != 1:
        seen = f"balance {balance}, {credits} credit(s)"
        problems.append(f"late seller {sale.seller_no}: {seen}, expected {sale.amount} credited once")
    if int(held):
        problems.append(f"late seller {sale.seller_no}: {held} line(s) still held")
    return problems


async def full_restart(drill: Drill, plan: PhasePlan) -> None:
    """Wallet paused while orders are paid, then every process stops and the whole stack starts again."""
    shop = drill.shop
    fleet = shop.fleet
    assert fleet is not None
    wallet = fleet.procs["wallet"]
    if wallet.pid is not None:
        os.kill(wallet.pid, signal.SIGSTOP)
    drill.note("wallet paused (SIGSTOP) while orders are paid")
    await asyncio.sleep(plan.paused_s)
    started = time.monotonic()
    wallet.kill()  # a paused process only goes with SIGKILL (what `make stop` falls back to)
    await shop.stop_services()
    servers: list[TansuBroker | SeaweedFS] = [shop.servers.broker]
    if shop.servers.seaweedfs is not None:
        servers.append(shop.servers.seaweedfs)
    for server in servers:
        await asyncio.to_thread(server.stop)
    drill.note(f"stack stopped (services, then the broker and its store) in {time.monotonic() - started:.1f} s")
    for server in reversed(servers):
        await asyncio.to_thread(server.start)
    await asyncio.to_thread(fleet.start, *SERVICES, timeout_s=180)
    drill.note(f"stack up again, {time.monotonic() - started:.1f} s after the stop began")
