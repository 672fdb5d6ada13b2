"""The emulator's use cases over its state: authorise (the window), confirm, cancel, look up — and the changes
made at the PSP without the shop (``approve_outside``, ``cancel_outside``).

Every use case is synchronous: on one event loop, the checks and the state change of one request can
never interleave with another request, so two confirms of one payment cannot both approve.

The state is in memory, or in the state file (``settings.data_path``): then each use case reads the
payment from the file, and writes it back with the counters in one transaction before it returns.

Every status change (and every cancel) adds a webhook delivery in that same step (``webhooks``).

Every store is capped (``bounds``): an authorisation makes room first, or is refused 503 when every payment
is still in progress.
"""

from __future__ import annotations

import datetime as dt
import secrets
import string
from collections import deque
from collections.abc import Iterator, Sequence
from contextlib import contextmanager
from dataclasses import dataclass

from kiwishop.platform.clock import utcnow_aware
from kiwishop.toss_emulator import cancels, domain
from kiwishop.toss_emulator.bounds import PaymentRoom
from kiwishop.toss_emulator.domain import Payment, Timing
from kiwishop.toss_emulator.errors import TossError, TossFailure
from kiwishop.toss_emulator.faults import FaultConfig, Faults
from kiwishop.toss_emulator.filestore import FileDeliveries, FilePaymentBook, FileResponses
from kiwishop.toss_emulator.settings import TossEmulatorSettings
from kiwishop.toss_emulator.statefile import StateFile
from kiwishop.toss_emulator.store import Book, Clock, IdempotencyStore, PaymentBook, Stats
from kiwishop.toss_emulator.webhooks import Deliveries, MemoryDeliveries, Webhooks

_ALPHABET = string.ascii_letters + string.digits
_RANDOM = secrets.SystemRandom()


@dataclass(frozen=True)
class AuthoriseRequest:
    order_id: str
    order_name: str
    amount: int
    card_number: str = domain.APPROVING_CARD
    card_expiry: str | None = None
    confirm_errors: Sequence[TossError] = ()


class Emulator:
    def __init__(self, settings: TossEmulatorSettings, clock: Clock | None = None) -> None:
        """Opens the state file when ``settings.data_path`` names one (``StateFileError`` if it cannot)."""
        self.settings = settings
        self._base_clock = clock or utcnow_aware
        self.clock_offset = dt.timedelta(0)
        self.timing = Timing(
            confirm_deadline=dt.timedelta(seconds=settings.confirm_deadline_s),
            expire_after=dt.timedelta(seconds=settings.expire_after_s),
        )
        self.faults = Faults(FaultConfig.from_settings(settings))
        ttl = dt.timedelta(seconds=settings.idempotency_ttl_s)
        self.file = StateFile.open(settings.data_path) if settings.data_path else None
        self.payments: Book
        deliveries: Deliveries
        if self.file is None:
            self.payments = PaymentBook()
            responses = None
            self.stats = Stats()
            deliveries = MemoryDeliveries()
        else:
            self.payments = FilePaymentBook(self.file)
            responses = FileResponses(self.file)
            self.stats = Stats.from_counters(self.file.counters())
            deliveries = FileDeliveries(self.file)
        self.idempotency = IdempotencyStore(self.now, ttl, responses, cap=settings.max_stored_responses)
        self.room = PaymentRoom(settings.max_payments, self.timing.expire_after)
        self.webhooks = Webhooks(
            deliveries,
            enabled=bool(settings.webhook_url),
            scale=settings.webhook_time_scale,
            cap=settings.max_pending_webhooks,
        )
        self._written = self.stats.counters()

    def now(self) -> dt.datetime:
        return self._base_clock() + self.clock_offset

    def close(self) -> None:
        if self.file is not None:
            self.file.close()

    @contextmanager
    def transaction(self) -> Iterator[None]:
        """The writes of one synchronous step in one transaction of the state file, with the counters that
        changed (without a file: nothing to do). It commits even when the step raises a Toss error."""
        if self.file is None:
            yield
            return
        with self.file.transaction():
            try:
                yield
            finally:
                self._write_counters(self.file)

    def _write_counters(self, file: StateFile) -> None:
        counters = self.stats.counters()
        changed = {name: value for name, value in counters.items() if self._written.get(name) != value}
        if changed:
            file.write_counters(changed)
            self._written = counters

    def reset(self) -> None:
        """Forget every payment, stored response, webhook delivery and counter; faults and clock back to the
        settings."""
        with self.transaction():
            self.payments.clear()
            self.idempotency.clear()
            self.webhooks.deliveries.clear()
            self.stats = Stats()
        self.room.changed()
        self.faults.config = FaultConfig.from_settings(self.settings)
        self.clock_offset = dt.timedelta(0)

    # --- the payment window ---

    def authorise(self, request: AuthoriseRequest) -> Payment:
        """The buyer finished the window: a new IN_PROGRESS payment, or the decline error."""
        with self.transaction():
            return self._authorise(request)

    def _authorise(self, request: AuthoriseRequest) -> Payment:
        earlier = self.payments.for_order(request.order_id)
        if earlier is not None and not domain.can_reauthorise(self._refresh(earlier)):
            raise TossFailure(TossError.DUPLICATED_ORDER_ID)
        now = self.now()
        decline = domain.card_decision(request.card_number, request.card_expiry, now.date())
        if decline is not None:
            self.stats.declined += 1
            raise TossFailure(decline)
        self.room.make(self.payments, now)
        payment = Payment(
            payment_key=new_payment_key(now),
            order_id=request.order_id,
            order_name=request.order_name,
            amount=request.amount,
            card_digits=domain.normalize_card(request.card_number),
            requested_at=now,
            confirm_errors=deque(request.confirm_errors),
        )
        self.payments.put(payment)
        self.stats.authorized += 1
        return payment

    # --- the API ---

    def confirm(self, payment_key: str, order_id: str, amount: int) -> Payment:
        with self._changing(payment_key) as payment:
            now = self.now()
            domain.check_confirm(payment, order_id, amount, now, self.timing)
            domain.take_injected_failure(payment)
            self._approve(payment, now)
        return payment

    def cancel(self, payment_key: str, reason: str, amount: int | None, refundable: int | None) -> Payment:
        """A cancel less than ``cancel_interval_s`` after the payment's last one is refused (transient)."""
        with self._changing(payment_key) as payment:
            now = self.now()
            interval_s, most = self.settings.cancel_interval_s, self.settings.max_cancels_per_payment
            taken = cancels.cancel_amount(payment, amount, refundable, now, interval_s, most)
            self._cancel(payment, taken, reason, now)
        return payment

    # --- changes at the PSP that the shop did not ask for (emulator controls) ---

    def approve_outside(self, payment_key: str) -> Payment:
        """The PSP approves an authorised payment without an answer to the shop, as when a confirm's answer is
        lost: the confirm checks apply (not the injected ``confirmErrors``); an aborted payment stays aborted."""
        with self._changing(payment_key) as payment:
            now = self.now()
            if payment.status is domain.PaymentStatus.ABORTED:
                raise TossFailure(TossError.PAY_PROCESS_ABORTED)
            domain.check_confirm(payment, payment.order_id, payment.amount, now, self.timing)
            self._approve(payment, now)
            self.stats.approved_outside += 1
        return payment

    def cancel_outside(self, payment_key: str, reason: str, amount: int | None) -> Payment:
        """A cancel made at the PSP (Toss's console), not by the shop: the state and balance checks apply."""
        with self._changing(payment_key) as payment:
            taken = cancels.cancel_amount(payment, amount, None, max_cancels=self.settings.max_cancels_per_payment)
            self._cancel(payment, taken, reason, self.now())
            self.stats.canceled_outside += 1
        return payment

    def _approve(self, payment: Payment, now: dt.datetime) -> None:
        approve_no = f"{secrets.randbelow(10**8):08d}"
        domain.approve(payment, now, approve_no=approve_no, transaction_key=transaction_key())
        self.stats.approved += 1
        self.stats.approved_amount += payment.amount

    def _cancel(self, payment: Payment, amount: int, reason: str, now: dt.datetime) -> None:
        cancels.apply_cancel(payment, amount, reason, now, transaction_key())
        self.stats.canceled += 1
        self.stats.canceled_amount += amount

    def by_key(self, payment_key: str) -> Payment:
        with self.transaction():
            return self._known(payment_key)

    def by_order(self, order_id: str) -> Payment:
        with self.transaction():
            payment = self.payments.for_order(order_id)
            if payment is None:
                raise TossFailure(TossError.NOT_FOUND_PAYMENT)
            return self._refresh(payment)

    @contextmanager
    def _changing(self, payment_key: str) -> Iterator[Payment]:
        """The known payment, saved when the block ends, whether it returns or raises a Toss error (an
        injected confirm error changes the payment, then raises); a webhook when its status or cancels changed."""
        with self.transaction():
            payment = self._known(payment_key)
            seen = (payment.status, len(payment.cancels))
            try:
                yield payment
            finally:
                self.payments.save(payment)
                if (payment.status, len(payment.cancels)) != seen:
                    self.room.changed()
                    self.webhooks.notify(payment, self.now(), self.stats)

    def _known(self, payment_key: str) -> Payment:
        payment = self.payments.get(payment_key)
        if payment is None:
            raise TossFailure(TossError.NOT_FOUND_PAYMENT)
        return self._refresh(payment)

    def _refresh(self, payment: Payment) -> Payment:
        """Lazy expiry; an expired payment is saved as such, and its webhook sent then."""
        before = payment.status
        domain.refresh(payment, self.now(), self.timing)
        if payment.status is not before:
            self.payments.save(payment)
            self.room.changed()
            self.webhooks.notify(payment, self.now(), self.stats)
        return payment


def new_payment_key(now: dt.datetime) -> str:
    """``tgen_`` + time + random, like Toss's test payment keys."""
    stamp = now.strftime("%Y%m%d%H%M%S")
    return "tgen_" + stamp + "".join(_RANDOM.choices(_ALPHABET, k=12))


def transaction_key() -> str:
    return secrets.token_hex(16).upper()
