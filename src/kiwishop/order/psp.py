"""The Toss Payments client: confirm and look up, with one Idempotency-Key per order for every attempt.

Policy (toss.md A4): declines and request errors are final (FAILURE); provider errors, 5xx, 429, unknown
codes, timeouts and connection errors are in doubt — retried with the same key and backoff, then UNKNOWN
(the recovery worker settles them by lookup). ALREADY_PROCESSED → lookup, SUCCESS only when the PSP says
DONE for this orderId and amount. IDEMPOTENT_REQUEST_PROCESSING → ask again shortly.
"""

from __future__ import annotations

import asyncio
import logging
from decimal import Decimal
from typing import Any

from kiwishop.order.domain import PspClass, PspResult, classify, judge_payment
from kiwishop.platform import jsonutil
from kiwishop.platform.httpclient import HttpClient, HttpError, HttpResponse, HttpTimeout

log = logging.getLogger("kiwishop.order.psp")

IN_FLIGHT_WAIT_S = 0.1
IN_FLIGHT_MAX_WAITS = 50


def idempotency_key(order_id: str) -> str:
    return f"confirm-{order_id}"


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


class TossClient:
    def __init__(self, http: HttpClient, *, max_attempts: int = 3, retry_base_s: float = 0.2) -> None:
        self._http = http
        self._max_attempts = max(1, max_attempts)
        self._retry_base = retry_base_s

    async def confirm(self, payment_key: str, order_id: str, amount: Decimal) -> PspResult:
        body = {"paymentKey": payment_key, "orderId": order_id, "amount": int(amount)}
        headers = {"Idempotency-Key": idempotency_key(order_id)}
        last = PspResult.unknown("PSP_NOT_CALLED", "no attempt was made")
        attempt, waits = 0, 0
        while attempt < self._max_attempts:
            try:
                response = await self._http.post("/v1/payments/confirm", json=body, headers=headers)
            except HttpTimeout as exc:
                last = PspResult.unknown("PSP_TIMEOUT", f"no answer from the PSP: {type(exc).__name__}")
            except HttpError as exc:
                last = PspResult.unknown("PSP_UNREACHABLE", f"cannot reach the PSP: {type(exc).__name__}")
            else:
                if response.status_code == 200:
                    return self._judge(response, order_id, amount, payment_key)
                code, message = _error_of(response)
                kind = classify(response.status_code, code)
                if kind is PspClass.FINAL:
                    return PspResult.failure(code or f"HTTP_{response.status_code}", message)
                if kind is PspClass.RECONCILE:
                    return await self.lookup(order_id, amount, payment_key)
                if kind is PspClass.IN_FLIGHT and waits < IN_FLIGHT_MAX_WAITS:
                    waits += 1
                    await asyncio.sleep(IN_FLIGHT_WAIT_S)
                    continue
                last = PspResult.unknown(code or f"HTTP_{response.status_code}", message)
            attempt += 1
            if attempt < self._max_attempts:
                await asyncio.sleep(self._retry_base * 2 ** (attempt - 1))
        log.warning("confirm of %s in doubt after %d attempts: %s", order_id, attempt, last.code)
        return last

    async def lookup(self, order_id: str, amount: Decimal, payment_key: str | None) -> PspResult:
        """What the PSP knows: by paymentKey when we have one, else by orderId. In-doubt answers are retried."""
        path = f"/v1/payments/{payment_key}" if payment_key else f"/v1/payments/orders/{order_id}"
        last = PspResult.unknown("PSP_NOT_CALLED", "no lookup was made")
        for attempt in range(self._max_attempts):
            if attempt:
                await asyncio.sleep(self._retry_base * 2 ** (attempt - 1))
            try:
                response = await self._http.get(path)
            except HttpError as exc:
                last = PspResult.unknown("PSP_UNREACHABLE", f"lookup failed: {type(exc).__name__}")
                continue
            if response.status_code == 200:
                return self._judge(response, order_id, amount, payment_key)
            code, message = _error_of(response)
            if response.status_code == 404 and code == "NOT_FOUND_PAYMENT":
                return PspResult.failure(code, message or "the PSP has no such payment")
            last = PspResult.unknown(code or f"HTTP_{response.status_code}", message)
            if classify(response.status_code, code) is PspClass.FINAL:
                break
        return last

    async def recover(self, order_id: str, amount: Decimal, payment_key: str) -> PspResult:
        """Settle an in-doubt payment: look it up; if the buyer authorised it but nobody confirmed it,
        confirm it now with the same Idempotency-Key."""
        found = await self.lookup(order_id, amount, payment_key)
        if found.code == "PSP_NOT_DONE":
            return await self.confirm(payment_key, order_id, amount)
        return found

    @staticmethod
    def _judge(response: HttpResponse, order_id: str, amount: Decimal, payment_key: str | None) -> PspResult:
        payment = _payment_of(response)
        if payment is None:
            return PspResult.unknown("PSP_MALFORMED", "the PSP answered 200 with a body that is not a payment")
        return judge_payment(payment, order_id, amount, payment_key)
