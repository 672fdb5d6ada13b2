"""State of the emulator: payments (by paymentKey and by orderId), the idempotency store and the counters,
here in memory (``filestore`` keeps payments and stored responses in the state file instead). One process,
one event loop: every method here is synchronous, so a check and the change that follows it can never
interleave with another request.

Every store is capped (``bounds``): a store over its cap forgets its oldest entries down to ``trimmed(cap)``, a
tenth below it, so that the work of finding them is done once per tenth of the cap, not on every request."""

from __future__ import annotations

import datetime as dt
import enum
from collections import OrderedDict
from collections.abc import Callable, Iterator, Mapping
from dataclasses import asdict, dataclass, fields
from typing import Protocol

from kiwishop.toss_emulator.domain import Payment, PaymentStatus

Clock = Callable[[], dt.datetime]
# (Idempotency-Key, secret key, path, method): Toss's dedup scope; the body is not part of it (toss.md A2).
Scope = tuple[str, str, str, str]


def trimmed(cap: int) -> int:
    """How many entries a store over ``cap`` keeps: a tenth below the cap (at most the cap, for a cap under 10)."""
    return cap - cap // 10


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


class ResponseTable(Protocol):
    """Where the completed responses live, with their expiry (in memory, or in the state file)."""

    def get(self, scope: Scope) -> tuple[dt.datetime, StoredResponse] | None: ...

    def put(self, scope: Scope, expires_at: dt.datetime, response: StoredResponse) -> None: ...

    def purge(self, now: dt.datetime) -> None:
        """Forget the responses that expired at ``now`` or before."""

    def trim(self, cap: int) -> int:
        """Over ``cap`` responses: forget the oldest, down to ``trimmed(cap)``; how many went."""

    def clear(self) -> None: ...

    def __len__(self) -> int: ...


class MemoryResponses:
    def __init__(self) -> None:
        self._done: OrderedDict[Scope, tuple[dt.datetime, StoredResponse]] = OrderedDict()

    def get(self, scope: Scope) -> tuple[dt.datetime, StoredResponse] | None:
        return self._done.get(scope)

    def put(self, scope: Scope, expires_at: dt.datetime, response: StoredResponse) -> None:
        self._done.pop(scope, None)
        self._done[scope] = (expires_at, response)

    def purge(self, now: dt.datetime) -> None:
        while self._done:  # oldest first: one TTL for all, so the first entry expires first
            scope, (expires_at, _) = next(iter(self._done.items()))
            if expires_at > now:
                return
            del self._done[scope]

    def trim(self, cap: int) -> int:
        if len(self._done) <= cap:
            return 0
        gone = len(self._done) - trimmed(cap)
        for _ in range(gone):
            self._done.popitem(last=False)
        return gone

    def clear(self) -> None:
        self._done.clear()

    def __len__(self) -> int:
        return len(self._done)


class IdempotencyStore:
    """First response per scope, kept ``ttl`` after it was stored, and at most ``cap`` of them (the oldest go
    first: a retry after that executes again); one request in flight per scope.

    The claims of requests in flight live in memory only: a restarted emulator has none."""

    def __init__(
        self, clock: Clock, ttl: dt.timedelta, responses: ResponseTable | None = None, cap: int | None = None
    ) -> None:
        self._clock = clock
        self._ttl = ttl
        self._cap = cap
        self._done: ResponseTable = MemoryResponses() if responses is None else responses
        self._in_flight: dict[Scope, Claim] = {}

    def begin(self, scope: Scope) -> StoredResponse | InFlight | Claim:
        """The stored response to replay, IN_FLIGHT, or a claim (this caller now owns the scope)."""
        now = self._clock()
        self._done.purge(now)
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
            self._done.put(claim.scope, self._clock() + self._ttl, response)
            if self._cap is not None:
                self._done.trim(self._cap)

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


@dataclass
class Stats:
    authorized: int = 0
    approved: int = 0
    approved_amount: int = 0
    confirm_requests: int = 0
    approved_outside: int = 0
    cancel_requests: int = 0
    canceled: int = 0
    canceled_amount: int = 0
    canceled_outside: int = 0
    declined: int = 0
    replayed: int = 0
    in_flight_rejected: int = 0
    faults_5xx: int = 0
    fault_timeouts: int = 0
    fault_drops: int = 0
    webhook_events: int = 0  # deliveries added: one per status change or cancel
    webhooks_sent: int = 0  # attempts made
    webhooks_delivered: int = 0  # answered 200
    webhook_failed_attempts: int = 0
    webhooks_given_up: int = 0  # the retry ladder spent
    webhooks_dropped: int = 0  # the oldest pending ones, over max_pending_webhooks

    @classmethod
    def from_counters(cls, counters: Mapping[str, int]) -> Stats:
        """Counters by field name (as ``counters()`` gives them); a missing one is 0, an unknown one ignored."""
        names = {f.name for f in fields(cls)}
        return cls(**{name: value for name, value in counters.items() if name in names})

    def counters(self) -> dict[str, int]:
        return asdict(self)

    def as_json(self) -> dict[str, int]:
        """camelCase wire names: ``approved_amount`` → ``approvedAmount``."""
        return {_camel(name): value for name, value in asdict(self).items()}


def _camel(name: str) -> str:
    head, *rest = name.split("_")
    return head + "".join(part[:1].upper() + part[1:] for part in rest)


class Book(Protocol):
    """Payments by paymentKey, and the current payment of each orderId (in memory, or in the state file)."""

    def get(self, payment_key: str) -> Payment | None: ...

    def for_order(self, order_id: str) -> Payment | None: ...

    def put(self, payment: Payment) -> None:
        """Add a payment; an earlier payment of the same orderId (never confirmed) is forgotten."""

    def save(self, payment: Payment) -> None:
        """Keep the changes made to a payment this book gave out."""

    def holds(self, count: int) -> bool:
        """Whether the book holds ``count`` payments or more (cheap enough for every authorisation)."""

    def oldest(self) -> Iterator[tuple[str, PaymentStatus, dt.datetime]]:
        """(paymentKey, status, requestedAt) of each payment, the first added first (status as stored: no expiry)."""

    def forget(self, payment_keys: list[str]) -> None: ...

    def clear(self) -> None: ...

    def __len__(self) -> int: ...


class PaymentBook:
    """The book in memory: the payments it gives out are the ones it keeps, so ``save`` has nothing to do."""

    def __init__(self) -> None:
        self._by_key: dict[str, Payment] = {}
        self._by_order: dict[str, str] = {}

    def get(self, payment_key: str) -> Payment | None:
        return self._by_key.get(payment_key)

    def for_order(self, order_id: str) -> Payment | None:
        key = self._by_order.get(order_id)
        return None if key is None else self._by_key.get(key)

    def put(self, payment: Payment) -> None:
        earlier = self._by_order.get(payment.order_id)
        if earlier is not None:
            self._by_key.pop(earlier, None)
        self._by_key[payment.payment_key] = payment
        self._by_order[payment.order_id] = payment.payment_key

    def save(self, payment: Payment) -> None:
        pass

    def holds(self, count: int) -> bool:
        return len(self._by_key) >= count

    def oldest(self) -> Iterator[tuple[str, PaymentStatus, dt.datetime]]:
        for payment in self._by_key.values():  # a dict keeps the order of its keys' first insertion
            yield payment.payment_key, payment.status, payment.requested_at

    def forget(self, payment_keys: list[str]) -> None:
        for key in payment_keys:
            payment = self._by_key.pop(key, None)
            if payment is not None and self._by_order.get(payment.order_id) == key:
                del self._by_order[payment.order_id]

    def clear(self) -> None:
        self._by_key.clear()
        self._by_order.clear()

    def __len__(self) -> int:
        return len(self._by_key)
