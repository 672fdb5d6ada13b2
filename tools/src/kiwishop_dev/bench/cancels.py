"""Buyers who give money back: the cancels of ``bench.load.Load``.

After a confirm answered 200 (SUCCESS), a buyer cancels, by the ``CancelMix`` weights, one random line of the
order (``line``: its lines from ``GET order/api/orders?orderId=``, O5) or the whole order (``whole``: no
``paymentOrderNos``); after a line cancel answered 200, ``rest`` of those whose order has more lines cancel the
rest at once (``cancel-rest``; within a second of the first, so order's PSP client waits out the PSP's
one-cancel-per-second rule, FORBIDDEN_CONSECUTIVE_REQUEST). All through ``POST order/api/payments/{orderId}/cancel``;
no answer, a 5xx or a 503 is sent again as it was (order answers a cancel it made already with its stored result,
and one still undecided with 202), at most ``attempts`` times. Every call is the buyer's own (their token).

Every request is kept (``CancelRequest``) with its last answer:

- 200: done; 202: in doubt — a follow-up polls ``GET order/api/payments/{orderId}`` (endpoint ``result``) until
  the order shows the cancel (PARTIAL_CANCELED, or CANCELED once every line is), and ``settle`` gives the
  follow-ups a deadline: those still waiting then are "in doubt at the end";
- 409 (PEC0012/0013/0015–0017/0019) and the other documented refusals (400, 404): refused, with their code;
- any other 4xx: a problem (a 5xx but 503 is a server error, counted by the ``Recorder`` as for every endpoint).
"""

from __future__ import annotations

import asyncio
import random
import time
from collections import Counter
from collections.abc import Awaitable, Callable
from dataclasses import dataclass, field
from decimal import Decimal
from typing import Any

Call = Callable[[str, str, str, str, object, int], Awaitable[tuple[int, object]]]  # ..., body, as member
REFUSED = (400, 404, 409)  # documented refusals of a cancel (nothing changed); 409 the one a valid request may get
REASONS = ("단순 변심", "주문 실수", "배송 지연")
SHOWN = {"PARTIAL_CANCELED": ("PARTIAL_CANCELED", "CANCELED"), "CANCELED": ("CANCELED",)}


@dataclass(frozen=True)
class CancelMix:
    """Of the orders a buyer saw paid: the share that cancels one line, the share that cancels the whole order,
    and of the line cancels (answered 200, the order having more lines) the share that cancels the rest at once."""

    line: float = 0.15
    whole: float = 0.05
    rest: float = 0.33


@dataclass
class CancelRequest:
    order_id: str
    kind: str  # "line", "whole" or "rest"
    lines: list[int] | None  # the paymentOrderNos asked for; None: every line not cancelled yet
    member: int  # the buyer, who asks
    status: int = 0  # the last answer (0: none)
    code: str | None = None  # a refusal's code
    cancel_no: int | None = None
    amount: Decimal = Decimal(0)  # the cancel's canceledAmount, as answered
    expected: str = ""  # the order's status once the cancel is done (PARTIAL_CANCELED / CANCELED)
    answered_at: float = 0.0  # monotonic, the last answer
    shown_at: float | None = None  # monotonic: the follow-up of a 202 saw the order show the cancel

    @property
    def outcome(self) -> str:
        if self.status == 200 or (self.status == 202 and self.shown_at is not None):
            return "done"
        if self.status == 202:
            return "in doubt"
        if self.status in REFUSED:
            return "refused"
        if 400 <= self.status < 500:
            return "problem"
        return "no answer"  # no answer, a 503 or a 5xx after every attempt: the books tell what became of it


@dataclass
class Cancels:
    call: Call  # Load._call: records each call under its endpoint
    rng: random.Random
    stopping: asyncio.Event
    mix: CancelMix = field(default_factory=CancelMix)
    attempts: int = 3
    poll_s: float = 0.5
    requests: list[CancelRequest] = field(default_factory=list)
    _follow_ups: list[asyncio.Task[None]] = field(default_factory=list)

    async def after_paid(self, order_id: str, member: int) -> None:
        """A buyer (``member``) whose order was just paid may cancel some of it (see the module's docstring)."""
        roll = self.rng.random()
        if roll < self.mix.whole:
            await self.cancel(order_id, member, "whole", None)
        elif roll < self.mix.whole + self.mix.line:
            lines = await self._paid_lines(order_id, member)
            if not lines:
                return
            first = await self.cancel(order_id, member, "line", [self.rng.choice(lines)])
            if first.status == 200 and len(lines) > 1 and self.rng.random() < self.mix.rest:
                await self.cancel(order_id, member, "rest", None)

    async def _paid_lines(self, order_id: str, member: int) -> list[int]:
        status, body = await self.call("lines", "order", "GET", f"/api/orders?orderId={order_id}", None, member)
        if status != 200 or not isinstance(body, dict):
            return []
        return [int(line["paymentOrderNo"]) for line in body["paymentOrderList"] if line["status"] == "SUCCESS"]

    async def cancel(self, order_id: str, member: int, kind: str, lines: list[int] | None) -> CancelRequest:
        request = CancelRequest(order_id, kind, lines, member)
        self.requests.append(request)
        body: dict[str, Any] = {"cancelReason": self.rng.choice(REASONS)}
        if lines is not None:
            body["paymentOrderNos"] = lines
        endpoint = "cancel-rest" if kind == "rest" else "cancel"
        for _ in range(self.attempts):
            status, answer = await self.call(
                endpoint, "order", "POST", f"/api/payments/{order_id}/cancel", body, member
            )
            request.status, request.answered_at = status, time.monotonic()
            if isinstance(answer, dict):
                _read(request, answer)
            if status in (200, 202) or 400 <= status < 500 or self.stopping.is_set():
                break
            await asyncio.sleep(0.5)
        if request.status == 202:
            self._follow_ups.append(asyncio.create_task(self._follow_up(request), name=f"cancel-follow-up-{order_id}"))
        return request

    async def _follow_up(self, request: CancelRequest) -> None:
        """Poll the order until it shows the cancel (``settle`` ends the wait)."""
        shown = SHOWN.get(request.expected, SHOWN["PARTIAL_CANCELED"])
        while True:
            path = f"/api/payments/{request.order_id}"
            status, body = await self.call("result", "order", "GET", path, None, request.member)
            if status == 200 and isinstance(body, dict) and body.get("status") in shown:
                request.shown_at = time.monotonic()
                return
            await asyncio.sleep(self.poll_s)

    async def settle(self, timeout_s: float) -> None:
        """Wait at most ``timeout_s`` for every 202's follow-up; those still waiting then stay in doubt."""
        waiting = [task for task in self._follow_ups if not task.done()]
        if waiting:
            _, late = await asyncio.wait(waiting, timeout=timeout_s)
            for task in late:
                task.cancel()
            await asyncio.gather(*late, return_exceptions=True)
        self._follow_ups = []

    def summary(self) -> dict[str, Any]:
        """Requests by kind and outcome, refusals by code, the amount given back (each cancel once), and the
        longest wait of a 202 until its order showed it."""
        outcomes = Counter(r.outcome for r in self.requests)
        done = {(r.order_id, r.cancel_no): r.amount for r in self.requests if r.outcome == "done"}
        waits = [r.shown_at - r.answered_at for r in self.requests if r.status == 202 and r.shown_at is not None]
        return {
            "requested": len(self.requests),
            "byKind": dict(sorted(Counter(r.kind for r in self.requests).items())),
            "done": outcomes["done"],
            "doneAfter202": sum(1 for r in self.requests if r.status == 202 and r.shown_at is not None),
            "inDoubtAtEnd": outcomes["in doubt"],
            "refused": outcomes["refused"],
            "refusedCodes": self._codes("refused"),
            "problems": self._codes("problem"),
            "noAnswer": outcomes["no answer"],
            "refunded": str(sum(done.values(), Decimal(0))),
            "longest202WaitS": round(max(waits), 1) if waits else None,
        }

    def _codes(self, outcome: str) -> dict[str, int]:
        """``"<status> <code>"`` → how many requests ended so, for one outcome."""
        return dict(sorted(Counter(f"{r.status} {r.code}" for r in self.requests if r.outcome == outcome).items()))


def _read(request: CancelRequest, answer: dict[str, Any]) -> None:
    """What an answer tells about the cancel: its number, amount, the order's status once it is done, a code."""
    if isinstance(answer.get("code"), str):
        request.code = answer["code"]
    if "cancelNo" not in answer:
        return
    request.cancel_no = int(answer["cancelNo"])
    request.amount = Decimal(str(answer.get("canceledAmount") or 0))
    ours = set(answer.get("paymentOrderNos") or [])
    lines = answer.get("lines") or []
    rest = [line for line in lines if line.get("paymentOrderNo") not in ours and line.get("status") != "CANCELED"]
    request.expected = "PARTIAL_CANCELED" if rest else "CANCELED"
