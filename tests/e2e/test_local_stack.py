"""`make run` as a newcomer uses it: the stack comes up, serves catalog, sells and settles, stops (`make stop`,
Ctrl-C) leaving no process behind, and the next start — after a stop or after everything was killed with -9 —
finds the same data: the database rows, the records on the broker, which keeps them in SeaweedFS, and the
identity signing key in ``.data`` (a token minted from it before the stop is still good after). Runs
`kiwishop run` in a scratch folder on free ports; the calls carry tokens minted from that key, as the developer's
tools do.

One stack start is shared (``first_start``, module-scoped): the tests that need it running come first in this
module; the last test takes it over and stops, kills and restarts it."""

from __future__ import annotations

import asyncio
import contextlib
import os
import signal
import subprocess
import sys
import time
from collections.abc import Iterator
from dataclasses import dataclass
from decimal import Decimal
from functools import cached_property
from pathlib import Path
from typing import Any

import httpx
import pytest

from kiwishop.services import definitions
from kiwishop_dev.devstack.fleet import service_ports_env
from kiwishop_dev.devstack.infra import SeaweedPorts
from kiwishop_dev.devstack.procs import free_port
from kiwishop_dev.devstack.signing_key import local_signing_key
from kiwishop_dev.tokens import TokenMint
from tests.e2e.local_stack_support import (
    alive,
    get_json,
    on_broker,
    produce,
    recorded_pids,
    start_stack,
    stop_with_ctrl_c,
    wait_for_banner,
)
from tests.support import emulator_admin, eventually


@dataclass
class Stack:
    """The first `kiwishop run` of this module, on free ports, in its own folder."""

    root: Path
    env: dict[str, str]
    ports: dict[str, int]  # db, redis, kafka
    service_ports: dict[str, int]
    proc: subprocess.Popen[bytes]
    banner: str

    def url(self, service: str) -> str:
        return f"http://127.0.0.1:{self.service_ports[service]}"

    @cached_property
    def tokens(self) -> TokenMint:
        """Tokens from the stack's own key (made in ``.data`` at its first start; read once it is up)."""
        return TokenMint(local_signing_key(self.root / ".data"))

    def stop(self) -> subprocess.CompletedProcess[bytes]:
        """The way `make stop` does it, from another process."""
        stopped = subprocess.run([sys.executable, "-m", "kiwishop", "stop"], cwd=self.root, env=self.env, timeout=240)
        self.proc.wait(timeout=30)
        return stopped


@pytest.fixture(scope="module")
def first_start(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Stack]:
    """The stack, started once for the module (a start takes tens of seconds); stopped at the end unless a test
    did so already."""
    root = tmp_path_factory.mktemp("local-stack")
    ports = {name: free_port() for name in ("db", "redis", "kafka")}
    service_ports = {service.name: free_port() for service in definitions()}
    env = {
        **os.environ,
        "KIWI_DB_PORT": str(ports["db"]),
        "KIWI_DB_PASSWORD": "stack-test",
        "KIWI_REDIS_URL": f"redis://127.0.0.1:{ports['redis']}/0",
        "KIWI_KAFKA_BOOTSTRAP_SERVERS": f"127.0.0.1:{ports['kafka']}",
        "KIWI_LOCAL_SEAWEEDFS_PORT": str(SeaweedPorts.free().s3),
        **service_ports_env(service_ports),
    }
    env.pop("KIWI_LOCAL_BROKER_STORAGE", None)  # the default: the broker keeps its data in SeaweedFS
    env.pop("KIWI_IDENTITY_SIGNING_KEY", None)  # the default: identity's key is made once in .data
    proc = start_stack(root, env)
    stack = Stack(root, env, ports, service_ports, proc, banner="")
    try:
        stack.banner = wait_for_banner(proc)
        yield stack
    finally:
        if proc.poll() is None:
            stack.stop()


async def register_seller(seller: httpx.AsyncClient, seller_id: str, tokens: TokenMint) -> int:
    """Through the seller saga (open to anyone): the seller's number once its wallet exists (COMPLETED), as the new
    seller watches its registration."""
    registered = await seller.post("/api/sellers", json={"sellerId": seller_id})
    assert registered.status_code == 202, registered.text
    path = f"/api/sellers/registrations/{registered.json()['registrationId']}"
    mine = tokens.as_seller(int(registered.json()["sellerNo"]))
    done = await eventually(
        lambda: seller.get(path, headers=mine),
        lambda r: r.json()["state"] != "WALLET_REQUESTED",
        timeout_s=60,
        interval_s=0.2,
    )
    assert done.json()["state"] == "COMPLETED", done.text
    return int(registered.json()["sellerNo"])


async def register_product(
    catalog: httpx.AsyncClient, seller_no: int, name: str, price: int, auth: dict[str, str]
) -> int:
    """A product of the seller, by the seller, once catalog learnt the seller from seller's events (409 CTG0005 until
    then)."""
    body = {"sellerNo": seller_no, "productId": "E2E", "name": name, "price": price}
    created = await eventually(
        lambda: catalog.post("/api/products", json=body, headers=auth),
        lambda r: r.status_code != 409 or r.json().get("code") != "CTG0005",
        timeout_s=60,
        interval_s=0.2,
    )
    assert created.status_code == 201, created.text
    return int(created.json()["productNo"])


async def balance(wallet: httpx.AsyncClient, seller_no: int, auth: dict[str, str]) -> Decimal:
    response = await wallet.get(f"/api/wallets/sellers/{seller_no}", headers=auth)
    assert response.status_code == 200, response.text
    return Decimal(str(response.json()["balance"]))


@pytest.mark.slow
@pytest.mark.timeout(420)  # the module's stack start (setup) included
async def test_a_purchase_from_two_new_sellers_credits_each_seller_s_wallet_with_exactly_its_line(
    first_start: Stack,
) -> None:
    """The seed has one seller (seller 1, docs/original.md "Seed data"): two more register through the seller
    saga and put a product each on sale; one order buys both (checkout, the emulator's authorisation,
    confirm, as member 1), and wallet credits each seller exactly its own line — nothing to seller 1; each seller
    reads its own wallet."""
    stack = first_start
    assert stack.proc.poll() is None, "the shared stack was already stopped: this test must come before that one"
    stamp = time.time_ns()
    prices = {"first": 1100, "second": 2300}
    tokens = stack.tokens
    buyer = tokens.as_member(1)
    async with (
        httpx.AsyncClient(base_url=stack.url("seller"), timeout=30) as seller,
        httpx.AsyncClient(base_url=stack.url("catalog"), timeout=30) as catalog,
        httpx.AsyncClient(base_url=stack.url("wallet"), timeout=30) as wallet,
        httpx.AsyncClient(base_url=stack.url("order"), timeout=60) as order,
        httpx.AsyncClient(base_url=stack.url("toss-emulator"), timeout=30, headers=emulator_admin()) as psp,
    ):
        sellers = {which: await register_seller(seller, f"e2e-{stamp}-{which}", tokens) for which in prices}
        products = {
            which: await register_product(catalog, n, f"판매자상품-{which}", prices[which], tokens.as_seller(n))
            for which, n in sellers.items()
        }
        before = {n: await balance(wallet, n, tokens.as_seller(n)) for n in (1, *sellers.values())}

        body = {"memberNo": 1, "productNoList": list(products.values())}
        checkout = await order.post("/api/checkout", json=body, headers=buyer)
        assert checkout.status_code == 201, checkout.text
        created: dict[str, Any] = checkout.json()
        order_id, amount = created["orderId"], int(Decimal(str(created["amount"])))
        assert amount == sum(prices.values())
        authorised = await psp.post(
            "/emulator/payments", json={"orderId": order_id, "amount": amount, "orderName": created["orderName"]}
        )
        assert authorised.status_code in (200, 201), authorised.text
        confirm = {"paymentKey": authorised.json()["paymentKey"], "orderId": order_id, "amount": amount}
        confirmed = await order.post("/api/payments/confirm", json=confirm, headers=buyer)
        assert (confirmed.status_code, confirmed.json()["status"]) == (200, "SUCCESS"), confirmed.text
        shown = await order.get("/api/orders", params={"orderId": order_id}, headers=buyer)
        lines = shown.json()["paymentOrderList"]
        for stranger, status in (({}, 401), (tokens.as_member(2), 403)):  # the stack checks who asks
            refused = await order.get("/api/orders", params={"orderId": order_id}, headers=stranger)
            assert refused.status_code == status, refused.text
        line_of = {line["sellerNo"]: Decimal(str(line["amount"])) for line in lines}
        assert line_of == {sellers[which]: Decimal(price) for which, price in prices.items()}

        async def grown() -> dict[int, Decimal]:
            return {n: await balance(wallet, n, tokens.as_seller(n)) - before[n] for n in sellers.values()}

        await eventually(grown, lambda growth: growth == line_of, timeout_s=60, interval_s=0.2)
        for seller_no, line in line_of.items():  # one CREDIT each, for this order: nothing credited twice
            path = f"/api/wallets/sellers/{seller_no}/transactions"
            page = (await wallet.get(path, headers=tokens.as_seller(seller_no))).json()["transactions"]
            assert [(t["type"], Decimal(str(t["amount"])), t["orderId"]) for t in page] == [("CREDIT", line, order_id)]
        assert await balance(wallet, 1, tokens.as_seller(1)) == before[1]
        assert await grown() == line_of


@pytest.mark.slow
@pytest.mark.timeout(900)  # three stack starts and stops, each with deadlines of its own (up to 240 s for a stop)
def test_make_run_keeps_rows_and_broker_records_across_make_stop_and_kill_9_and_stops_cleanly(
    first_start: Stack,
) -> None:
    root, env, ports, service_ports = first_start.root, first_start.env, first_start.ports, first_start.service_ports
    bootstrap = f"127.0.0.1:{ports['kafka']}"
    base = f"http://127.0.0.1:{service_ports['catalog']}"
    kept = (b"stack", b"produced before make stop", (("made-by", b"e2e"),))

    first = first_start.proc  # this test takes the module's stack over, and stops it
    assert first.poll() is None
    seller_1 = first_start.tokens.as_seller(1)  # minted from .data's key before the stop, used after it too
    try:
        banner = first_start.banner
        assert f"http://localhost:{service_ports['catalog']}" in banner
        products = get_json(f"{base}/products?productNoList=1&productNoList=3")
        assert [p["productNo"] for p in products["productList"]] == [1, 3]  # type: ignore[index]
        body = {"sellerNo": 1, "productId": "D", "name": "상품D", "price": 4000}
        created = get_json(f"{base}/api/products", body, seller_1)
        asyncio.run(produce(bootstrap, kept[1]))
        pids = recorded_pids(root)
    finally:  # the way `make stop` does it, from another process
        stopped = first_start.stop()
    assert stopped.returncode == 0
    assert first.returncode == 0
    assert set(pids) == {"mariadb", "redis", "seaweedfs", "tansu", *service_ports}
    assert [name for name, pid in pids.items() if alive(pid)] == []
    assert not (root / ".run" / "stack.pid").exists()

    second = start_stack(root, env)
    try:
        wait_for_banner(second)
        again = get_json(f"{base}/products/{created['productNo']}")  # type: ignore[index]
        assert again == created
        body = {"sellerNo": 1, "productId": "E", "name": "상품E", "price": 5000}
        later = get_json(f"{base}/api/products", body, seller_1)  # the same key in .data: the token still good
        assert later["productId"] == "E", later  # type: ignore[index]
        assert on_broker(bootstrap, expect=1) == [kept]
        asyncio.run(produce(bootstrap, b"produced before kill -9"))
    finally:  # a crash: the supervisor and every process it started, killed with -9 at once
        for pid in [second.pid, *recorded_pids(root).values()]:
            with contextlib.suppress(ProcessLookupError):
                os.kill(pid, signal.SIGKILL)
        second.wait(timeout=30)

    third = start_stack(root, env)
    try:
        wait_for_banner(third)
        assert get_json(f"{base}/products/{created['productNo']}") == created  # type: ignore[index]
        assert on_broker(bootstrap, expect=2) == [kept, (b"stack", b"produced before kill -9", kept[2])]
    finally:  # this time with Ctrl-C
        pids = recorded_pids(root)
        stop_with_ctrl_c(third)
    assert third.returncode == 0
    assert [name for name, pid in pids.items() if pid and alive(pid)] == []
