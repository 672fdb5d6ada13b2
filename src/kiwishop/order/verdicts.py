"""What an answer of the PSP proves about one order, and the verdict it allows. Standard library only.

A payment is FAILURE only on the PSP's word: a decline, a payment ABORTED / EXPIRED / CANCELED, or "no such
payment" once the authorisation window has passed since the shop first asked to confirm it. Everything
else stays in doubt and is asked again with per-order backoff; an order still in doubt after the recovery
horizon becomes QUARANTINED — visible, for a person — never FAILURE by a count of attempts. A DONE payment
for this orderId but another amount or paymentKey is cancelled at the PSP (compensation) before the order
fails; a payment of *another* orderId is never touched (the key we hold belongs to someone else).
"""

from __future__ import annotations

import datetime as dt
import enum
import random
from dataclasses import dataclass
from decimal import Decimal, InvalidOperation
from typing import Any
from zoneinfo import ZoneInfo

from kiwishop.order.domain import PaymentStatus

SEOUL = ZoneInfo("Asia/Seoul")


class PspClass(enum.Enum):
    """What an error answer of the PSP means (toss.md A4, retry classes)."""

    FINAL = "final"  # a definitive decline or a request/config error: FAILURE, never retry
    RETRY = "retry"  # in doubt (5xx, timeouts, provider errors): retry with the same key
    RECONCILE = "reconcile"  # already processed: look the payment up
    IN_FLIGHT = "in_flight"  # the same idempotency key is still being processed: ask again shortly
    NOT_FOUND = "not_found"  # the PSP knows no such payment: final only after the authorisation window


RETRYABLE_CODES = frozenset(
    {
        "PROVIDER_ERROR",
        "CARD_PROCESSING_ERROR",
        "FAILED_PAYMENT_INTERNAL_SYSTEM_PROCESSING",
        "FAILED_INTERNAL_SYSTEM_PROCESSING",
        "UNKNOWN_PAYMENT_ERROR",
        "UNKNOWN",
    }
)
RECONCILE_CODES = frozenset({"ALREADY_PROCESSED_PAYMENT", "ALREADY_COMPLETED_PAYMENT"})
NOT_FOUND_CODES = frozenset({"NOT_FOUND_PAYMENT"})
FINAL_CODES = frozenset(
    {
        "EXCEED_MAX_CARD_INSTALLMENT_PLAN", "INVALID_REQUEST", "NOT_ALLOWED_POINT_USE", "INVALID_API_KEY",
        "INVALID_REJECT_CARD", "BELOW_MINIMUM_AMOUNT", "INVALID_CARD_EXPIRATION", "INVALID_STOPPED_CARD",
        "EXCEED_MAX_DAILY_PAYMENT_COUNT", "NOT_SUPPORTED_INSTALLMENT_PLAN_CARD_OR_MERCHANT",
        "INVALID_CARD_INSTALLMENT_PLAN", "NOT_SUPPORTED_MONTHLY_INSTALLMENT_PLAN", "EXCEED_MAX_PAYMENT_AMOUNT",
        "NOT_FOUND_TERMINAL_ID", "INVALID_AUTHORIZE_AUTH", "INVALID_CARD_LOST_OR_STOLEN",
        "RESTRICTED_TRANSFER_ACCOUNT", "INVALID_CARD_NUMBER", "INVALID_UNREGISTERED_SUBMALL",
        "NOT_REGISTERED_BUSINESS", "EXCEED_MAX_ONE_DAY_WITHDRAW_AMOUNT", "EXCEED_MAX_ONE_TIME_WITHDRAW_AMOUNT",
        "EXCEED_MAX_AMOUNT", "INVALID_ACCOUNT_INFO_RE_REGISTER", "NOT_AVAILABLE_PAYMENT", "UNAPPROVED_ORDER_ID",
        "UNAUTHORIZED_KEY", "REJECT_ACCOUNT_PAYMENT", "REJECT_CARD_PAYMENT", "REJECT_CARD_COMPANY",
        "FORBIDDEN_REQUEST", "REJECT_TOSSPAY_INVALID_ACCOUNT", "EXCEED_MAX_AUTH_COUNT", "EXCEED_MAX_ONE_DAY_AMOUNT",
        "NOT_AVAILABLE_BANK", "INVALID_PASSWORD", "INCORRECT_BASIC_AUTH_FORMAT", "FDS_ERROR",
        "NOT_FOUND_PAYMENT_SESSION", "INVALID_IDEMPOTENCY_KEY", "INVALID_TEST_CODE",
    }
)  # fmt: skip


def classify(http_status: int, code: str | None) -> PspClass:
    """Toss error → what to do. Unknown codes, 5xx and 429 are in doubt: the charge may have happened."""
    if code == "IDEMPOTENT_REQUEST_PROCESSING":
        return PspClass.IN_FLIGHT
    if code in RECONCILE_CODES:
        return PspClass.RECONCILE
    if code in NOT_FOUND_CODES and http_status == 404:
        return PspClass.NOT_FOUND
    if code in RETRYABLE_CODES or http_status >= 500 or http_status == 429:
        return PspClass.RETRY
    if code in FINAL_CODES:
        return PspClass.FINAL
    return PspClass.RETRY


class Evidence(enum.Enum):
    """What one answer of the PSP proves about our order."""

    APPROVED = "approved"  # DONE for this orderId, amount and paymentKey
    DECLINED = "declined"  # a decline, or the payment is ABORTED / EXPIRED / CANCELED
    NOT_FOUND = "not_found"  # the PSP knows no such payment
    AUTHORISED = "authorised"  # the buyer authorised it, nobody confirmed it yet (IN_PROGRESS): confirm it
    MISMATCH = "mismatch"  # DONE for this orderId, but another amount or paymentKey: cancel it at the PSP
    FOREIGN = "foreign"  # the paymentKey belongs to another orderId: says nothing about ours
    ODD = "odd"  # a state no rule settles (e.g. PARTIAL_CANCELED before the shop confirmed): a person decides
    IN_DOUBT = "in_doubt"  # no answer, 5xx, an unknown code, a malformed body: ask again later


@dataclass(frozen=True)
class PspResult:
    evidence: Evidence
    code: str | None = None
    message: str | None = None
    approved_at: dt.datetime | None = None  # UTC, naive
    payment_key: str | None = None  # the PSP's paymentKey (for MISMATCH: the payment to cancel)

    @classmethod
    def approved(cls, approved_at: dt.datetime, payment_key: str) -> PspResult:
        return cls(Evidence.APPROVED, approved_at=approved_at, payment_key=payment_key)

    @classmethod
    def declined(cls, code: str, message: str) -> PspResult:
        return cls(Evidence.DECLINED, code=code, message=message)

    @classmethod
    def in_doubt(cls, code: str, message: str) -> PspResult:
        return cls(Evidence.IN_DOUBT, code=code, message=message)


def judge_payment(payment: dict[str, Any], order_id: str, amount: Decimal, payment_key: str | None) -> PspResult:
    """A Payment object from confirm or lookup, held against our orderId, amount and paymentKey."""
    status, their_key = payment.get("status"), str(payment.get("paymentKey") or "")
    if payment.get("orderId") != order_id:
        return PspResult(Evidence.FOREIGN, "PSP_FOREIGN_PAYMENT", "the paymentKey belongs to another order")
    try:
        total = Decimal(str(payment.get("totalAmount")))
    except (ArithmeticError, InvalidOperation):
        return PspResult.in_doubt("PSP_MALFORMED", "totalAmount is not a number")
    key_differs = bool(payment_key) and their_key != payment_key
    if status == "DONE":
        if total != amount:
            message = f"the PSP approved {total} for this order, the order is {amount}"
            return PspResult(Evidence.MISMATCH, "PSP_AMOUNT_MISMATCH", message, payment_key=their_key)
        if key_differs:
            message = "the PSP approved this order under another paymentKey"
            return PspResult(Evidence.MISMATCH, "PSP_KEY_MISMATCH", message, payment_key=their_key)
        approved = parse_psp_time(payment.get("approvedAt"))
        if approved is None:
            return PspResult.in_doubt("PSP_MALFORMED", "approvedAt missing")
        return PspResult.approved(approved, their_key)
    if key_differs:  # another payment of this orderId, not done: says nothing about the key we hold
        return PspResult.in_doubt("PSP_OTHER_PAYMENT", f"the PSP's payment of this order is {status}")
    if status in ("ABORTED", "EXPIRED", "CANCELED"):
        failure = payment.get("failure") or {}
        code, message = failure.get("code") or f"PAYMENT_{status}", failure.get("message") or status
        return PspResult.declined(str(code), str(message))
    if status == "IN_PROGRESS":
        message = "authorised, not confirmed yet"
        return PspResult(Evidence.AUTHORISED, "PSP_NOT_CONFIRMED", message, payment_key=their_key)
    if status == "PARTIAL_CANCELED":
        return PspResult(Evidence.ODD, "PSP_PARTIAL_CANCELED", "partly cancelled at the PSP before the shop confirmed")
    return PspResult.in_doubt("PSP_NOT_DONE", f"payment status is {status}")


def parse_psp_time(value: object) -> dt.datetime | None:
    """Toss times carry an offset (+09:00); we store UTC without tzinfo."""
    if not isinstance(value, str):
        return None
    try:
        moment = dt.datetime.fromisoformat(value)
    except ValueError:
        return None
    if moment.tzinfo is None:
        moment = moment.replace(tzinfo=SEOUL)
    return moment.astimezone(dt.UTC).replace(tzinfo=None)


@dataclass(frozen=True)
class Policy:
    """How long evidence is waited for (settings of order)."""

    authorization_window: dt.timedelta  # NOT_FOUND is final only this long after the first confirm
    horizon: dt.timedelta  # in doubt longer than this → QUARANTINED
    backoff_base: dt.timedelta
    backoff_max: dt.timedelta


@dataclass(frozen=True)
class Timing:
    """The policy, and how long an order may sit in each waiting state (settings of order)."""

    policy: Policy
    lease: dt.timedelta  # how long an EXECUTING confirm may run before it is taken over
    quarantine_recheck: dt.timedelta  # how often the PSP is asked again about a quarantined order
    settlement_grace: dt.timedelta  # how long a paid order may wait for wallet before PAYMENT_CONFIRM is re-sent


@dataclass(frozen=True)
class Verdict:
    """What the order's status becomes, and why."""

    status: PaymentStatus  # SUCCESS, FAILURE, UNKNOWN or QUARANTINED
    code: str | None = None
    message: str | None = None
    approved_at: dt.datetime | None = None
    payment_key: str | None = None  # SUCCESS: the key the PSP approved (bound to the order now)

    @property
    def reason(self) -> str:
        prefix = {
            PaymentStatus.SUCCESS: "PSP_APPROVED",
            PaymentStatus.FAILURE: "PSP_DECLINED",
            PaymentStatus.UNKNOWN: "PSP_IN_DOUBT",
            PaymentStatus.QUARANTINED: "QUARANTINED",
        }[self.status]
        return prefix if self.status is PaymentStatus.SUCCESS else f"{prefix}:{self.code}"


def verdict(result: PspResult, *, now: dt.datetime, confirm_started_at: dt.datetime | None,
            in_doubt_since: dt.datetime | None, policy: Policy) -> Verdict:  # fmt: skip
    """The verdict the evidence allows (MISMATCH must have been compensated before: see ``compensated``)."""
    e = result.evidence
    if e is Evidence.APPROVED:
        return Verdict(PaymentStatus.SUCCESS, approved_at=result.approved_at, payment_key=result.payment_key)
    if e is Evidence.DECLINED:
        return Verdict(PaymentStatus.FAILURE, result.code, result.message)
    if e is Evidence.NOT_FOUND and now - (confirm_started_at or now) >= policy.authorization_window:
        return Verdict(PaymentStatus.FAILURE, result.code or "NOT_FOUND_PAYMENT", result.message)
    if e is Evidence.ODD or e is Evidence.MISMATCH:
        return Verdict(PaymentStatus.QUARANTINED, result.code, result.message)
    if now - (in_doubt_since or now) >= policy.horizon:
        message = f"still in doubt after the recovery horizon: {result.message or result.code}"
        return Verdict(PaymentStatus.QUARANTINED, result.code, message[:500])
    return Verdict(PaymentStatus.UNKNOWN, result.code, result.message)


def compensated(mismatch: PspResult, cancel: PspResult) -> Verdict:
    """After a compensating cancel of a mismatching DONE payment: FAILURE once the PSP says it is cancelled,
    QUARANTINED while the cancel itself is in doubt or refused."""
    if cancel.evidence is Evidence.DECLINED and cancel.code == "PAYMENT_CANCELED":
        return Verdict(PaymentStatus.FAILURE, mismatch.code, f"{mismatch.message}; cancelled at the PSP"[:500])
    message = f"{mismatch.message}; the compensating cancel is in doubt: {cancel.code}"
    return Verdict(PaymentStatus.QUARANTINED, f"{mismatch.code}_CANCEL_IN_DOUBT"[:100], message[:500])


def backoff(attempts: int, policy: Policy, rng: random.Random | None = None) -> dt.timedelta:
    """Delay before the next recovery attempt of an order that stayed in doubt ``attempts`` times: exponential,
    capped at ``backoff_max``, jittered down to half so that a crowd of orders spreads out."""
    capped: dt.timedelta = min(policy.backoff_max, policy.backoff_base * (2 ** min(attempts, 30)))
    factor: float = (rng or random).uniform(0.5, 1.0)
    return capped * factor
