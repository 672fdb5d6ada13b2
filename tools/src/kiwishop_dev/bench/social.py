"""Likes and the hot list under load, over real HTTP against service processes (as `make run` runs them).

catalog, catalog-like and hot-catalog run as ``kiwishop serve`` processes on free ports (``Fleet``), plus
a second catalog-like process (its own port and node id, as a second instance behind a load balancer
would run). The driver keeps many keep-alive connections busy with a minimal HTTP/1.1 client (so its own
cost stays small next to the services'): distinct (product, member) likes spread over ``PRODUCTS``
products, first on one catalog-like process, then on two; then, once hot-catalog has consumed every
like event, reads of ``GET /api/hot-products``. Each like is its member's own (their bearer token, minted from
the fleet's key before the clock starts), the products seller 1's; the hot list is anonymous.
"""

from __future__ import annotations

import asyncio
import itertools
import sys
import time
import urllib.error
import urllib.request
from pathlib import Path
from urllib.parse import urlsplit

import httpx

from kiwishop.catalog.app import SERVICE as CATALOG
from kiwishop.catalog_like.app import SERVICE as LIKE
from kiwishop.platform.migrations import migrate
from kiwishop.platform.redisclient import create_redis
from kiwishop.platform.settings import InfraSettings
from kiwishop_dev.bench.report import Report, percentile
from kiwishop_dev.devstack.fleet import Fleet
from kiwishop_dev.devstack.procs import ManagedProcess, free_port, wait_until
from kiwishop_dev.tokens import TokenMint

SCENARIO = "social"
PRODUCTS = 400
LIKE_CONNECTIONS = 64
READ_CONNECTIONS = 8  # a closed loop: more connections than 3,000 req/s need only add queueing

Job = tuple[str, str, str]  # method, path, bearer token ("": none)


class Connection:
    """One keep-alive HTTP/1.1 connection; enough protocol for the services' JSON and 204 answers."""

    def __init__(self, url: str) -> None:
        parts = urlsplit(url)
        self._host, self._port = parts.hostname or "127.0.0.1", parts.port or 80
        self._reader: asyncio.StreamReader | None = None
        self._writer: asyncio.StreamWriter | None = None

    async def request(self, method: str, path: str, token: str = "") -> int:
        if self._reader is None or self._writer is None:
            self._reader, self._writer = await asyncio.open_connection(self._host, self._port)
        auth = f"Authorization: Bearer {token}\r\n" if token else ""
        self._writer.write(
            f"{method} {path} HTTP/1.1\r\nHost: {self._host}\r\n{auth}Content-Length: 0\r\n\r\n".encode()
        )
        head = (await self._reader.readuntil(b"\r\n\r\n")).decode("latin-1").split("\r\n")
        length = 0
        for line in head[1:]:
            name, _, value = line.partition(":")
            if name.lower() == "content-length":
                length = int(value)
        if length:
            await self._reader.readexactly(length)
        return int(head[0].split(" ", 2)[1])

    async def close(self) -> None:
        if self._writer is not None:
            self._writer.close()
            await self._writer.wait_closed()


async def load(urls: list[str], connections: int, jobs: list[Job], ok: int) -> tuple[list[float], int, float]:
    """Run every job over ``connections`` connections spread over ``urls``; latencies (ms), failures, seconds."""
    latencies: list[float] = []
    failures = 0
    queue = iter(jobs)

    async def worker(url: str) -> None:
        nonlocal failures
        conn = Connection(url)
        try:
            for method, path, token in queue:
                started = time.perf_counter()
                status = await conn.request(method, path, token)
                latencies.append((time.perf_counter() - started) * 1000)
                failures += status != ok
        finally:
            await conn.close()

    started = time.perf_counter()
    await asyncio.gather(*(worker(urls[i % len(urls)]) for i in range(connections)))
    return latencies, failures, time.perf_counter() - started


async def register_products(catalog_url: str, count: int, tokens: TokenMint) -> list[int]:
    """``count`` products of seller 1 (the seed's), registered as seller 1."""
    async with httpx.AsyncClient(base_url=catalog_url, timeout=10, headers=tokens.as_seller(1)) as client:
        made = []
        for i in range(count):
            body = {"sellerNo": 1, "productId": f"bench-{time.time_ns()}-{i}", "name": f"벤치{i}", "price": 1000 + i}
            response = await client.post("/api/products", json=body)
            response.raise_for_status()
            made.append(int(response.json()["productNo"]))
        return made


def like_jobs(products: list[int], total: int, first_member: int, tokens: TokenMint) -> list[Job]:
    pairs = itertools.islice(((p, m) for m in itertools.count(first_member) for p in products), total)
    return [("POST", f"/api/catalog-likes/products/{p}/members/{m}", tokens.member(m)) for p, m in pairs]


def cpu_seconds(pid: int | None) -> float:
    """User + system CPU time of a process so far (Linux /proc), to report CPU per request."""
    fields = Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()
    return (int(fields[11]) + int(fields[12])) / 100


def start_second_like_process(fleet: Fleet, log_dir: Path) -> tuple[ManagedProcess, str]:
    port = free_port()
    env = {**fleet.env, "KIWI_CATALOG_LIKE_PORT": str(port), "KIWI_CATALOG_LIKE_NODE_ID": "16"}
    proc = ManagedProcess("catalog-like-2", [sys.executable, "-m", "kiwishop", "serve", "catalog-like"], log_dir, env)
    proc.start()
    url = f"http://127.0.0.1:{port}"

    def ready() -> bool:
        try:
            with urllib.request.urlopen(f"{url}/health/ready", timeout=1) as response:  # noqa: S310
                return bool(response.status == 200)
        except (urllib.error.URLError, OSError):
            return False

    wait_until(ready, 60, "the second catalog-like process", interval_s=0.1)
    return proc, url


async def wait_until_consumed(infra: InfraSettings, likes: int, timeout_s: float = 120) -> None:
    """hot-catalog applied every like: the scores (2 per like, nothing else happens here) add up."""
    redis = create_redis(infra.redis_url)
    try:
        deadline = time.monotonic() + timeout_s
        while True:
            scores = await redis.zrange("hot-catalogs::list", 0, -1, withscores=True)
            if sum(float(entry[1]) for entry in scores) >= 2 * likes:
                return
            if time.monotonic() > deadline:
                raise TimeoutError("hot-catalog did not consume every like event")
            await asyncio.sleep(0.2)
    finally:
        await redis.aclose()


async def run(infra: InfraSettings, report: Report, quick: bool) -> None:
    await migrate(infra, "payment_msa_v2_catalog", CATALOG.migrations, CATALOG.seed)
    await migrate(infra, "payment_msa_v2_catalog_like", LIKE.migrations)
    likes, reads = (3_000, 10_000) if quick else (15_000, 50_000)
    log_dir = Path("results") / "logs"
    fleet = Fleet(infra, log_dir)
    second: ManagedProcess | None = None
    try:
        fleet.start("catalog", "catalog-like", "hot-catalog")
        second, second_url = start_second_like_process(fleet, log_dir / "catalog-like-2.log")
        urls = [fleet.url("catalog-like"), second_url]
        tokens = fleet.tokens
        products = await register_products(fleet.url("catalog"), PRODUCTS, tokens)
        for url in urls:  # warm-up: each process learns the products from catalog
            await load([url], 16, like_jobs(products, len(products), 1 + urls.index(url), tokens), 204)
        cpu = cpu_seconds(fleet.procs["catalog-like"].pid)
        one = await load(urls[:1], LIKE_CONNECTIONS, like_jobs(products, likes, 10, tokens), 204)
        cpu_per_like = (cpu_seconds(fleet.procs["catalog-like"].pid) - cpu) / likes * 1000
        two = await load(urls, LIKE_CONNECTIONS, like_jobs(products, likes, 10 + likes, tokens), 204)
        await wait_until_consumed(infra, 2 * likes + 2 * len(products))
        hot: list[Job] = [("GET", "/api/hot-products", "")] * reads
        read = await load([fleet.url("hot-catalog")], READ_CONNECTIONS, hot, 200)
    finally:
        if second is not None:
            second.stop()
        fleet.stop()
    _report(report, likes, one, two, reads, read)
    report.add(SCENARIO, "catalog-like CPU per like (1 process)", cpu_per_like, "ms")


def _report(
    report: Report,
    likes: int,
    one: tuple[list[float], int, float],
    two: tuple[list[float], int, float],
    reads: int,
    read: tuple[list[float], int, float],
) -> None:
    where = f"{LIKE_CONNECTIONS} connections, {PRODUCTS} products"
    for processes, (ms, _, seconds) in ((1, one), (2, two)):
        rate = likes / seconds
        report.add(
            SCENARIO, f"likes/s ({processes} process{'es' * (processes > 1)}, {where})", rate, "1/s",
            ">= 1,000", rate >= 1000,
        )  # fmt: skip
        report.add(SCENARIO, f"like p99 ({processes} process{'es' * (processes > 1)})", percentile(ms, 99), "ms")
    rate, p99 = reads / read[2], percentile(read[0], 99)
    report.add(SCENARIO, f"hot-list reads/s ({READ_CONNECTIONS} connections)", rate, "1/s", ">= 3,000", rate >= 3000)
    report.add(SCENARIO, "hot-list read p99", p99, "ms", "< 10", p99 < 10)
    failed = one[1] + two[1] + read[1]
    if failed:
        report.notes.append(f"social scenario: {failed} requests did not get the expected status")
