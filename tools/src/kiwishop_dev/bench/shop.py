"""The whole shop on private servers, for the system benchmark and the fault drills.

``Shop(root)`` starts its own MariaDB, Redis and broker (``ScratchServers`` — never the `make run` stack,
and never another scenario's leftovers; the broker in memory, or with ``broker_storage="s3"`` on a private
SeaweedFS as `make run` runs it), migrates and seeds every schema, creates the topics, starts every
service as a ``kiwishop serve`` process (``Fleet``), registers ``sellers`` sellers through the seller
saga (so their wallets exist) and ``products_per_seller`` products each at catalog (once catalog has
learnt each seller from seller's events), each as its seller (``tokens``: the fleet's, see ``Fleet``).
"""

from __future__ import annotations

import asyncio
import time
from decimal import Decimal
from pathlib import Path
from typing import Any

from sqlalchemy import text

from kiwishop import services
from kiwishop.ops import prepare
from kiwishop.ops.reconcile import Findings, Sources, reconcile
from kiwishop.order.settings import TEST_SECRET_KEY
from kiwishop.platform.db import Database
from kiwishop.platform.httpclient import HttpClient, HttpError
from kiwishop.toss_emulator.settings import admin_headers
from kiwishop_dev.bench.load import Product, Targets
from kiwishop_dev.devstack.fleet import PREFIX, Fleet
from kiwishop_dev.devstack.scratch import BrokerStorage, ScratchServers
from kiwishop_dev.tokens import TokenMint

ORDER_DB = "payment_msa_v2_order"
WALLET_DB = "payment_msa_v2_wallet"
SERVICES = tuple(PREFIX)  # every service, the emulator first
FAULTS_WAIT_S = 30.0  # how long ``set_faults`` waits for an emulator that does not answer


async def _register_product(client: HttpClient, tokens: TokenMint, body: dict[str, Any], deadline: float) -> int:
    """The new product's number, registered by its seller; a seller catalog does not know yet (409 CTG0005) is
    asked for again."""
    while True:
        response = await client.post("/api/products", json=body, headers=tokens.as_seller(body["sellerNo"]))
        if response.status_code == 201:
            return int(response.json()["productNo"])
        if response.status_code != 409 or response.json().get("code") != "CTG0005":
            raise RuntimeError(f"product registration: {response.status_code} {response.text}")
        if time.monotonic() > deadline:
            raise TimeoutError(f"catalog did not learn seller {body['sellerNo']} in time")
        await asyncio.sleep(0.1)


class Shop:
    def __init__(
        self, root: Path, *, extra_env: dict[str, str] | None = None, broker_storage: BrokerStorage = "memory"
    ) -> None:
        self.root = root
        self.servers = ScratchServers(root / "servers", broker_storage=broker_storage)
        self.extra_env = extra_env or {}
        self.fleet: Fleet | None = None
        self.products: list[Product] = []
        self._dbs: dict[str, Database] = {}

    async def start(self, *, sellers: int = 8, products_per_seller: int = 5) -> Shop:
        self.servers.start()
        infra = self.servers.infra
        await prepare.migrate_all(services.definitions(), infra, seed=True)
        await prepare.create_topics(infra)
        self.fleet = Fleet(infra, self.root / "logs", self.extra_env)
        await asyncio.to_thread(self.fleet.start, *SERVICES, timeout_s=120)
        self.products = await self._catalog(await self._sellers(sellers), products_per_seller)
        return self

    async def stop(self) -> None:
        for db in self._dbs.values():
            await db.close()
        self._dbs.clear()
        await self.stop_services()
        await asyncio.to_thread(self.servers.stop)

    async def stop_services(self) -> None:
        """Every service at once (each stops gracefully; one after the other took seconds each)."""
        if self.fleet is not None:
            procs = list(self.fleet.procs.values())
            await asyncio.gather(*(asyncio.to_thread(proc.stop) for proc in procs))
            self.fleet.procs.clear()

    # -- set-up --------------------------------------------------------------------------------------
    async def _sellers(self, count: int) -> list[int]:
        """Register sellers through the saga and wait until each one's wallet exists."""
        client = HttpClient(self.url("seller"), read_timeout_s=30)
        stamp = time.time_ns()
        try:
            registered = []
            for i in range(count):
                response = await client.post("/api/sellers", json={"sellerId": f"bench-{stamp}-{i}"})
                if response.status_code != 202:
                    raise RuntimeError(f"seller registration: {response.status_code} {response.text}")
                registered.append(response.json())
            deadline = time.monotonic() + 60
            for registration in registered:
                path = f"/api/sellers/registrations/{registration['registrationId']}"
                mine = self.tokens.as_seller(int(registration["sellerNo"]))  # (registering itself needs no token)
                while (state := (await client.get(path, headers=mine)).json()["state"]) == "WALLET_REQUESTED":
                    if time.monotonic() > deadline:
                        raise TimeoutError("the seller saga did not create the wallets in 60 s")
                    await asyncio.sleep(0.1)
                if state != "COMPLETED":
                    raise RuntimeError(f"seller registration ended {state}")
            return [int(r["sellerNo"]) for r in registered]
        finally:
            await client.aclose()

    async def _catalog(self, sellers: list[int], per_seller: int) -> list[Product]:
        """Register the products; catalog learns a new seller from seller's SELLER_REGISTERED a moment after
        the registration, and answers 409 CTG0005 until then: such a product is asked again (60 s deadline)."""
        client = HttpClient(self.url("catalog"), read_timeout_s=30)
        deadline = time.monotonic() + 60
        try:
            made = []
            for seller_no in sellers:
                for i in range(per_seller):
                    price = Decimal(1000 * (1 + (seller_no + i) % 9))
                    body = {"sellerNo": seller_no, "productId": f"P{i}", "name": f"상품{seller_no % 1000}-{i}",
                            "price": int(price)}  # fmt: skip
                    made.append(Product(await _register_product(client, self.tokens, body, deadline), seller_no, price))
            return made
        finally:
            await client.aclose()

    async def register_product(self, seller_no: int, product_id: str, name: str, price: int) -> int:
        """One product at catalog (waiting until catalog knows the seller); its productNo."""
        client = HttpClient(self.url("catalog"), read_timeout_s=30)
        body = {"sellerNo": seller_no, "productId": product_id, "name": name, "price": price}
        try:
            return await _register_product(client, self.tokens, body, time.monotonic() + 60)
        finally:
            await client.aclose()

    # -- access --------------------------------------------------------------------------------------
    def url(self, service: str) -> str:
        assert self.fleet is not None
        return self.fleet.url(service)

    @property
    def tokens(self) -> TokenMint:
        assert self.fleet is not None
        return self.fleet.tokens

    def targets(self) -> Targets:
        return Targets(
            order=self.url("order"), emulator=self.url("toss-emulator"), like=self.url("catalog-like"),
            review=self.url("catalog-review"), hot=self.url("hot-catalog"), history=self.url("order-query"),
        )  # fmt: skip

    def db(self, name: str) -> Database:
        if name not in self._dbs:
            self._dbs[name] = Database.connect(self.servers.infra, name, pool_size=2, max_overflow=2)
        return self._dbs[name]

    async def rows(self, db_name: str, sql: str, params: dict[str, Any] | None = None) -> list[tuple[Any, ...]]:
        async with self.db(db_name).engine.connect() as conn:
            return [tuple(row) for row in await conn.execute(text(sql), params or {})]

    async def scalar(self, db_name: str, sql: str, params: dict[str, Any] | None = None) -> Any:
        rows = await self.rows(db_name, sql, params)
        return rows[0][0] if rows else None

    async def forget_connections(self) -> None:
        """After a database restart: the pooled connections are dead."""
        for db in self._dbs.values():
            await db.engine.dispose()

    async def set_faults(self, **faults: float) -> None:
        """The emulator's faults; asked again while the emulator does not answer, for up to ``FAULTS_WAIT_S`` (a
        drill kills and restarts it, and the fault phase may begin before it is back)."""
        client = HttpClient(self.url("toss-emulator"))
        deadline = time.monotonic() + FAULTS_WAIT_S
        try:
            while True:
                try:
                    response = await client.request("PUT", "/emulator/faults", json=faults, headers=admin_headers())
                    break
                except HttpError:
                    if time.monotonic() > deadline:
                        raise
                    await asyncio.sleep(0.2)
            if response.status_code != 200:
                raise RuntimeError(f"emulator faults: {response.status_code} {response.text}")
        finally:
            await client.aclose()

    async def psp_status(self, order_ids: list[str], concurrency: int = 32) -> dict[str, str]:
        """orderId → the PSP's status for it (``DONE``, ``READY``, … or ``NOT_FOUND``), asked by orderId."""
        client = HttpClient(self.url("toss-emulator"), read_timeout_s=30, max_connections=concurrency,
                            basic_auth=(TEST_SECRET_KEY, ""))  # fmt: skip
        limit = asyncio.Semaphore(concurrency)
        found: dict[str, str] = {}

        async def ask(order_id: str) -> None:
            async with limit:
                response = await client.get(f"/v1/payments/orders/{order_id}")
                found[order_id] = str(response.json().get("status")) if response.status_code == 200 else "NOT_FOUND"

        try:
            await asyncio.gather(*(ask(order_id) for order_id in order_ids))
        finally:
            await client.aclose()
        return found

    async def reconcile(self, *, lag_bound_s: float, recovery_window_s: float) -> Findings:
        sources = Sources(
            infra=self.servers.infra, order_db=ORDER_DB, wallet_db=WALLET_DB, psp_url=self.url("toss-emulator"),
            psp_secret=TEST_SECRET_KEY, lag_bound_s=lag_bound_s, recovery_window_s=recovery_window_s,
        )  # fmt: skip
        return await reconcile(sources)
