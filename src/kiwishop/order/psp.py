"""The Toss Payments client, order's ``PaymentGateway``: approve (Toss's confirm API), look up, resolve, cancel
(a compensation) and refund (a cancel of lines), each answer turned into evidence (``verdicts``, ``cancellation``).

An approval uses one Idempotency-Key per order and paymentKey (``confirm-{orderId}-{paymentKey}``) for every
attempt, so any number of attempts charge the buyer at most once (and the PSP captures a paymentKey once).
In-doubt answers (timeouts, connection errors, 5xx, 429, provider errors, unknown codes) are retried here with
the same key and short backoff, then reported IN_DOUBT — the recovery step asks again later, with per-order
backoff. ALREADY_PROCESSED → a lookup decides. IDEMPOTENT_REQUEST_PROCESSING → ask again shortly.
NOT_FOUND_PAYMENT is only evidence: the verdict waits for the authorisation window (``verdicts.verdict``).
"""

from __future__ import annotations

import asyncio
import logging
from collections.abc import Mapping
from decimal import Decimal
from typing import Any, Protocol

from kiwishop.order.cancellation import CancelAnswer, Outcome, is_refusal, judge_cancel
from kiwishop.order.psp_sync import PspRead
from kiwishop.order.verdicts import Evidence, PspClass, PspResult, classify, judge_payment
from kiwishop.platform import jsonutil
from kiwishop.platform.httpclient import HttpError, HttpResponse, HttpTimeout

log = logging.getLogger("kiwishop.order.psp")

IN_FLIGHT_WAIT_S = 0.1
IN_FLIGHT_MAX_WAITS = 50
CONSECUTIVE_WAIT_S = 1.0  # Toss processes one cancel of a payment per second (FORBIDDEN_CONSECUTIVE_REQUEST)
CONSECUTIVE_MAX_WAITS = 3


class TossHttp(Protocol):
    """What the client needs of an HTTP client (``platform.httpclient.HttpClient``)."""

    async def get(self, path: str) -> HttpResponse: ...

    async def post(self, path: str, *, json: Any = None, headers: Mapping[str, str] | None = None) -> HttpResponse: ...


def approval_key(order_id: str, payment_key: str) -> str:
    """The key of every approval request of an order with one paymentKey. Per key, not per order: the PSP
    answers a repeated Idempotency-Key with its first answer whatever the body, so a hostile or mistyped key's
    refusal must not become the answer to the real key's approval."""
    return f"confirm-{order_id}-{payment_key}"


def _error_of(response: HttpResponse) -> tuple[str | None, str]:
    try:
        body = jsonutil.loads(response.content)
    except ValueError:
        return None, response.text[:200]
    if isinstance(body, dict):
        return (str(body["code"]) if body.get("code") else None), str(body.get("message") or "")
    return None, response.text[:200]


def _payment_of(response: HttpResponse) -> dict[str, Any] | None:
    try:
        body = jsonutil.loads(response.content)
    except ValueError:
        return None
    return body if isinstance(body, dict) else None


def _judge(response: HttpResponse, order_id: str, amount: Decimal, payment_key: str | None) -> PspResult:
    payment = _payment_of(response)
    if payment is None:
        return PspResult.in_doubt("PSP_MALFORMED", "the PSP answered 200 with a body that is not a payment")
    return judge_payment(payment, order_id, amount, payment_key)


class TossClient:
    def __init__(self, http: TossHttp, *, max_attempts: int, retry_base_s: float) -> None:
        self._http = http
        self._max_attempts = max(1, max_attempts)
        self._retry_base = retry_base_s
        self.answered = 0  # PSP answers that were evidence (not in doubt), for "is the PSP back?"

    async def approve(self, payment_key: str, order_id: str, amount: Decimal) -> PspResult:
        """Toss's confirm API (``POST /v1/payments/confirm``): capture the payment the buyer authorised."""
        body = {"paymentKey": payment_key, "orderId": order_id, "amount": int(amount)}
        headers = {"Idempotency-Key": approval_key(order_id, payment_key)}
        last = PspResult.in_doubt("PSP_NOT_CALLED", "no attempt was made")
        attempt, waits = 0, 0
        while attempt < self._max_attempts:
            try:
                response = await self._http.post("/v1/payments/confirm", json=body, headers=headers)
            except HttpTimeout as exc:
                last = PspResult.in_doubt("PSP_TIMEOUT", f"no answer from the PSP: {type(exc).__name__}")
            except HttpError as exc:
                last = PspResult.in_doubt("PSP_UNREACHABLE", f"cannot reach the PSP: {type(exc).__name__}")
            else:
                if response.status_code == 200:
                    return self._seen(_judge(response, order_id, amount, payment_key))
                code, message = _error_of(response)
                kind = classify(response.status_code, code)
                if kind is PspClass.FINAL:
                    return self._seen(PspResult.declined(code or f"HTTP_{response.status_code}", message))
                if kind is PspClass.NOT_FOUND:
                    return self._seen(PspResult(Evidence.NOT_FOUND, code, message))
                if kind is PspClass.RECONCILE:
                    return await self.lookup(order_id, amount, payment_key)
                if kind is PspClass.IN_FLIGHT and waits < IN_FLIGHT_MAX_WAITS:
                    waits += 1
                    await asyncio.sleep(IN_FLIGHT_WAIT_S)
                    continue
                last = PspResult.in_doubt(code or f"HTTP_{response.status_code}", message)
            attempt += 1
            if attempt < self._max_attempts:
                await asyncio.sleep(self._retry_base * 2 ** (attempt - 1))
        log.warning("approval of %s in doubt after %d attempts: %s", order_id, attempt, last.code)
        return last

    async def lookup(
        self, order_id: str, amount: Decimal, payment_key: str | None, *, by_order: bool = False
    ) -> PspResult:
        """What the PSP knows: by paymentKey (or by orderId when asked, or when we have no key), judged against
        our orderId, amount and key. In-doubt answers are retried."""
        path = f"/v1/payments/orders/{order_id}" if by_order or not payment_key else f"/v1/payments/{payment_key}"
        last = PspResult.in_doubt("PSP_NOT_CALLED", "no lookup was made")
        for attempt in range(self._max_attempts):
            if attempt:
                await asyncio.sleep(self._retry_base * 2 ** (attempt - 1))
            try:
                response = await self._http.get(path)
            except HttpError as exc:
                last = PspResult.in_doubt("PSP_UNREACHABLE", f"lookup failed: {type(exc).__name__}")
                continue
            if response.status_code == 200:
                return self._seen(_judge(response, order_id, amount, payment_key))
            code, message = _error_of(response)
            kind = classify(response.status_code, code)
            if kind is PspClass.NOT_FOUND:
                return self._seen(PspResult(Evidence.NOT_FOUND, code, message or "the PSP has no such payment"))
            last = PspResult.in_doubt(code or f"HTTP_{response.status_code}", message)
            if kind is PspClass.FINAL:  # our request is wrong (auth, key format): asking again won't help now
                break
        return last

    async def read(self, payment_key: str) -> PspRead:
        """The payment as the PSP reports it now, unjudged (a webhook's check); in-doubt answers are retried."""
        last = PspRead(None, in_doubt=True)
        for attempt in range(self._max_attempts):
            if attempt:
                await asyncio.sleep(self._retry_base * 2 ** (attempt - 1))
            try:
                response = await self._http.get(f"/v1/payments/{payment_key}")
            except HttpError:
                continue
            if response.status_code == 200:
                payment = _payment_of(response)
                return PspRead(payment, in_doubt=payment is None)
            code, _ = _error_of(response)
            kind = classify(response.status_code, code)
            if kind is PspClass.NOT_FOUND:
                return PspRead(None)
            if kind is PspClass.FINAL:
                break
        return last

    async def resolve(self, order_id: str, amount: Decimal, payment_key: str) -> PspResult:
        """Find out about an in-doubt payment: look it up; a key that belongs to another order says nothing about
        ours, so ask by orderId; if the buyer authorised it but nobody confirmed it, approve it now (same key)."""
        found = await self.lookup(order_id, amount, payment_key)
        if found.evidence is Evidence.FOREIGN:  # the key isn't ours: the PSP's payment of our orderId decides
            found = await self.lookup(order_id, amount, None, by_order=True)
        if found.evidence is Evidence.AUTHORISED:  # approve the key the PSP holds for our orderId and amount
            return await self.approve(found.payment_key or payment_key, order_id, amount)
        return found

    async def cancel(self, payment_key: str, order_id: str, *, reason: str, idempotency_key: str) -> PspResult:
        """Cancel the whole payment (a compensation: ``domain.compensation_key``). DECLINED/PAYMENT_CANCELED when
        the PSP says it is cancelled; anything else is in doubt (retried with the same key by the caller's next
        attempt)."""
        headers = {"Idempotency-Key": idempotency_key}
        last = PspResult.in_doubt("PSP_NOT_CALLED", "no cancel was sent")
        for attempt in range(self._max_attempts):
            if attempt:
                await asyncio.sleep(self._retry_base * 2 ** (attempt - 1))
            try:
                response = await self._http.post(
                    f"/v1/payments/{payment_key}/cancel", json={"cancelReason": reason[:200]}, headers=headers
                )
            except HttpError as exc:
                last = PspResult.in_doubt("PSP_UNREACHABLE", f"cancel failed: {type(exc).__name__}")
                continue
            code, message = _error_of(response)
            body = _payment_of(response) if response.status_code == 200 else None
            if (body is not None and body.get("status") == "CANCELED") or code == "ALREADY_CANCELED_PAYMENT":
                return self._seen(PspResult.declined("PAYMENT_CANCELED", "cancelled at the PSP"))
            last = PspResult.in_doubt(code or f"HTTP_{response.status_code}", message)
            if response.status_code < 500 and response.status_code != 429 and code != "IDEMPOTENT_REQUEST_PROCESSING":
                break
        log.error("compensating cancel of %s (%s) not confirmed: %s", order_id, payment_key, last.code)
        return last

    async def refund(self, payment_key: str, *, amount: Decimal, reason: str, idempotency_key: str) -> CancelAnswer:
        """Give ``amount`` of the payment back (a cancel of some or all of its lines: ``cancellation``). The amount
        is always sent, so a PSP that holds another balance refuses rather than cancelling something else. In-doubt
        answers are retried with the same key; a refusal is final (a new cancel needs a new key). A cancel sent
        within a second of the payment's last one is refused unprocessed: it is sent again a second later."""
        body = {"cancelReason": reason[:200], "cancelAmount": int(amount)}
        headers = {"Idempotency-Key": idempotency_key}
        last = CancelAnswer.in_doubt("PSP_NOT_CALLED", "no cancel was sent")
        attempt, waits, too_soon = 0, 0, 0
        while attempt < self._max_attempts:
            try:
                response = await self._http.post(f"/v1/payments/{payment_key}/cancel", json=body, headers=headers)
            except HttpTimeout as exc:
                last = CancelAnswer.in_doubt("PSP_TIMEOUT", f"no answer from the PSP: {type(exc).__name__}")
            except HttpError as exc:
                last = CancelAnswer.in_doubt("PSP_UNREACHABLE", f"cannot reach the PSP: {type(exc).__name__}")
            else:
                if response.status_code == 200:
                    return self._heard(judge_cancel(_payment_of(response), payment_key, amount))
                code, message = _error_of(response)
                if is_refusal(response.status_code, code):
                    return self._heard(CancelAnswer.refused(code or f"HTTP_{response.status_code}", message))
                if code == "IDEMPOTENT_REQUEST_PROCESSING" and waits < IN_FLIGHT_MAX_WAITS:
                    waits += 1
                    await asyncio.sleep(IN_FLIGHT_WAIT_S)
                    continue
                if code == "FORBIDDEN_CONSECUTIVE_REQUEST" and too_soon < CONSECUTIVE_MAX_WAITS:
                    too_soon += 1  # another cancel of the payment a moment ago: this one was not processed
                    await asyncio.sleep(CONSECUTIVE_WAIT_S)
                    continue
                last = CancelAnswer.in_doubt(code or f"HTTP_{response.status_code}", message)
            attempt += 1
            if attempt < self._max_attempts:
                await asyncio.sleep(self._retry_base * 2 ** (attempt - 1))
        log.warning("cancel %s of %s in doubt after %d attempts: %s", idempotency_key, payment_key, attempt, last.code)
        return last

    def _heard(self, answer: CancelAnswer) -> CancelAnswer:
        if answer.outcome is not Outcome.IN_DOUBT:
            self.answered += 1
        return answer

    def _seen(self, result: PspResult) -> PspResult:
        if result.evidence is not Evidence.IN_DOUBT:
            self.answered += 1
        return result
