"""Order's own metrics, on the service's registry: verdicts, orders and cancels in doubt, paid orders waiting for
wallet.
``PaymentMetrics`` is the handlers' ``PaymentCounters``; the loops set the gauges (``workers.py``)."""

from __future__ import annotations

from prometheus_client import CollectorRegistry, Counter, Gauge

from kiwishop.order.domain import PaymentStatus


class PaymentMetrics:
    def __init__(self, registry: CollectorRegistry) -> None:
        self.verdicts = Counter(
            "kiwi_payment_verdicts",
            "Verdicts recorded on payments, by status (SUCCESS, FAILURE, UNKNOWN, QUARANTINED) and code",
            ["status", "code"],
            registry=registry,
        )
        self.orders = Gauge(
            "kiwi_payments_by_state",
            "Orders in doubt or waiting: EXECUTING, UNKNOWN, QUARANTINED, and paid orders not yet settled by wallet "
            "(AWAITING_SETTLEMENT; OVERDUE_SETTLEMENT once PAYMENT_CONFIRM had to be published again); cancels in "
            "doubt: CANCEL_EXECUTING, CANCEL_UNKNOWN",
            ["state"],
            registry=registry,
        )
        self.republished = Counter(
            "kiwi_payment_confirm_republished",
            "PAYMENT_CONFIRM records published again because wallet had not settled the order in time",
            registry=registry,
        )

    def verdict_recorded(self, status: PaymentStatus, code: str | None) -> None:
        self.verdicts.labels(status.value, code or "").inc()

    def confirm_republished(self) -> None:
        self.republished.inc()
