"""The payment window: the v1 SDK script (``GET /v1/payment``) and the hosted card page it opens.

``GET /emulator/window?clientKey&method&amount&orderId&orderName&successUrl&failUrl…`` shows the order and a
card form; its ``POST /emulator/window`` authorises (a new IN_PROGRESS payment) and answers 303 to
``successUrl?paymentType=NORMAL&orderId=…&paymentKey=…&amount=…``, or to
``failUrl?code=…&message=…&orderId=…`` when the buyer cancels (PAY_PROCESS_CANCELED) or the card declines.
Arguments the window cannot work with (unknown client key, bad amount, bad URLs) give a 400 error page, and so
do a successUrl or failUrl outside ``allowed_redirect_origins`` (``origins``): the window never redirects
there (NOT_ALLOWED_SUCCESS_URL, NOT_ALLOWED_FAIL_URL). An emulator full of payments in progress (``bounds``)
answers a 503 error page: no payment, and no redirect to failUrl, since the buyer did nothing wrong.
"""

from __future__ import annotations

import html
import json
from collections.abc import Mapping
from dataclasses import dataclass
from functools import cache
from importlib import resources
from string import Template
from urllib.parse import parse_qsl, quote, urlencode, urlsplit, urlunsplit

from fastapi import APIRouter, Request, Response
from fastapi.responses import HTMLResponse, RedirectResponse

from kiwishop.platform.errors import AppError, ErrorCode
from kiwishop.toss_emulator import domain
from kiwishop.toss_emulator.emulator import AuthoriseRequest, Emulator
from kiwishop.toss_emulator.errors import TossError, TossFailure
from kiwishop.toss_emulator.origins import allowed, parse_origins
from kiwishop.toss_emulator.pipeline import EmulatorDep
from kiwishop.toss_emulator.settings import TossEmulatorSettings

router = APIRouter(tags=["payment window"])

METHODS = ("카드", "CARD")
PASSED_ON = ("clientKey", "method", "amount", "orderId", "orderName", "successUrl", "failUrl")
NO_STORE = {"Cache-Control": "no-store"}
# The window's arguments are read by hand (the SDK's error codes), so they are documented here.
_WINDOW_FIELDS: dict[str, dict[str, object]] = {
    "clientKey": {"type": "string"},
    "method": {"type": "string", "enum": list(METHODS)},
    "amount": {"type": "string"},
    "orderId": {"type": "string"},
    "orderName": {"type": "string"},
    "successUrl": {"type": "string", "format": "uri"},
    "failUrl": {"type": "string", "format": "uri"},
}
_SHOW_DOC = {
    "parameters": [
        {"name": name, "in": "query", "required": True, "schema": schema} for name, schema in _WINDOW_FIELDS.items()
    ]
}
_FORM_FIELDS = {
    **_WINDOW_FIELDS,
    "action": {"type": "string", "enum": ["pay", "cancel"]},
    "cardNumber": {"type": "string"},
    "cardExpiry": {"type": "string"},
}
_ERROR_PAGE: dict[str, object] = {
    "description": "arguments the window cannot work with, or URLs outside the allowed origins: an error page",
    "content": {"text/html": {"schema": {"type": "string"}}},
}
_FULL_PAGE: dict[str, object] = {
    "description": "EMULATOR_FULL: every payment the emulator may keep is still in progress (an error page)",
    "content": {"text/html": {"schema": {"type": "string"}}},
}
_SUBMIT_DOC = {
    "requestBody": {
        "required": True,
        "content": {
            "application/x-www-form-urlencoded": {
                "schema": {"type": "object", "properties": _FORM_FIELDS, "required": list(_WINDOW_FIELDS)}
            }
        },
    }
}


@dataclass(frozen=True)
class WindowRequest:
    client_key: str
    method: str
    order_id: str
    order_name: str
    amount: int
    success_url: str
    fail_url: str


@cache
def _resource(name: str) -> str:
    return resources.files("kiwishop.toss_emulator").joinpath(name).read_text("utf-8")


def sdk_script(client_keys: tuple[str, ...]) -> str:
    return _resource("payment.js").replace("__KIWI_CLIENT_KEYS__", json.dumps(list(client_keys)))


def absolute_http_url(value: object) -> bool:
    if not isinstance(value, str) or any(ch.isspace() for ch in value):
        return False
    try:
        parts = urlsplit(value)
    except ValueError:  # e.g. an unclosed IPv6 host: "http://[::1"
        return False
    return parts.scheme in ("http", "https") and bool(parts.netloc)


def window_request(values: Mapping[str, str], settings: TossEmulatorSettings) -> WindowRequest:
    """The window's arguments, checked as the SDK checks them (the same codes), and where they send the buyer."""
    client_key, method = values.get("clientKey", ""), values.get("method", "")
    if client_key not in settings.client_keys:
        raise TossFailure(TossError.UNAUTHORIZED_KEY)
    if method not in METHODS:
        raise TossFailure(TossError.NOT_SUPPORTED_METHOD)
    order_id, order_name, amount = domain.check_order(
        values.get("orderId"), values.get("orderName"), values.get("amount")
    )
    if not absolute_http_url(values.get("successUrl")):
        raise TossFailure(TossError.INCORRECT_SUCCESS_URL_FORMAT)
    if not absolute_http_url(values.get("failUrl")):
        raise TossFailure(TossError.INCORRECT_FAIL_URL_FORMAT)
    origins = parse_origins(settings.allowed_redirect_origins)
    if not allowed(values["successUrl"], origins):
        raise TossFailure(TossError.NOT_ALLOWED_SUCCESS_URL)
    if not allowed(values["failUrl"], origins):
        raise TossFailure(TossError.NOT_ALLOWED_FAIL_URL)
    return WindowRequest(client_key, method, order_id, order_name, amount, values["successUrl"], values["failUrl"])


def with_query(url: str, params: list[tuple[str, str]]) -> str:
    """``url`` with ``params`` appended to its query, in order (its own query and fragment kept)."""
    parts = urlsplit(url)
    added = urlencode(params, quote_via=quote)
    query = f"{parts.query}&{added}" if parts.query else added
    return urlunsplit((parts.scheme, parts.netloc, parts.path, query, parts.fragment))


def success_location(req: WindowRequest, payment_key: str) -> str:
    params = [("paymentType", "NORMAL"), ("orderId", req.order_id), ("paymentKey", payment_key)]
    return with_query(req.success_url, [*params, ("amount", str(req.amount))])


def fail_location(req: WindowRequest, error: TossError) -> str:
    params = [("code", error.code), ("message", error.message("ko")), ("orderId", req.order_id)]
    return with_query(req.fail_url, params)


def render_window(req: WindowRequest, emulator: Emulator) -> str:
    hidden = "\n".join(
        f'    <input type="hidden" name="{name}" value="{html.escape(value)}">'
        for name, value in zip(PASSED_ON, _passed_on_values(req), strict=True)
    )
    cards = "\n".join(
        f'      <tr><td class="card">{number}</td><td>{html.escape(outcome)}</td></tr>'
        for number, outcome in domain.TEST_CARDS
    )
    expiry_year = (emulator.now().year + 5) % 100
    return Template(_resource("window.html")).substitute(
        css=_resource("window.css"),
        order_name=html.escape(req.order_name),
        amount_text=f"{req.amount:,}원",
        order_id=html.escape(req.order_id),
        hidden=hidden,
        card_number=domain.TEST_CARDS[0][0],
        card_expiry=f"12/{expiry_year:02d}",
        test_cards=cards,
    )


def _passed_on_values(req: WindowRequest) -> tuple[str, ...]:
    return (req.client_key, req.method, str(req.amount), req.order_id, req.order_name, req.success_url, req.fail_url)


def error_page(error: ErrorCode, status: int = 400) -> HTMLResponse:
    page = Template(_resource("error.html")).substitute(
        css=_resource("window.css"), code=error.code, message=html.escape(error.message("ko"))
    )
    return HTMLResponse(page, status_code=status, headers=NO_STORE)


@router.get("/v1/payment", summary="The v1 payment-window SDK script (TossPayments(clientKey))")
async def sdk(emulator: EmulatorDep) -> Response:
    script = sdk_script(emulator.settings.client_keys)
    return Response(script, media_type="application/javascript; charset=utf-8", headers=NO_STORE)


@router.get(
    "/emulator/window",
    summary="The hosted payment window (card form)",
    response_class=HTMLResponse,
    responses={400: _ERROR_PAGE},
    openapi_extra=_SHOW_DOC,
)
async def show_window(request: Request, emulator: EmulatorDep) -> Response:
    try:
        req = window_request(request.query_params, emulator.settings)
    except TossFailure as failure:
        return error_page(failure.error)
    return HTMLResponse(render_window(req, emulator), headers=NO_STORE)


@router.post(
    "/emulator/window",
    summary="Pay or cancel in the window: 303 to successUrl or failUrl",
    status_code=303,
    response_class=RedirectResponse,
    responses={
        303: {"description": "to successUrl, or to failUrl with code and message"},
        400: _ERROR_PAGE,
        503: _FULL_PAGE,
    },
    openapi_extra=_SUBMIT_DOC,
)
async def submit_window(request: Request, emulator: EmulatorDep) -> Response:
    values = dict(parse_qsl((await request.body()).decode("utf-8", "replace"), keep_blank_values=True))
    try:
        req = window_request(values, emulator.settings)
    except TossFailure as failure:
        return error_page(failure.error)
    if values.get("action") == "cancel":
        return RedirectResponse(fail_location(req, TossError.PAY_PROCESS_CANCELED), status_code=303)
    order = AuthoriseRequest(
        order_id=req.order_id,
        order_name=req.order_name,
        amount=req.amount,
        card_number=values.get("cardNumber", ""),
        card_expiry=values.get("cardExpiry") or None,
    )
    try:
        payment = emulator.authorise(order)
    except TossFailure as failure:
        return RedirectResponse(fail_location(req, failure.error), status_code=303)
    except AppError as refusal:  # EMULATOR_FULL
        return error_page(refusal.code, refusal.status)
    return RedirectResponse(success_location(req, payment.payment_key), status_code=303)
