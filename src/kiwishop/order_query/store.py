"""The read model in Redis: one JSON value per paid payment event and one index per member.

Keys (``P`` = the configured prefix, ``order-query`` by default):

- ``P:m:{memberNo}:pe:{paymentEventNo}`` (string, model TTL): the event's O7 JSON, exact bytes;
- ``P:m:{memberNo}:index`` (sorted set, model TTL renewed on every write): padded paymentEventNos and
  the floor sentinel (``lua.py``);
- ``P:m:{memberNo}:verified`` (string, completeness TTL): the floor sentinel may be believed (``lua.py``);
- ``P:m:{memberNo}:pe:{paymentEventNo}:canceled`` (set, model TTL): the event's canceled paymentOrderNos,
  shown by its model whenever it is written (``lua.py``);
- ``P:m:{memberNo}:pe:{paymentEventNo}:sold`` (string, model TTL): its lines are in the seller sales;
- ``P:s:{sellerNo}:sales`` (hash, no TTL): the seller's sales per product (``sales.py``);
- ``P:applied:{eventId}`` (string, applied TTL): this PAYMENT_CONFIRM or PAYMENT_CANCELED was applied;
- ``P:epoch`` (string, no TTL): replaced whenever the keyspace is flushed or rebuilt;
- ``P:rebuilding`` (string, short TTL): a rebuild is clearing the keys (the *fence*: events wait for it);
- ``P:cache:…`` and ``P:lock:…`` (physical / lock TTL): answers of order and their refresh locks
  (``cache.py``).
"""

from __future__ import annotations

import time
import uuid
from collections.abc import Sequence
from dataclasses import dataclass
from typing import Any

from redis.asyncio import Redis
from redis.exceptions import ConnectionError as RedisConnectionError

from kiwishop.order_query import lua
from kiwishop.order_query.domain import Cancel, SoldLine, pad
from kiwishop.order_query.sales import sales_body
from kiwishop.order_query.settings import OrderQuerySettings
from kiwishop.platform import jsonutil
from kiwishop.platform.redisclient import Arg, Script

FIRST_PAGE = "(:"  # ':' follows '9': every padded id is below it, the floor sentinel above it
FENCED = -1  # what APPLY and CANCEL answer while a clear holds the fence
FENCE_TTL_MS = 30_000  # a clear that dies leaves the consumer waiting at most this long
CLEAR_BATCH = 1000


class ReadModelRebuilding(RedisConnectionError):
    """The read model is being cleared for a rebuild. For the consumer runner this is an outage of Redis: the
    record waits for it (never retried against its budget, never parked) and is applied after — so no event
    lands on a half-cleared read model, where its marker could go and its seller sums stay (or the reverse)."""


class FenceLost(RuntimeError):
    """A clear outlived its fence, so events may have been applied to a half-cleared read model."""


@dataclass(frozen=True)
class Keys:
    prefix: str

    def index(self, member_no: int) -> str:
        return f"{self.prefix}:m:{member_no}:index"

    def verified(self, member_no: int) -> str:
        return f"{self.prefix}:m:{member_no}:verified"

    def model_prefix(self, member_no: int) -> str:
        return f"{self.prefix}:m:{member_no}:pe:"

    def model(self, member_no: int, payment_event_no: int) -> str:
        return f"{self.model_prefix(member_no)}{payment_event_no}"

    def canceled(self, member_no: int, payment_event_no: int) -> str:
        return f"{self.model(member_no, payment_event_no)}:canceled"  # lua.FILL builds the same name

    def sold(self, member_no: int, payment_event_no: int) -> str:
        return f"{self.model(member_no, payment_event_no)}:sold"

    def sales(self, seller_no: int) -> str:
        return f"{self.prefix}:s:{seller_no}:sales"

    def applied(self, event_id: int) -> str:
        return f"{self.prefix}:applied:{event_id}"

    @property
    def epoch(self) -> str:
        return f"{self.prefix}:epoch"

    @property
    def fence(self) -> str:
        return f"{self.prefix}:rebuilding"

    def cache(self, name: str) -> str:
        return f"{self.prefix}:cache:{name}"

    def lock(self, name: str) -> str:
        return f"{self.prefix}:lock:{name}"


def model_json(model: dict[str, Any]) -> bytes:
    """The read model as order renders it (Decimals as numbers with two decimals, compact)."""
    return jsonutil.dumps(model)


def as_bytes(value: object) -> bytes | None:
    """Redis answers bytes here (``decode_responses=False``); the client's types also allow str."""
    if value is None or isinstance(value, bytes):
        return value
    return str(value).encode()


@dataclass(frozen=True)
class IndexState:
    numbers: list[int]  # newest first
    floor: int | None  # None: no floor sentinel
    claim_ms: int = 0  # how long the floor may still be believed (0: the claim has expired, or none)


class ReadModelStore:
    def __init__(
        self,
        redis: Redis,
        prefix: str,
        *,
        index_size: int,
        model_ttl_s: float,
        applied_ttl_s: float,
        completeness_ttl_s: float = 300.0,
    ) -> None:
        self.redis = redis
        self.keys = Keys(prefix)
        self.index_size = index_size
        self._model_ttl_ms = int(model_ttl_s * 1000)
        self._applied_ttl_ms = int(applied_ttl_s * 1000)
        self._completeness_ttl_ms = max(int(completeness_ttl_s * 1000), 1)
        self._apply = Script(redis, lua.APPLY)
        self._cancel = Script(redis, lua.CANCEL)
        self._unlink_fenced = Script(redis, lua.UNLINK_FENCED)
        self._release = Script(redis, lua.RELEASE)
        self._fill = Script(redis, lua.FILL)
        self._page = Script(redis, lua.PAGE)
        self._epoch = Script(redis, lua.EPOCH)

    @classmethod
    def for_settings(cls, redis: Redis, settings: OrderQuerySettings) -> ReadModelStore:
        return cls(
            redis,
            settings.key_prefix,
            index_size=settings.member_index_size,
            model_ttl_s=settings.model_ttl_s,
            applied_ttl_s=settings.applied_ttl_s,
            completeness_ttl_s=settings.completeness_ttl_s,
        )

    async def apply_event(self, event_id: int, model: dict[str, Any], sold: Sequence[SoldLine] = ()) -> bool:
        """Apply one PAYMENT_CONFIRM's read model and (once per order) its ``sold`` lines to the seller sales;
        False when this event id was applied before."""
        member, number = model["memberNo"], model["paymentEventNo"]
        keys: list[Arg] = [
            self.keys.applied(event_id), self.keys.model(member, number), self.keys.index(member),
            self.keys.canceled(member, number), self.keys.sold(member, number), self.keys.fence,
        ]  # fmt: skip
        args: list[Arg] = [model_json(model), pad(number), self.index_size, self._model_ttl_ms, self._applied_ttl_ms]
        for line in sold:
            keys.append(self.keys.sales(line.seller_no))
            args += [line.product_no, line.cents, line.product_name or ""]
        return self._applied(await self._apply(keys, args))

    async def apply_cancel(self, event_id: int, cancel: Cancel) -> bool:
        """Apply one PAYMENT_CANCELED: its lines CANCELED in the model (now, or when the model arrives) and, each
        line once, in the seller sales; False when this event id was applied before."""
        member, number = cancel.member_no, cancel.payment_event_no
        keys: list[Arg] = [
            self.keys.applied(event_id), self.keys.model(member, number), self.keys.canceled(member, number),
            self.keys.fence,
        ]  # fmt: skip
        args: list[Arg] = [self._applied_ttl_ms, self._model_ttl_ms]
        for canceled in cancel.lines:
            keys.append(self.keys.sales(canceled.line.seller_no))
            args += [canceled.payment_order_no, canceled.line.product_no, canceled.line.cents]
        return self._applied(await self._cancel(keys, args))

    def _applied(self, outcome: int) -> bool:
        if outcome == FENCED:
            raise ReadModelRebuilding(f"{self.keys.prefix}: the read model is being rebuilt")
        return bool(outcome)

    async def seller_sales(self, seller_no: int) -> bytes:
        """The seller sales answer (``sales.py``)."""
        fields = await self.redis.hgetall(self.keys.sales(seller_no))
        return sales_body({as_bytes(name) or b"": as_bytes(value) or b"" for name, value in fields.items()})

    async def page(self, member_no: int, cursor: int | None, limit: int) -> bytes | None:
        """The O6 response body when the index can prove the page complete, else None."""
        bound = FIRST_PAGE if cursor is None else f"({pad(cursor)}"
        args: list[Arg] = [self.keys.model_prefix(member_no), bound, limit]
        return as_bytes(await self._page([self.keys.index(member_no), self.keys.verified(member_no)], args))

    async def detail(self, member_no: int, payment_event_no: int) -> bytes | None:
        return as_bytes(await self.redis.get(self.keys.model(member_no, payment_event_no)))

    async def epoch(self) -> str:
        """The keyspace's current epoch (read before asking order, checked again when filling)."""
        value = await self._epoch([self.keys.epoch], [uuid.uuid4().hex])
        return value.decode() if isinstance(value, bytes) else str(value)

    async def fill(
        self,
        member_no: int,
        models: Sequence[tuple[int, bytes]],
        *,
        epoch: str | None = None,
        cursor: int | None = None,
        floor: int | None = None,
        asked_at: float | None = None,
    ) -> None:
        """Store what order answered: the paid models (never replacing one) and their index entries;
        move the floor to ``floor`` and (re)claim completeness when the page proves it (see ``lua.FILL``).
        ``asked_at`` (``time.monotonic()`` when order was asked) shortens the claim by the time order took,
        so it never outlives ``completeness_ttl_s`` counted from the moment order was asked."""
        proof_ms = self._completeness_ttl_ms
        if asked_at is not None:
            proof_ms -= int((time.monotonic() - asked_at) * 1000)
        args: list[Arg] = [
            epoch or "",
            self.keys.model_prefix(member_no),
            self.index_size,
            self._model_ttl_ms,
            "" if cursor is None else pad(cursor),
            "" if floor is None else pad(floor),
            max(proof_ms, 0),
        ]
        for number, body in models:
            args += [pad(number), body]
        await self._fill([self.keys.index(member_no), self.keys.epoch, self.keys.verified(member_no)], args)

    async def index_state(self, member_no: int) -> IndexState:
        members = [as_bytes(m) or b"" for m in await self.redis.zrevrangebylex(self.keys.index(member_no), "+", "-")]
        floor = next((int(m[1:]) for m in members if m.startswith(b"f")), None)
        claim_ms = max(int(await self.redis.pttl(self.keys.verified(member_no))), 0) if floor is not None else 0
        return IndexState([int(m) for m in members if not m.startswith(b"f")], floor, claim_ms)

    async def clear(self) -> int:
        """Delete every key of this read model (the epoch first, so fills in flight claim nothing) as one step
        for the event scripts: the fence holds every event back (``ReadModelRebuilding``) until the last key
        is gone."""
        token = uuid.uuid4().hex
        fence = self.keys.fence
        await self.redis.set(fence, token, px=FENCE_TTL_MS)
        removed = 0
        try:
            await self.redis.delete(self.keys.epoch)
            batch: list[bytes] = []
            async for key in self.redis.scan_iter(match=f"{self.keys.prefix}:*", count=CLEAR_BATCH):
                if key != fence.encode():
                    batch.append(key)
                if len(batch) >= CLEAR_BATCH:
                    removed += await self._unlink(token, batch)
                    batch = []
            removed += await self._unlink(token, batch)
        finally:
            await self._release([fence], [token])
        return removed

    async def _unlink(self, token: str, keys: list[bytes]) -> int:
        removed = int(await self._unlink_fenced([self.keys.fence, *keys], [token, FENCE_TTL_MS]))
        if removed < 0:
            raise FenceLost(f"{self.keys.prefix}: the clear outlived its fence; run the rebuild again")
        return removed
