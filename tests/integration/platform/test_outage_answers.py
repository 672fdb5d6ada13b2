"""An infrastructure outage is a 503 with ``Retry-After``, never a 500: 16 buyers keep calling checkout and
confirm while a private MariaDB is stopped (as the fault drill stops it) and later killed, and started again.
Order, catalog and the Toss emulator (20–80 ms, as in the drill, so some confirms lose the database between
their two transactions) are served over real HTTP on uvloop, as ``kiwishop serve`` runs them.

The MariaDB is this module's own (the session's is shared by every other test); Redis and the broker are the
session's. The same module checks that a unit of work whose cleanup fails still reports why it failed."""

from __future__ import annotations

import asyncio
import contextlib
import logging
import secrets
import socket
import threading
import time
from collections import Counter
from collections.abc import AsyncIterator, Callable, Iterator
from dataclasses import dataclass, field
from pathlib import Path

import httpx
import pytest
import uvicorn
import uvloop
from asyncmy import errors as my
from fastapi import FastAPI
from pydantic import SecretStr
from sqlalchemy import text
from sqlalchemy.exc import OperationalError, PendingRollbackError
from sqlalchemy.ext.asyncio import AsyncConnection

from kiwishop.catalog.app import SERVICE as CATALOG
from kiwishop.catalog.app import create_app as create_catalog
from kiwishop.catalog.settings import CatalogSettings
from kiwishop.order.app import create_app as create_order
from kiwishop.order.migrations import MIGRATIONS as ORDER_MIGRATIONS
from kiwishop.order.settings import OrderSettings
from kiwishop.platform.db import Database
from kiwishop.platform.httpclient import SERVER_KEEP_ALIVE_S
from kiwishop.platform.migrations import migrate
from kiwishop.platform.settings import InfraSettings
from kiwishop.toss_emulator.app import create_app as create_emulator
from kiwishop.toss_emulator.settings import TossEmulatorSettings
from kiwishop_dev.devstack.infra import MariaDB
from kiwishop_dev.devstack.procs import free_port
from tests.support import as_member, emulator_admin, unique

pytestmark = pytest.mark.slow

ALLOWED = {200, 201, 202, 400, 404, 409, 503}


@dataclass
class Answers:
    """Every answer the load saw: status counts, 503s without a valid Retry-After, 500 bodies."""

    statuses: Counter[tuple[str, int]] = field(default_factory=Counter)
    without_retry_after: list[str] = field(default_factory=list)
    server_errors: list[str] = field(default_factory=list)

    def record(self, endpoint: str, response: httpx.Response) -> None:
        self.statuses[endpoint, response.status_code] += 1
        if response.status_code == 503:
            retry_after = response.headers.get("retry-after", "")
            try:
                body = response.json()
            except ValueError:
                body = {}
            if not retry_after.isdigit() or int(retry_after) < 1 or not {"code", "message"} <= set(body):
                self.without_retry_after.append(f"{endpoint}: {retry_after!r} {response.text[:200]}")
        elif response.status_code not in ALLOWED:
            self.server_errors.append(f"{endpoint} {response.status_code}: {response.text[:300]}")

    def count(self, status: int) -> int:
        return sum(n for (_, s), n in self.statuses.items() if s == status)


@pytest.fixture(scope="module")
def private_mariadb(tmp_path_factory: pytest.TempPathFactory) -> Iterator[MariaDB]:
    root: Path = tmp_path_factory.mktemp("outage-mariadb")
    server = MariaDB(root / "mariadb", free_port(), secrets.token_hex(8), root / "logs")
    server.start()
    try:
        yield server
    finally:
        server.stop()


@pytest.fixture(scope="module")
def outage_infra(infra: InfraSettings, private_mariadb: MariaDB) -> InfraSettings:
    """The session's Redis and broker, the private MariaDB."""
    password = SecretStr(private_mariadb.password)
    return infra.model_copy(update={"db_port": private_mariadb.port, "db_password": password})


@dataclass(frozen=True)
class Shop:
    order: str
    emulator: str


class ServedOnUvloop:
    """Apps served by uvicorn on a uvloop event loop in a thread of their own, as ``kiwishop serve`` runs them
    (the loop matters: uvloop's transports fail differently from asyncio's when the peer goes away)."""

    def __init__(self, build: Callable[[dict[str, str]], dict[str, FastAPI]], names: list[str]) -> None:
        self._build = build
        self._sockets = {name: _bound_socket() for name in names}
        self.urls = {name: f"http://127.0.0.1:{sock.getsockname()[1]}" for name, sock in self._sockets.items()}
        self._servers: list[uvicorn.Server] = []
        self._thread = threading.Thread(target=lambda: uvloop.run(self._serve()), name="outage-apps", daemon=True)

    async def _serve(self) -> None:
        serving = []
        for name, app in self._build(self.urls).items():
            server = uvicorn.Server(
                uvicorn.Config(
                    app, log_config=None, access_log=False, http="httptools", timeout_keep_alive=SERVER_KEEP_ALIVE_S
                )
            )
            server.capture_signals = contextlib.nullcontext  # type: ignore[method-assign,assignment]
            self._servers.append(server)
            serving.append(server.serve(sockets=[self._sockets[name]]))
        await asyncio.gather(*serving)

    def __enter__(self) -> ServedOnUvloop:
        self._thread.start()
        deadline = time.monotonic() + 60
        while len(self._servers) < len(self._sockets) or not all(s.started for s in self._servers):
            if not self._thread.is_alive() or time.monotonic() > deadline:
                raise RuntimeError("the apps did not start")
            time.sleep(0.05)
        return self

    def __exit__(self, *_: object) -> None:
        for server in self._servers:
            server.should_exit = True
        self._thread.join(timeout=60)
        for sock in self._sockets.values():
            sock.close()


def _bound_socket() -> socket.socket:
    sock = socket.socket(socket.AF_INET, socket.SOCK_STREAM)
    sock.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
    sock.bind(("127.0.0.1", 0))
    return sock


@pytest.fixture(scope="module")
async def shop(outage_infra: InfraSettings) -> AsyncIterator[Shop]:
    tag = unique("outage")
    catalog_settings = CatalogSettings(
        infra=outage_infra, db_name="outage_catalog", node_id=130, seller_topic=f"{tag}-seller",
        seller_group_id=f"{tag}-seller-group",
    )  # fmt: skip
    await migrate(outage_infra, catalog_settings.db_name, CATALOG.migrations, CATALOG.seed)
    await migrate(outage_infra, "outage_order", ORDER_MIGRATIONS)

    def build(urls: dict[str, str]) -> dict[str, FastAPI]:
        order_settings = OrderSettings(
            infra=outage_infra, db_name="outage_order", node_id=131, catalog_url=urls["catalog"],
            toss_api_url=urls["emulator"], hot_catalog_url=urls["emulator"], payment_topic=f"{tag}-payment",
            wallet_topic=f"{tag}-wallet", wallet_group_id=f"{tag}-wallet-group", psp_retry_base_s=0.05,
            recovery_interval_s=0.2, executing_stale_s=5.0, outbox_poll_interval_s=0.2,
            consumer_retry_backoff_s=(0.05, 0.1, 0.2),
        )  # fmt: skip
        return {
            "catalog": create_catalog(catalog_settings),
            "emulator": create_emulator(TossEmulatorSettings(latency_ms_min=20, latency_ms_max=80)),  # as in the drill
            "order": create_order(order_settings),
        }

    with ServedOnUvloop(build, ["catalog", "emulator", "order"]) as served:
        yield Shop(served.urls["order"], served.urls["emulator"])


async def buyer(shop: Shop, answers: Answers, stop: asyncio.Event, member: int) -> None:
    """Checkout, authorise at the emulator, confirm — over and over until ``stop``."""
    async with (
        httpx.AsyncClient(base_url=shop.order, timeout=30, headers=as_member(member)) as order,
        httpx.AsyncClient(base_url=shop.emulator, timeout=30, headers=emulator_admin()) as emulator,
    ):
        while not stop.is_set():
            created = await order.post("/api/checkout", json={"memberNo": member, "productNoList": [1, 2]})
            answers.record("checkout", created)
            if created.status_code != 201:
                await asyncio.sleep(0.02)
                continue
            body = created.json()
            auth = {"orderId": body["orderId"], "amount": int(body["amount"]), "orderName": body["orderName"]}
            authorised = await emulator.post("/emulator/payments", json=auth)
            assert authorised.status_code == 201, authorised.text
            confirm = {"paymentKey": authorised.json()["paymentKey"], "orderId": body["orderId"], "amount": 3000}
            for _ in range(3):
                confirmed = await order.post("/api/payments/confirm", json=confirm)
                answers.record("confirm", confirmed)
                if confirmed.status_code != 503:
                    break
                await asyncio.sleep(0.05)


async def until(condition: Callable[[], bool], timeout_s: float, answers: Answers) -> None:
    deadline = time.monotonic() + timeout_s
    while not condition():
        assert time.monotonic() < deadline, answers
        await asyncio.sleep(0.1)


async def test_checkout_and_confirm_answer_503_with_retry_after_while_mariadb_restarts(
    shop: Shop, private_mariadb: MariaDB, caplog: pytest.LogCaptureFixture
) -> None:
    """Two outages under 16 buyers: MariaDB stopped as the drill stops it (SIGTERM, a clean shutdown that
    closes every connection), then killed (-9: connections just die), each started again a moment later."""
    answers, stop = Answers(), asyncio.Event()
    buyers = [asyncio.create_task(buyer(shop, answers, stop, member)) for member in range(1, 17)]
    try:
        await until(lambda: answers.statuses["confirm", 200] > 0, 30, answers)  # the shop sells
        for halt, down_s in ((private_mariadb.stop, 2.0), (private_mariadb.proc.kill, 1.0)):
            await asyncio.to_thread(halt)
            await asyncio.sleep(down_s)
            await asyncio.to_thread(private_mariadb.start)
            await asyncio.sleep(1.0)
        paid_before = answers.statuses["confirm", 200]
        await until(lambda: answers.statuses["confirm", 200] > paid_before, 30, answers)  # and sells again
    finally:
        stop.set()
        await asyncio.gather(*buyers)
    bugs = [r.getMessage() for r in caplog.records if r.name == "kiwishop.web" and r.levelno >= logging.ERROR]
    assert not answers.server_errors, (answers.server_errors[:5], bugs[:5], answers.statuses)
    assert not answers.without_retry_after, answers.without_retry_after[:5]
    assert answers.count(503) > 0, answers.statuses  # the outage was seen


async def unit_of_work(db: Database, *, failing_with: Exception | None) -> None:
    """A unit of work that runs a statement, then fails with ``failing_with`` (or leaves without committing)."""
    async with db.uow() as uow:
        await uow.conn.execute(text("SELECT 1"))
        if failing_with is not None:
            raise failing_with


async def test_a_failed_cleanup_does_not_hide_why_a_unit_of_work_failed(
    outage_infra: InfraSettings, monkeypatch: pytest.MonkeyPatch
) -> None:
    """The block lost its connection (an outage: 503); the rollback on the way out fails too, differently: the
    caller still sees the outage. With nothing failing before it, the cleanup's own error is raised."""
    db = Database.connect(outage_infra, "outage_order")

    async def rollback_fails(_: AsyncConnection) -> None:
        raise PendingRollbackError("the rollback failed as well")

    monkeypatch.setattr(AsyncConnection, "rollback", rollback_fails)
    lost = OperationalError("SELECT 1", {}, my.OperationalError(2013, "Lost connection to MySQL server"))
    try:
        with pytest.raises(OperationalError):
            await unit_of_work(db, failing_with=lost)
        with pytest.raises(PendingRollbackError):
            await unit_of_work(db, failing_with=None)
    finally:
        monkeypatch.undo()
        await db.close()
