"""A realistic mixed load on the running services, over HTTP (``HttpClient``, aiohttp).

``concurrency`` virtual users loop until stopped; each iteration picks one action by the ``Mix`` weights:

- ``buy``: ``POST order/api/checkout`` (1–3 random products) → ``POST emulator/emulator/payments`` (the
  buyer authorises in the payment window) → ``POST order/api/payments/confirm``; a confirm that got no
  answer, a 5xx or a 409 is sent again (as a buyer reloading the success page would), at most
  ``confirm_attempts`` times; once paid, some buyers cancel a line, the whole order, or a line and then the
  rest (``bench.cancels``: ``CancelMix``; ``cancels=None``: none);
- ``like``: ``POST catalog-like/api/catalog-likes/products/{p}/members/{m}``;
- ``review``: ``POST catalog-review/api/product-reviews``;
- ``hot``: ``GET hot-catalog/api/hot-products``;
- ``history``: ``GET order-query/api/orders/members/{m}?limit=10``.

Each call acts for one of ``members`` random members and sends that member's bearer token (``tokens``, minted
from the servers' signing key; the authorisation at the emulator plays the payment window and sends none), so
a buy and its cancels are the same member's; ``hot`` is anonymous. ``tokens=None``: no token at all (a stub).

Every call is recorded as (endpoint, seconds since the start, latency ms, HTTP status; 0 = no answer), so
the report can draw throughput and latency over time (and a 503 without ``Retry-After`` is counted apart: an
outage must say when to come back); the paid orders keep the wall-clock time their
confirm answered 200 (for the confirm→credited lag), and every authorised order is remembered (for the
"lost payment" check: approved at the PSP but never credited).
"""

from __future__ import annotations

import asyncio
import random
import time
from collections import Counter
from dataclasses import dataclass, field
from decimal import Decimal

from kiwishop.platform.httpclient import HttpClient, HttpError
from kiwishop_dev.bench.arrivals import Arrivals
from kiwishop_dev.bench.cancels import CancelMix, Cancels
from kiwishop_dev.tokens import TokenMint

OK = {"checkout": 201, "authorise": 201, "confirm": 200, "like": 204, "review": 201, "hot": 200, "history": 200,
      "lines": 200, "cancel": 200, "cancel-rest": 200, "result": 200}  # fmt: skip
ACTIONS = ("buy", "like", "review", "hot", "history")
STARS = ("ONE", "TWO", "THREE", "FOUR", "FIVE")


@dataclass(frozen=True)
class Mix:
    """Relative weights of the actions a virtual user picks from, per iteration."""

    buy: float = 0.4
    like: float = 0.2
    review: float = 0.05
    hot: float = 0.2
    history: float = 0.15

    def weights(self) -> list[float]:
        return [self.buy, self.like, self.review, self.hot, self.history]


@dataclass(frozen=True)
class Targets:
    order: str
    emulator: str
    like: str
    review: str
    hot: str
    history: str


@dataclass(frozen=True)
class Product:
    product_no: int
    seller_no: int
    price: Decimal


@dataclass
class Recorder:
    """Every call with its time; outcomes by endpoint and status."""

    started: float = field(default_factory=time.monotonic)
    calls: list[tuple[str, float, float, int]] = field(default_factory=list)
    no_retry_after: Counter[str] = field(default_factory=Counter)  # per endpoint, 503s without Retry-After

    def record(self, endpoint: str, began: float, status: int, *, retry_after: bool = True) -> None:
        now = time.monotonic()
        self.calls.append((endpoint, began - self.started, (now - began) * 1000, status))
        if status == 503 and not retry_after:
            self.no_retry_after[endpoint] += 1

    def outcomes(self) -> Counter[tuple[str, int]]:
        return Counter((endpoint, status) for endpoint, _, _, status in self.calls)

    def errors(self) -> dict[str, int]:
        """``"<endpoint> <status>"`` → count, for every answer that is not the endpoint's success."""
        return {
            f"{endpoint} {status or 'no-answer'}": n
            for (endpoint, status), n in sorted(self.outcomes().items())
            if status != OK[endpoint]
        }

    def server_errors(self) -> dict[str, int]:
        """Per endpoint, the answers 500 (any 5xx but 503): a bug, since an outage answers 503."""
        found: Counter[str] = Counter()
        for (endpoint, status), n in self.outcomes().items():
            if 500 <= status < 600 and status != 503:
                found[endpoint] += n
        return dict(sorted(found.items()))


@dataclass
class Orders:
    authorised: dict[str, Decimal] = field(default_factory=dict)  # orderId → amount, authorised at the PSP
    paid_at: dict[str, float] = field(default_factory=dict)  # orderId → epoch s its confirm answered 200
    in_doubt: set[str] = field(default_factory=set)  # confirm answered 202 (or never a final answer)


class Load:
    def __init__(
        self,
        targets: Targets,
        products: list[Product],
        *,
        mix: Mix | None = None,
        concurrency: int = 32,
        members: int = 1000,
        read_timeout_s: float = 60.0,
        confirm_attempts: int = 3,
        seed: int = 7,
        cancels: CancelMix | None = CancelMix(),  # noqa: B008 (frozen)
        tokens: TokenMint | None = None,
        arrivals: Arrivals | None = None,
    ) -> None:
        self.targets = targets
        self.arrivals = arrivals  # set: an open loop at its rate instead of ``concurrency`` users
        self.tokens = tokens
        self.products = products
        self.mix = mix or Mix()
        self.concurrency = concurrency
        self.members = members
        self.confirm_attempts = confirm_attempts
        self.recorder = Recorder()
        self.orders = Orders()
        self._rng = random.Random(seed)
        limit = (arrivals.max_in_flight if arrivals is not None else concurrency) + 10
        self._http = {
            name: HttpClient(getattr(targets, name), read_timeout_s=read_timeout_s, max_connections=limit)
            for name in ("order", "emulator", "like", "review", "hot", "history")
        }
        self._stopping = asyncio.Event()
        self._tasks: list[asyncio.Task[None]] = []
        self.cancel_mix = cancels
        self.cancels = Cancels(self._call, self._rng, self._stopping, cancels or CancelMix(), confirm_attempts)

    # -- running -------------------------------------------------------------------------------------
    async def run(self, duration_s: float) -> None:
        self.start()
        await asyncio.sleep(duration_s)
        await self.stop()

    def start(self) -> None:
        self.recorder = Recorder()
        self._stopping.clear()
        if self.arrivals is not None:
            self._tasks = [asyncio.create_task(self.arrivals.run(self.act, self._stopping), name="load-arrivals")]
            return
        self._tasks = [asyncio.create_task(self._user(), name=f"load-user-{i}") for i in range(self.concurrency)]

    async def stop(self) -> None:
        """Let every user finish the action it is in (a started purchase is confirmed), then return."""
        self._stopping.set()
        await asyncio.gather(*self._tasks)
        self._tasks = []

    async def aclose(self) -> None:
        await self.cancels.settle(0)  # a follow-up still polling stops here (``settle`` first to wait for them)
        for client in self._http.values():
            await client.aclose()

    async def _user(self) -> None:
        while not self._stopping.is_set():
            await self.act()

    async def act(self) -> None:
        """One action, picked by the mix's weights."""
        action = self._rng.choices(ACTIONS, self.mix.weights())[0]
        try:
            await getattr(self, action)()
        except Exception:  # a load generator never stops on one bad answer
            await asyncio.sleep(0.05)

    async def _call(
        self, endpoint: str, client: str, method: str, path: str, body: object = None, member: int | None = None
    ) -> tuple[int, object]:
        """One call, recorded; as ``member`` (their bearer token) when given."""
        headers = self.tokens.as_member(member) if member is not None and self.tokens is not None else None
        began = time.monotonic()
        try:
            response = await self._http[client].request(method, path, json=body, headers=headers)
        except HttpError:
            self.recorder.record(endpoint, began, 0)
            await asyncio.sleep(0.05)  # a peer that is down answers at once: do not spin
            return 0, None
        retry_after = any(name.lower() == "retry-after" for name in response.headers)
        self.recorder.record(endpoint, began, response.status_code, retry_after=retry_after)
        if response.status_code >= 500:
            await asyncio.sleep(0.05)
        try:
            return response.status_code, response.json() if response.content else None
        except ValueError:
            return response.status_code, None

    def _member(self) -> int:
        return self._rng.randint(1, self.members)

    # -- actions -------------------------------------------------------------------------------------
    async def buy(self) -> None:
        chosen = self._rng.sample(self.products, self._rng.randint(1, min(3, len(self.products))))
        member = self._member()
        body = {"memberNo": member, "productNoList": [p.product_no for p in chosen]}
        status, created = await self._call("checkout", "order", "POST", "/api/checkout", body, member)
        if status != 201 or not isinstance(created, dict):
            return
        order_id, amount = str(created["orderId"]), Decimal(str(created["amount"]))
        auth_body = {"orderId": order_id, "amount": int(amount), "orderName": created["orderName"]}
        status, authorised = await self._call("authorise", "emulator", "POST", "/emulator/payments", auth_body)
        if status != 201 or not isinstance(authorised, dict):
            return
        self.orders.authorised[order_id] = amount
        confirm = {"paymentKey": authorised["paymentKey"], "orderId": order_id, "amount": int(amount)}
        for _ in range(self.confirm_attempts):
            status, _ = await self._call("confirm", "order", "POST", "/api/payments/confirm", confirm, member)
            if status == 200:
                self.orders.paid_at[order_id] = time.time()
                self.orders.in_doubt.discard(order_id)
                if self.cancel_mix is not None:
                    await self.cancels.after_paid(order_id, member)
                return
            if status in (400, 404):
                return  # declined or invalid: final
            self.orders.in_doubt.add(order_id)  # 202 (the recovery worker decides), or no answer / 5xx / 409
            if status == 202 or self._stopping.is_set():
                return
            await asyncio.sleep(0.5)

    async def like(self) -> None:
        product, member = self._rng.choice(self.products).product_no, self._member()
        await self._call(
            "like", "like", "POST", f"/api/catalog-likes/products/{product}/members/{member}", None, member
        )

    async def review(self) -> None:
        member = self._member()
        body = {
            "productNo": self._rng.choice(self.products).product_no,
            "memberNo": member,
            "title": "좋아요",
            "content": "잘 받았습니다. 다음에도 살게요.",
            "starRatingType": self._rng.choice(STARS),
        }
        await self._call("review", "review", "POST", "/api/product-reviews", body, member)

    async def hot(self) -> None:
        await self._call("hot", "hot", "GET", "/api/hot-products")

    async def history(self) -> None:
        member = self._member()
        await self._call("history", "history", "GET", f"/api/orders/members/{member}?limit=10", None, member)
