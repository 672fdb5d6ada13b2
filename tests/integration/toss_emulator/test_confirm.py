"""POST /v1/payments/confirm: the Payment object, authentication, the checks, test codes."""

from __future__ import annotations

import re

import pytest

from kiwishop.toss_emulator.app import create_app
from kiwishop.toss_emulator.settings import TossEmulatorSettings
from tests.integration.toss_emulator.conftest import SECRET, Toss, basic, error, new_order_id
from tests.support import running_app

KST_TIME = re.compile(r"^\d{4}-\d{2}-\d{2}T\d{2}:\d{2}:\d{2}\+09:00$")


async def test_a_confirmed_payment_comes_back_as_a_done_payment_object(toss: Toss) -> None:
    payment = await toss.authorise(amount=15000)
    response = await toss.confirm(payment)
    assert response.status_code == 200
    body = response.json()
    assert {k: body[k] for k in ("paymentKey", "orderId", "orderName", "status", "type", "method")} == {
        "paymentKey": payment["paymentKey"],
        "orderId": payment["orderId"],
        "orderName": "상품A 외 2건",
        "status": "DONE",
        "type": "NORMAL",
        "method": "카드",
    }
    assert (body["version"], body["mId"], body["currency"], body["country"]) == (
        "2022-11-16",
        "tosspayments",
        "KRW",
        "KR",
    )
    amounts = ("totalAmount", "balanceAmount", "suppliedAmount", "vat", "taxFreeAmount")
    assert [body[k] for k in amounts] == [15000, 15000, 13636, 1364, 0]
    assert b'"totalAmount":15000,' in response.content  # a JSON integer
    assert KST_TIME.match(body["requestedAt"])
    assert KST_TIME.match(body["approvedAt"])
    assert body["approvedAt"] == "2025-01-10T20:29:30+09:00"  # the fake clock's 11:29:30Z in Seoul
    assert (body["cancels"], body["failure"], body["useEscrow"], body["isPartialCancelable"]) == (
        None,
        None,
        False,
        True,
    )
    assert body["receipt"]["url"].startswith("https://")
    assert body["lastTransactionKey"]
    assert payment["paymentKey"].startswith("tgen_")


async def test_the_card_block_describes_a_lump_sum_personal_credit_card(toss: Toss) -> None:
    card = (await toss.confirm(await toss.authorise(amount=6000))).json()["card"]
    assert card == {
        "issuerCode": card["issuerCode"],
        "acquirerCode": card["acquirerCode"],
        "number": "41111111****111*",
        "installmentPlanMonths": 0,
        "isInterestFree": False,
        "interestPayer": None,
        "approveNo": card["approveNo"],
        "useCardPoint": False,
        "cardType": "신용",
        "ownerType": "개인",
        "acquireStatus": "READY",
        "amount": 6000,
    }
    assert re.fullmatch(r"\d{8}", card["approveNo"])


@pytest.mark.parametrize("amount", ["6000", 6000.0, "6000.00"])
async def test_the_amount_may_be_a_numeric_string_or_a_whole_decimal(toss: Toss, amount: object) -> None:
    payment = await toss.authorise(amount=6000)
    response = await toss.confirm(payment, amount=amount)
    assert response.status_code == 200
    assert response.json()["totalAmount"] == 6000


@pytest.mark.parametrize(
    ("headers", "expected"),
    [
        ({}, (401, "UNAUTHORIZED_KEY")),
        (basic(colon=False), (403, "INCORRECT_BASIC_AUTH_FORMAT")),
        (basic("test_sk_someoneElsesKey00000000"), (401, "UNAUTHORIZED_KEY")),
        (basic("test_ck_D5GePWvyJnrK0W0k6q8gLzN97Eoq"), (401, "UNAUTHORIZED_KEY")),
    ],
)
async def test_a_call_without_a_valid_basic_secret_key_is_refused_and_changes_nothing(
    toss: Toss, headers: dict[str, str], expected: tuple[int, str]
) -> None:
    payment = await toss.authorise()
    body = {"paymentKey": payment["paymentKey"], "orderId": payment["orderId"], "amount": 6000}
    response = await toss.http.post("/v1/payments/confirm", json=body, headers=headers)
    assert error(response) == expected
    assert await toss.status(payment["paymentKey"]) == "IN_PROGRESS"


async def test_messages_are_english_when_the_caller_asks_for_en_us(toss: Toss) -> None:
    response = await toss.http.post("/v1/payments/confirm", json={}, headers={"Accept-Language": "en-US"})
    assert response.json() == {"code": "UNAUTHORIZED_KEY", "message": "Unauthorized secret key or client key."}
    korean = await toss.http.post("/v1/payments/confirm", json={})
    assert korean.json()["message"] == "인증되지 않은 시크릿 키 혹은 클라이언트 키 입니다."


async def test_an_unknown_payment_key_is_not_found(toss: Toss) -> None:
    response = await toss.confirm({"paymentKey": "tgen_nope", "orderId": new_order_id(), "amount": 6000})
    assert error(response) == (404, "NOT_FOUND_PAYMENT")


async def test_another_order_id_is_forbidden_and_another_amount_is_invalid_both_leaving_the_payment(
    toss: Toss,
) -> None:
    payment = await toss.authorise(amount=6000)
    assert error(await toss.confirm(payment, orderId=new_order_id())) == (403, "FORBIDDEN_REQUEST")
    mismatch = await toss.confirm(payment, amount=5999)
    assert error(mismatch) == (400, "INVALID_REQUEST")
    assert "금액" in mismatch.json()["message"]
    assert await toss.status(payment["paymentKey"]) == "IN_PROGRESS"
    assert (await toss.confirm(payment)).status_code == 200


@pytest.mark.parametrize(
    "body",
    [
        b"{not json",
        b"[]",
        b'{"orderId": "order-123456", "amount": 6000}',
        b'{"paymentKey": "tgen_x", "amount": 6000}',
        b'{"paymentKey": "tgen_x", "orderId": "order-123456"}',
        b'{"paymentKey": "tgen_x", "orderId": "order-123456", "amount": 0}',
        b'{"paymentKey": "tgen_x", "orderId": "order-123456", "amount": "abc"}',
        b'{"paymentKey": "tgen_x", "orderId": "order-123456", "amount": true}',
        b'{"paymentKey": "tgen_x", "orderId": "order-123456", "amount": 6000.5}',
        b"[" * 30_000 + b"]" * 30_000,  # nested past the parser's recursion limit (was a 500), under the body cap
    ],
)
async def test_a_malformed_confirm_body_is_an_invalid_request(toss: Toss, body: bytes) -> None:
    response = await toss.http.post("/v1/payments/confirm", content=body, headers=basic())
    assert error(response) == (400, "INVALID_REQUEST")


async def test_a_second_confirm_without_a_key_is_already_processed_and_approves_once(toss: Toss) -> None:
    payment = await toss.authorise(amount=6000)
    assert (await toss.confirm(payment)).status_code == 200
    assert error(await toss.confirm(payment)) == (400, "ALREADY_PROCESSED_PAYMENT")
    assert error(await toss.confirm(payment, key="another-key")) == (400, "ALREADY_PROCESSED_PAYMENT")
    stats = await toss.stats()
    assert (stats["approved"], stats["approvedAmount"], stats["confirmRequests"]) == (1, 6000, 3)


@pytest.mark.parametrize(
    ("code", "status"),
    [
        ("REJECT_CARD_COMPANY", 403),
        ("PROVIDER_ERROR", 400),
        ("NOT_FOUND_PAYMENT_SESSION", 404),
        ("FAILED_PAYMENT_INTERNAL_SYSTEM_PROCESSING", 500),
        ("ALREADY_PROCESSED_PAYMENT", 400),
    ],
)
async def test_a_test_code_header_forces_that_error_without_touching_the_payment(
    toss: Toss, code: str, status: int
) -> None:
    payment = await toss.authorise()
    response = await toss.confirm(payment, key="k-forced", headers={"TossPayments-Test-Code": code})
    assert error(response) == (status, code)
    assert await toss.status(payment["paymentKey"]) == "IN_PROGRESS"
    assert (await toss.confirm(payment, key="k-forced")).status_code == 200  # the forced answer was not stored


async def test_a_test_code_also_forces_errors_on_lookups(toss: Toss) -> None:
    payment = await toss.authorise()
    headers = {**basic(), "TossPayments-Test-Code": "NOT_FOUND_PAYMENT"}
    response = await toss.http.get(f"/v1/payments/{payment['paymentKey']}", headers=headers)
    assert error(response) == (404, "NOT_FOUND_PAYMENT")


async def test_an_unknown_test_code_is_an_invalid_test_code(toss: Toss) -> None:
    payment = await toss.authorise()
    response = await toss.confirm(payment, headers={"TossPayments-Test-Code": "MAKE_IT_FAIL"})
    assert error(response) == (400, "INVALID_TEST_CODE")
    assert await toss.status(payment["paymentKey"]) == "IN_PROGRESS"


async def test_a_live_secret_key_ignores_the_test_code_header() -> None:
    live = "live_sk_kiwiShopLiveKey000000000"
    settings = TossEmulatorSettings(secret_keys=(SECRET, live), webhook_url="")
    async with running_app(create_app(settings)) as http:
        created = (
            await http.post("/emulator/payments", json={"orderId": new_order_id(), "amount": 1000, "orderName": "x"})
        ).json()
        headers = {**basic(live), "TossPayments-Test-Code": "REJECT_CARD_COMPANY"}
        response = await http.post("/v1/payments/confirm", json=created, headers=headers)
        assert response.status_code == 200
        assert response.json()["status"] == "DONE"
