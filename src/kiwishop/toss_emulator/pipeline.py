"""How one Toss API request is answered: authentication, headers, faults, idempotency, then the use case.

Order of the steps (and what each answers):
1. ``Authorization`` (401 UNAUTHORIZED_KEY / 403 INCORRECT_BASIC_AUTH_FORMAT), ``Idempotency-Key`` length
   (400 INVALID_IDEMPOTENCY_KEY, POST only), ``TossPayments-Test-Code`` (the forced error, test keys only),
   the request body (400 INVALID_REQUEST). None of these answers is stored for idempotency.
2. A fault roll: 5xx → 500 at once; timeout → hang, then 500. Nothing is done, nothing stored.
3. Idempotency (POST with a key): the stored first response is replayed; a request whose first twin is
   still running gets 409 IDEMPOTENT_REQUEST_PROCESSING; otherwise this request owns the key.
4. The configured latency (while owning the key), the use case, and the response is stored — success or
   Toss error alike — unless the error is a transient injected ``confirmErrors`` code.
5. A drop fault hangs now, after the work is done and stored: the caller's read timeout fires first.

With a state file, the use case's writes and its stored response share one transaction, and every
counter is written before the answer leaves.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from typing import Annotated, Any

from fastapi import Depends, Request, Response

from kiwishop.platform import jsonutil
from kiwishop.platform.deps import app_state
from kiwishop.platform.errors import language
from kiwishop.platform.web import JSONResponse
from kiwishop.toss_emulator import domain
from kiwishop.toss_emulator.domain import Caller, Payment
from kiwishop.toss_emulator.emulator import Emulator
from kiwishop.toss_emulator.errors import TossError, TossFailure
from kiwishop.toss_emulator.faults import Fault
from kiwishop.toss_emulator.store import Claim, InFlight, Scope, StoredResponse
from kiwishop.toss_emulator.wire import payment_json

UseCase = Callable[[Any], Payment]
REPLAY_HEADER = "X-Emulator-Replayed"


@dataclass(frozen=True)
class Prepared:
    caller: Caller
    scope: Scope | None
    payload: Any


@dataclass(frozen=True)
class Outcome:
    status: int
    content: bytes
    storable: bool

    def response(self, *, replayed: bool = False) -> Response:
        headers = {REPLAY_HEADER: "true"} if replayed else None
        return Response(self.content, status_code=self.status, media_type="application/json", headers=headers)


EmulatorDep = Annotated[Emulator, Depends(app_state("emulator", Emulator))]


def error_response(error: TossError, lang: str) -> JSONResponse:
    return JSONResponse(error.body(lang), status_code=error.status)


async def answer(
    request: Request,
    emulator: Emulator,
    use_case: UseCase,
    parse: Callable[[Any], Any] | None = None,
) -> Response:
    """Answer one Toss API request with ``use_case(parse(json body))`` (GET: ``use_case(None)``)."""
    lang = language(request.headers.get("accept-language"))
    try:
        prepared = await _prepare(request, emulator, parse)
    except TossFailure as failure:
        return error_response(failure.error, lang)
    fault = emulator.faults.roll(lookup=request.method == "GET")
    if fault is Fault.ERROR_5XX or fault is Fault.TIMEOUT:
        return await _fail_without_doing_anything(emulator, fault, lang)
    if prepared.scope is None:
        await emulator.faults.delay()
        outcome = _execute(emulator, None, use_case, prepared.payload, lang)
    else:
        begun = emulator.idempotency.begin(prepared.scope)
        if isinstance(begun, StoredResponse):
            with emulator.transaction():
                emulator.stats.replayed += 1
            await emulator.faults.delay()
            return Outcome(begun.status, begun.body, True).response(replayed=True)
        if isinstance(begun, InFlight):
            with emulator.transaction():
                emulator.stats.in_flight_rejected += 1
            return error_response(TossError.IDEMPOTENT_REQUEST_PROCESSING, lang)
        outcome = await _execute_owning(emulator, begun, use_case, prepared.payload, lang)
    if fault is Fault.DROP:
        with emulator.transaction():
            emulator.stats.fault_drops += 1
        await emulator.faults.hang()
    return outcome.response()


async def _prepare(request: Request, emulator: Emulator, parse: Callable[[Any], Any] | None) -> Prepared:
    caller = domain.authenticate(request.headers.get("authorization"), emulator.settings.secret_keys)
    scope: Scope | None = None
    if request.method == "POST":
        key = domain.check_idempotency_key(request.headers.get("idempotency-key"))
        if key is not None:
            scope = (key, caller.secret_key, request.url.path, request.method)
    forced = domain.forced_error(caller, request.headers.get("tosspayments-test-code"))
    if forced is not None:
        raise TossFailure(forced)
    payload = parse(await _json_body(request)) if parse is not None else None
    return Prepared(caller, scope, payload)


async def _json_body(request: Request) -> Any:
    raw = await request.body()
    try:
        return jsonutil.loads(raw) if raw.strip() else {}
    except (ValueError, UnicodeDecodeError, RecursionError) as exc:  # RecursionError: nested too deep
        raise TossFailure(TossError.INVALID_REQUEST) from exc


async def _fail_without_doing_anything(emulator: Emulator, fault: Fault, lang: str) -> Response:
    if fault is Fault.TIMEOUT:
        with emulator.transaction():
            emulator.stats.fault_timeouts += 1
        await emulator.faults.hang()
    else:
        with emulator.transaction():
            emulator.stats.faults_5xx += 1
        await emulator.faults.delay()
    return error_response(TossError.FAILED_INTERNAL_SYSTEM_PROCESSING, lang)


async def _execute_owning(emulator: Emulator, claim: Claim, use_case: UseCase, payload: Any, lang: str) -> Outcome:
    """Run the use case while owning the idempotency scope; store the outcome unless it is transient."""
    try:
        await emulator.faults.delay()
        return _execute(emulator, claim, use_case, payload, lang)
    finally:
        emulator.idempotency.release(claim)


def _execute(emulator: Emulator, claim: Claim | None, use_case: UseCase, payload: Any, lang: str) -> Outcome:
    """The use case and, for a claim, its stored outcome: one transaction."""
    with emulator.transaction():
        outcome = _outcome(use_case, payload, lang)
        if claim is not None and outcome.storable:
            emulator.idempotency.complete(claim, StoredResponse(outcome.status, outcome.content))
    return outcome


def _outcome(use_case: UseCase, payload: Any, lang: str) -> Outcome:
    try:
        payment = use_case(payload)
    except TossFailure as failure:
        return Outcome(failure.status, jsonutil.dumps(failure.error.body(lang)), not failure.transient)
    return Outcome(200, jsonutil.dumps(payment_json(payment, lang)), True)
