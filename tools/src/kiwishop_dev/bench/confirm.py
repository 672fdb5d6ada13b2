"""Payments under load: checkout → emulator authorise → confirm, with the emulator answering in 100–300 ms.

catalog, the Toss emulator and order run as their own processes (as in `make run`); the driver keeps
``concurrency`` buyers busy for ``duration_s`` and measures the confirm calls. The PSP's own latency is
probed directly at the emulator in the same run, so "confirm p99 ≤ PSP p99 + 50 ms" compares like with like.
Each buyer is a member of its own (their bearer token, minted from the fleet's key), as real buyers are: one
member buying at this rate would be a member no shop lets buy so fast.
"""

from __future__ import annotations

import asyncio
import base64
import time
from dataclasses import dataclass, field
from pathlib import Path

from kiwishop.catalog.app import SERVICE as CATALOG
from kiwishop.order.app import SERVICE as ORDER
from kiwishop.order.settings import TEST_SECRET_KEY
from kiwishop.platform.httpclient import HttpClient
from kiwishop.platform.migrations import migrate
from kiwishop.platform.settings import InfraSettings
from kiwishop_dev.bench.report import Report, percentile
from kiwishop_dev.devstack.fleet import Fleet
from kiwishop_dev.tokens import TokenMint

SCENARIO = "confirm"


@dataclass
class Samples:
    confirm_ms: list[float] = field(default_factory=list)
    psp_ms: list[float] = field(default_factory=list)
    errors: dict[str, int] = field(default_factory=dict)

    def error(self, what: str) -> None:
        self.errors[what] = self.errors.get(what, 0) + 1


async def _buyer(
    order: HttpClient, emulator: HttpClient, samples: Samples, until: float, member: int, tokens: TokenMint
) -> None:
    auth = tokens.as_member(member)
    while time.monotonic() < until:
        checkout = await order.post(
            "/api/checkout", json={"memberNo": member, "productNoList": [1, 2, 3]}, headers=auth
        )
        if checkout.status_code != 201:
            samples.error(f"checkout {checkout.status_code}")
            continue
        created = checkout.json()
        authorised = await emulator.post(
            "/emulator/payments",
            json={"orderId": created["orderId"], "amount": 6000, "orderName": created["orderName"]},
        )
        if authorised.status_code != 201:
            samples.error(f"authorise {authorised.status_code}")
            continue
        started = time.perf_counter()
        confirmed = await order.post(
            "/api/payments/confirm",
            json={"paymentKey": authorised.json()["paymentKey"], "orderId": created["orderId"], "amount": 6000},
            headers=auth,
        )
        if confirmed.status_code == 200:
            samples.confirm_ms.append((time.perf_counter() - started) * 1000)
        else:
            samples.error(f"confirm {confirmed.status_code}")


async def _psp_probe(emulator: HttpClient, samples: Samples, until: float) -> None:
    """The PSP's latency as the order service sees it: Toss API calls straight to the emulator."""
    auth = {"Authorization": "Basic " + base64.b64encode(f"{TEST_SECRET_KEY}:".encode()).decode()}
    while time.monotonic() < until:
        started = time.perf_counter()
        await emulator.get("/v1/payments/orders/probe-order-0000", headers=auth)  # 404 after the same latency
        samples.psp_ms.append((time.perf_counter() - started) * 1000)
        await asyncio.sleep(0.05)


async def drive(
    order_url: str, emulator_url: str, concurrency: int, duration_s: float, tokens: TokenMint
) -> tuple[Samples, float]:
    order = HttpClient(order_url, read_timeout_s=30, max_connections=concurrency + 10)
    emulator = HttpClient(emulator_url, read_timeout_s=30, max_connections=concurrency + 10)
    try:
        samples = Samples()
        warm_until = time.monotonic() + 2.0
        await asyncio.gather(*(_buyer(order, emulator, Samples(), warm_until, i, tokens) for i in range(1, 11)))
        started = time.monotonic()
        until = started + duration_s
        await asyncio.gather(
            _psp_probe(emulator, samples, until),
            *(_buyer(order, emulator, samples, until, i, tokens) for i in range(1, concurrency + 1)),
        )
        return samples, time.monotonic() - started
    finally:
        await order.aclose()
        await emulator.aclose()


async def run(infra: InfraSettings, report: Report, quick: bool, log_dir: Path | None = None) -> None:
    await migrate(infra, "payment_msa_v2_catalog", CATALOG.migrations, CATALOG.seed)
    await migrate(infra, "payment_msa_v2_order", ORDER.migrations)
    fleet = Fleet(
        infra,
        log_dir or Path("results") / "logs",
        {"KIWI_TOSS_EMULATOR_LATENCY_MS_MIN": "100", "KIWI_TOSS_EMULATOR_LATENCY_MS_MAX": "300"},
    )
    try:
        fleet.start("catalog", "toss-emulator", "order")
        samples, elapsed = await drive(
            fleet.url("order"), fleet.url("toss-emulator"), concurrency=60 if quick else 160,
            duration_s=5 if quick else 20, tokens=fleet.tokens,
        )  # fmt: skip
    finally:
        fleet.stop()
    rate = len(samples.confirm_ms) / elapsed
    psp_p99 = percentile(samples.psp_ms, 99)
    confirm_p99 = percentile(samples.confirm_ms, 99)
    report.add(SCENARIO, "confirms/s (checkout→authorise→confirm, PSP 100–300 ms)", rate, "1/s", ">= 400", rate >= 400)
    report.add(SCENARIO, "confirm p50", percentile(samples.confirm_ms, 50), "ms")
    report.add(SCENARIO, "confirm p99", confirm_p99, "ms", f"<= {psp_p99 + 50:.0f}", confirm_p99 <= psp_p99 + 50)
    report.add(SCENARIO, "PSP p99 (direct probe)", psp_p99, "ms")
    if samples.errors:
        report.notes.append(f"confirm scenario errors: {samples.errors}")
