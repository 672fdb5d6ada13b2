"""Verdicts only on the PSP's evidence: no count of attempts ever fails a payment."""

from __future__ import annotations

import datetime as dt
import random

import pytest

from kiwishop.order.domain import PaymentStatus
from kiwishop.order.verdicts import Evidence, Policy, PspResult, backoff, compensated, verdict

NOW = dt.datetime(2026, 11, 30, 12, 0, 0)
POLICY = Policy(
    authorization_window=dt.timedelta(minutes=15),
    horizon=dt.timedelta(hours=24),
    backoff_base=dt.timedelta(seconds=1),
    backoff_max=dt.timedelta(seconds=60),
)


def judged(result: PspResult, *, started_ago: float = 5, in_doubt_for: float | None = None) -> PaymentStatus:
    since = None if in_doubt_for is None else NOW - dt.timedelta(seconds=in_doubt_for)
    return verdict(
        result, now=NOW, confirm_started_at=NOW - dt.timedelta(seconds=started_ago), in_doubt_since=since,
        policy=POLICY,
    ).status  # fmt: skip


def test_an_approval_is_a_success_and_a_decline_a_failure() -> None:
    assert judged(PspResult.approved(NOW, "pk")) is PaymentStatus.SUCCESS
    assert judged(PspResult.declined("REJECT_CARD_COMPANY", "no")) is PaymentStatus.FAILURE


def test_not_found_is_a_failure_only_after_the_authorisation_window() -> None:
    not_found = PspResult(Evidence.NOT_FOUND, "NOT_FOUND_PAYMENT", "no such payment")
    assert judged(not_found, started_ago=60) is PaymentStatus.UNKNOWN
    assert judged(not_found, started_ago=14 * 60) is PaymentStatus.UNKNOWN
    assert judged(not_found, started_ago=15 * 60) is PaymentStatus.FAILURE


@pytest.mark.parametrize("in_doubt_for", [0, 60, 3600, 23 * 3600])
def test_in_doubt_stays_unknown_however_often_it_was_asked_until_the_horizon(in_doubt_for: float) -> None:
    assert judged(PspResult.in_doubt("PSP_TIMEOUT", "slow"), in_doubt_for=in_doubt_for) is PaymentStatus.UNKNOWN


def test_in_doubt_past_the_horizon_is_quarantined_never_failed() -> None:
    result = PspResult.in_doubt("FAILED_INTERNAL_SYSTEM_PROCESSING", "5xx")
    assert judged(result, in_doubt_for=24 * 3600) is PaymentStatus.QUARANTINED
    not_found_late = PspResult(Evidence.NOT_FOUND, "NOT_FOUND_PAYMENT", "?")
    assert judged(not_found_late, started_ago=60, in_doubt_for=24 * 3600) is PaymentStatus.QUARANTINED


def test_odd_evidence_goes_to_a_person() -> None:
    odd = PspResult(Evidence.ODD, "PSP_PARTIAL_CANCELED", "partly cancelled")
    assert judged(odd) is PaymentStatus.QUARANTINED


def test_a_mismatch_fails_only_once_the_psp_confirms_the_compensating_cancel() -> None:
    mismatch = PspResult(Evidence.MISMATCH, "PSP_AMOUNT_MISMATCH", "approved 5000", payment_key="pk")
    done = compensated(mismatch, PspResult.declined("PAYMENT_CANCELED", "cancelled"))
    assert (done.status, done.code) == (PaymentStatus.FAILURE, "PSP_AMOUNT_MISMATCH")
    assert "cancelled at the PSP" in (done.message or "")
    doubt = compensated(mismatch, PspResult.in_doubt("PSP_UNREACHABLE", "down"))
    assert (doubt.status, doubt.code) == (PaymentStatus.QUARANTINED, "PSP_AMOUNT_MISMATCH_CANCEL_IN_DOUBT")
    refused = compensated(mismatch, PspResult.declined("NOT_CANCELABLE_PAYMENT", "no"))
    assert refused.status is PaymentStatus.QUARANTINED


def test_backoff_grows_exponentially_is_capped_and_jittered_down_to_half() -> None:
    rng = random.Random(7)
    for attempts in range(40):
        delay = backoff(attempts, POLICY, rng)
        ceiling = min(60.0, 2.0**attempts)
        assert ceiling / 2 <= delay.total_seconds() <= ceiling
    assert backoff(1000, POLICY, rng) <= dt.timedelta(seconds=60)


def test_reasons_name_the_outcome() -> None:
    assert verdict(PspResult.approved(NOW, "pk"), now=NOW, confirm_started_at=NOW, in_doubt_since=None,
                   policy=POLICY).reason == "PSP_APPROVED"  # fmt: skip
    assert verdict(PspResult.in_doubt("PSP_TIMEOUT", "x"), now=NOW, confirm_started_at=NOW, in_doubt_since=None,
                   policy=POLICY).reason == "PSP_IN_DOUBT:PSP_TIMEOUT"  # fmt: skip
