"""An in-memory ``ports.ReadModelWriter`` with the Lua scripts' rules (``lua.APPLY``, ``lua.CANCEL``): one model
per paymentEventNo (the first one stays), each event id applied once, canceled lines kept per order until its
model arrives, seller sales counted once per order and once per canceled line. The integration tests hold the
real scripts to the same rules."""

from __future__ import annotations

from collections import Counter
from collections.abc import Sequence
from typing import Any

from kiwishop.order_query.domain import Cancel, SoldLine, with_cancels


class FakeReadModel:
    def __init__(self) -> None:
        self.applied: set[int] = set()
        self.models: dict[int, dict[str, Any]] = {}
        self.canceled: dict[int, set[int]] = {}
        self.sold: set[int] = set()
        self.sales: Counter[tuple[int, int, str]] = Counter()  # (seller, product, field)
        self.names: dict[int, str] = {}

    async def apply_event(self, event_id: int, model: dict[str, Any], sold: Sequence[SoldLine] = ()) -> bool:
        if event_id in self.applied:
            return False
        self.applied.add(event_id)
        number = model["paymentEventNo"]
        self.models.setdefault(number, model)
        self._render(number)
        if sold and number not in self.sold:
            self.sold.add(number)
            for line in sold:
                self.sales[line.seller_no, line.product_no, "paidCount"] += 1
                self.sales[line.seller_no, line.product_no, "paidCents"] += line.cents
                self.names[line.product_no] = line.product_name or ""
        return True

    async def apply_cancel(self, event_id: int, cancel: Cancel) -> bool:
        if event_id in self.applied:
            return False
        self.applied.add(event_id)
        canceled = self.canceled.setdefault(cancel.payment_event_no, set())
        for item in cancel.lines:
            if item.payment_order_no not in canceled:
                canceled.add(item.payment_order_no)
                self.sales[item.line.seller_no, item.line.product_no, "canceledCount"] += 1
                self.sales[item.line.seller_no, item.line.product_no, "canceledCents"] += item.line.cents
        self._render(cancel.payment_event_no)
        return True

    def _render(self, number: int) -> None:
        if number in self.models and number in self.canceled:
            self.models[number] = with_cancels(self.models[number], self.canceled[number])
