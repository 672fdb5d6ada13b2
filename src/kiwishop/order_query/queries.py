"""The two reads (Q1 = O6's shape, Q2 = O7's shape): Redis first, order behind the cache on a miss.

Q1 is answered from Redis alone only when the member's index proves the page complete (``lua.PAGE``),
which it does for ``completeness_ttl_s`` after order last proved it (events consumed meanwhile do not
extend that).
Otherwise ONE O6 call (through the cache) fetches ``fill_page_size`` events from the same cursor; the
refresher stores them (models + index, and the floor when the page joins the complete range) and the
caller gets the first ``limit`` of them. So a page never costs N detail calls (G29), and one miss warms
the next pages too. Q2 reads the model; a miss asks O7 through the cache and stores a paid answer. The
seller sales come from Redis alone.

Every Q1 page carries ``nextCursor`` as O6 does: the last paymentEventNo of a page that has a next one, else
null. A page from order's answer knows it from the events fetched beyond ``limit``, or from O6's own
``nextCursor`` when the page took all of them.

Who reads (``ports.Caller``): order is asked with the reader's own token, so a member's miss gets order's
member view, whose paymentKey is null; its models are stored so (a later write of the same event with the key
fills it in: ``lua.keyed``). Ops' misses are cached apart (``o6k:``, ``o7k:``), and what Redis holds without a
key is a miss for ops (``KEYLESS``): ops' answer always has the keys, and its refill gives them to the stored
models. A member's answer has every paymentKey null whatever was stored (``hide_payment_keys``).
"""

from __future__ import annotations

import logging
import time
from collections.abc import Awaitable, Callable
from typing import Any

from redis.exceptions import RedisError

from kiwishop.order_query.cache import CacheTimeout, OriginCache
from kiwishop.order_query.domain import (
    KEYLESS,
    InvalidEvent,
    OrderQueryError,
    hide_payment_keys,
    page_floor,
    paid_read_model,
)
from kiwishop.order_query.ports import Caller, OrderOrigin, OrderUnavailable
from kiwishop.order_query.store import ReadModelStore, model_json
from kiwishop.platform import jsonutil
from kiwishop.platform.errors import AppError, CommonError

log = logging.getLogger("kiwishop.order_query.queries")

NOT_FOUND = b""  # what the cache holds for an O7 404


def list_body(events: list[bytes], next_cursor: int | None) -> bytes:
    """O6's JSON, byte for byte: the events, then ``nextCursor`` (a string, or null)."""
    cursor = b"null" if next_cursor is None else b'"%d"' % next_cursor
    return b'{"paymentEventList":[' + b",".join(events) + b'],"nextCursor":' + cursor + b"}"


class OrderReads:
    def __init__(self, store: ReadModelStore, cache: OriginCache, order: OrderOrigin, *, fill_page_size: int) -> None:
        self.store = store
        self.cache = cache
        self.order = order
        self.fill_page_size = fill_page_size

    async def history(self, member_no: int, cursor: int | None, limit: int, caller: Caller) -> bytes:
        """Q1: the member's paid events below ``cursor`` (exclusive), newest first, at most ``limit``."""
        return _as_seen_by(caller, await self._history(member_no, cursor, limit, caller))

    async def detail(self, payment_event_no: int, member_no: int, caller: Caller) -> bytes:
        """Q2: one payment event of this member (any status); 404 when order has none."""
        return _as_seen_by(caller, await self._detail(payment_event_no, member_no, caller))

    async def _history(self, member_no: int, cursor: int | None, limit: int, caller: Caller) -> bytes:
        try:
            body = await self.store.page(member_no, cursor, limit)
        except RedisError as exc:
            raise AppError(CommonError.SERVICE_UNAVAILABLE) from exc
        if body is not None and not (caller.sees_keys and KEYLESS in body):
            return body
        # o6n: values with their next cursor (o6k: ops' own, with the keys)
        name = f"{'o6k' if caller.sees_keys else 'o6n'}:{member_no}:{'-' if cursor is None else cursor}"
        loaded = await self._through_cache(name, lambda: self._load_page(member_no, cursor, caller.authorization))
        head, _, rest = loaded.partition(b"\n")
        fetched = [line.partition(b" ") for line in rest.split(b"\n")] if rest else []
        shown = fetched[:limit]
        next_cursor = int(shown[-1][0]) if len(fetched) > limit else (int(head) if head else None)
        return list_body([body for _, _, body in shown], next_cursor)

    async def _detail(self, payment_event_no: int, member_no: int, caller: Caller) -> bytes:
        try:
            body = await self.store.detail(member_no, payment_event_no)
        except RedisError as exc:
            raise AppError(CommonError.SERVICE_UNAVAILABLE) from exc
        if body is not None and not (caller.sees_keys and KEYLESS in body):
            return body
        name = f"{'o7k' if caller.sees_keys else 'o7'}:{member_no}:{payment_event_no}"
        body = await self._through_cache(
            name, lambda: self._load_detail(payment_event_no, member_no, caller.authorization)
        )
        if body == NOT_FOUND:
            raise AppError(OrderQueryError.PAYMENT_EVENT_NOT_FOUND)
        return body

    async def seller_sales(self, seller_no: int) -> bytes:
        """The seller's sales per product (``sales.py``), from Redis alone: order keeps no such sums."""
        try:
            return await self.store.seller_sales(seller_no)
        except RedisError as exc:
            raise AppError(CommonError.SERVICE_UNAVAILABLE) from exc

    async def _through_cache(self, name: str, load: Callable[[], Awaitable[bytes]]) -> bytes:
        try:
            return await self.cache.get(name, load)
        except (OrderUnavailable, CacheTimeout) as exc:
            log.warning("order could not answer %s: %r", name, exc)
            raise AppError(OrderQueryError.ORDER_UNAVAILABLE) from exc
        except RedisError as exc:
            raise AppError(CommonError.SERVICE_UNAVAILABLE) from exc

    async def _load_page(self, member_no: int, cursor: int | None, authorization: str) -> bytes:
        """Refresher only: one O6 call; store what it proves. The value: O6's next cursor ('' for none), then one
        line per event, ``<paymentEventNo> <JSON>``."""
        epoch = await self.store.epoch()  # before asking order: a flush meanwhile voids the floor
        asked_at = time.monotonic()  # the completeness claim counts from here
        page = await self.order.paid_page(member_no, cursor, self.fill_page_size, authorization=authorization)
        events = page.events
        bodies: list[bytes] = []
        storable: list[tuple[int, bytes]] = []
        for raw in events:
            model = self._storable(raw, member_no)
            if model is None:
                bodies.append(b"%d %s" % (raw["paymentEventNo"], jsonutil.dumps(raw)))
                continue
            body = model_json(model)
            bodies.append(b"%d %s" % (model["paymentEventNo"], body))
            storable.append((model["paymentEventNo"], body))
        last = storable[-1][0] if storable else None
        # An event that could not be stored leaves a gap: then the page proves nothing about completeness.
        floor = page_floor(len(events), self.fill_page_size, last) if len(storable) == len(events) else None
        await self.store.fill(member_no, storable, epoch=epoch, cursor=cursor, floor=floor, asked_at=asked_at)
        head = b"" if page.next_cursor is None else b"%d" % page.next_cursor
        return b"\n".join([head, *bodies])

    async def _load_detail(self, payment_event_no: int, member_no: int, authorization: str) -> bytes:
        raw = await self.order.detail(payment_event_no, member_no, authorization=authorization)
        if raw is None:
            return NOT_FOUND
        model = self._storable(raw, member_no)
        if (
            model is None or model["paymentEventNo"] != payment_event_no
        ):  # not paid (yet): served as order said, cached only for the logical TTL
            return jsonutil.dumps(raw)
        body = model_json(model)
        await self.store.fill(member_no, [(payment_event_no, body)])
        return body

    @staticmethod
    def _storable(raw: dict[str, Any], member_no: int) -> dict[str, Any] | None:
        """The read model of a paid event of this member, or None (unpaid, or not the expected shape)."""
        if raw.get("paymentDone") is not True:
            return None
        try:
            model = paid_read_model(raw)
        except InvalidEvent as exc:
            log.warning("order answered a paid event the read model cannot hold: %s", exc)
            return None
        return model if model["memberNo"] == member_no else None


def _as_seen_by(caller: Caller, body: bytes) -> bytes:
    return body if caller.sees_keys else hide_payment_keys(body)
