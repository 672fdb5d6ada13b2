"""In-memory state of the emulator: payments (by paymentKey and by orderId), the idempotency store and
the counters. One process, one event loop: every method here is synchronous, so a check and the change
that follows it can never interleave with another request."""

from __future__ import annotations

import datetime as dt
import enum
from collections import OrderedDict
from collections.abc import Callable
from dataclasses import asdict, dataclass

from kiwishop.toss_emulator.domain import Payment

Clock = Callable[[], dt.datetime]
# (Idempotency-Key, secret key, path, method): Toss's dedup scope; the body is not part of it (toss.md A2).
Scope = tuple[str, str, str, str]


@dataclass(frozen=True)
class StoredResponse:
    status: int
    body: bytes


class InFlight(enum.Enum):
    """The first request with this scope is still running: answer 409."""

    IN_FLIGHT = "in_flight"


@dataclass(eq=False)
class Claim:
    """Ownership of a scope by one running request; it must end with complete() or release()."""

    scope: Scope


class IdempotencyStore:
    """First response per scope, kept ``ttl`` after it was stored; one request in flight per scope."""

    def __init__(self, clock: Clock, ttl: dt.timedelta) -> None:
        self._clock = clock
        self._ttl = ttl
        self._done: OrderedDict[Scope, tuple[dt.datetime, StoredResponse]] = OrderedDict()
        self._in_flight: dict[Scope, Claim] = {}

    def begin(self, scope: Scope) -> StoredResponse | InFlight | Claim:
        """The stored response to replay, IN_FLIGHT, or a claim (this caller now owns the scope)."""
        now = self._clock()
        self._purge(now)
        stored = self._done.get(scope)
        if stored is not None and stored[0] > now:
            return stored[1]
        if scope in self._in_flight:
            return InFlight.IN_FLIGHT
        claim = Claim(scope)
        self._in_flight[scope] = claim
        return claim

    def complete(self, claim: Claim, response: StoredResponse) -> None:
        """Store the response of the claim's request (ignored when a reset took the claim away)."""
        if self._in_flight.get(claim.scope) is claim:
            del self._in_flight[claim.scope]
            self._done.pop(claim.scope, None)
            self._done[claim.scope] = (self._clock() + self._ttl, response)

    def release(self, claim: Claim) -> None:
        """Give the scope up without storing anything: the next request with this key executes."""
        if self._in_flight.get(claim.scope) is claim:
            del self._in_flight[claim.scope]

    def clear(self) -> None:
        self._done.clear()
        self._in_flight.clear()

    def __len__(self) -> int:
        return len(self._done)

    @property
    def in_flight(self) -> int:
        return len(self._in_flight)

    def _purge(self, now: dt.datetime) -> None:
        while self._done:
            scope, (expires_at, _) = next(iter(self._done.items()))
            if expires_at > now:
                return
            del self._done[scope]


@dataclass
class Stats:
    authorized: int = 0
    approved: int = 0
    approved_amount: int = 0
    confirm_requests: int = 0
    canceled: int = 0
    canceled_amount: int = 0
    declined: int = 0
    replayed: int = 0
    in_flight_rejected: int = 0
    faults_5xx: int = 0
    fault_timeouts: int = 0
    fault_drops: int = 0

    def as_json(self) -> dict[str, int]:
        """camelCase wire names: ``approved_amount`` → ``approvedAmount``."""
        return {_camel(name): value for name, value in asdict(self).items()}


def _camel(name: str) -> str:
    head, *rest = name.split("_")
    return head + "".join(part[:1].upper() + part[1:] for part in rest)


class PaymentBook:
    """Payments by paymentKey, and the current payment of each orderId."""

    def __init__(self) -> None:
        self._by_key: dict[str, Payment] = {}
        self._by_order: dict[str, str] = {}

    def get(self, payment_key: str) -> Payment | None:
        return self._by_key.get(payment_key)

    def for_order(self, order_id: str) -> Payment | None:
        key = self._by_order.get(order_id)
        return None if key is None else self._by_key.get(key)

    def put(self, payment: Payment) -> None:
        """Add a payment; an earlier payment of the same orderId (never confirmed) is forgotten."""
        earlier = self._by_order.get(payment.order_id)
        if earlier is not None:
            self._by_key.pop(earlier, None)
        self._by_key[payment.payment_key] = payment
        self._by_order[payment.order_id] = payment.payment_key

    def clear(self) -> None:
        self._by_key.clear()
        self._by_order.clear()

    def __len__(self) -> int:
        return len(self._by_key)
