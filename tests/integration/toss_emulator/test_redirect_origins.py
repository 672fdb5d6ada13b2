"""The window sends the buyer back only to an allowed origin (``allowed_redirect_origins``): a successUrl or
failUrl anywhere else shows the 400 error page — no redirect, no payment — when the window opens and when its
form is sent."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any
from urllib.parse import urlencode

import httpx
import pytest

from kiwishop.toss_emulator.settings import TossEmulatorSettings
from tests.integration.toss_emulator.conftest import CLIENT_KEY, FakeClock, Toss, new_order_id
from tests.support import running_app

SHOP = "http://localhost:8080"
FOREIGN = [
    "https://evil.example/success",
    "http://localhost:8081/success",  # another port
    "https://localhost:8080/success",  # another scheme
    "http://localhost:8080.evil.example/success",
    "http://user@localhost:8080/success",  # a user part: never trusted
    "http://evil.example\\@localhost:8080/success",  # a browser goes to evil.example
    "http://127.0.0.1:8080/success",  # not in this test's list
]


def params(success: str = SHOP + "/success", fail: str = SHOP + "/fail") -> dict[str, str]:
    return {"clientKey": CLIENT_KEY, "method": "카드", "amount": "6000", "orderId": new_order_id(),
            "orderName": "상품A", "successUrl": success, "failUrl": fail}  # fmt: skip


async def submit(http: httpx.AsyncClient, values: dict[str, str], action: str = "pay") -> httpx.Response:
    body = urlencode({**values, "action": action, "cardNumber": "4111-1111-1111-1111", "cardExpiry": "12/30"})
    headers = {"Content-Type": "application/x-www-form-urlencoded"}
    return await http.post("/emulator/window", content=body, headers=headers)


def refused(response: httpx.Response, code: str) -> bool:
    page = response.text
    return response.status_code == 400 and "location" not in response.headers and f">{code}<" in page


@pytest.fixture
async def shop_only(emulator_app: Callable[..., Any], clock: FakeClock) -> Any:
    """An emulator that allows only the local shop on :8080 (the tests' own setting allows any loopback port)."""
    async with running_app(emulator_app(allowed_redirect_origins=SHOP)) as http:
        yield Toss(http, clock)


@pytest.mark.parametrize("url", FOREIGN)
async def test_a_foreign_success_url_is_refused_when_the_window_opens_and_when_it_is_sent(
    shop_only: Toss, url: str
) -> None:
    assert refused(await shop_only.http.get("/emulator/window", params=params(success=url)), "NOT_ALLOWED_SUCCESS_URL")
    for action in ("pay", "cancel"):
        assert refused(await submit(shop_only.http, params(success=url), action), "NOT_ALLOWED_SUCCESS_URL")
    assert (await shop_only.stats())["authorized"] == 0


@pytest.mark.parametrize("url", FOREIGN)
async def test_a_foreign_fail_url_is_refused_even_for_a_cancel(shop_only: Toss, url: str) -> None:
    assert refused(await shop_only.http.get("/emulator/window", params=params(fail=url)), "NOT_ALLOWED_FAIL_URL")
    for action in ("pay", "cancel"):
        assert refused(await submit(shop_only.http, params(fail=url), action), "NOT_ALLOWED_FAIL_URL")
    assert (await shop_only.stats())["authorized"] == 0


async def test_the_allowed_origin_is_redirected_to_whatever_its_path_case_or_default_port(shop_only: Toss) -> None:
    success = "http://LOCALHOST:8080/pay/success?lang=ko"
    response = await submit(shop_only.http, params(success=success))
    assert response.status_code == 303
    assert response.headers["location"].startswith(success + "&paymentType=NORMAL&")
    cancelled = await submit(shop_only.http, params(fail=SHOP + "/fail#top"), "cancel")
    assert cancelled.headers["location"].startswith(SHOP + "/fail?code=PAY_PROCESS_CANCELED")


async def test_a_loopback_entry_with_any_port_allows_every_port_of_that_host_only(
    emulator_app: Callable[..., Any], clock: FakeClock
) -> None:
    app = emulator_app(allowed_redirect_origins="http://127.0.0.1:*, https://shop.example")
    async with running_app(app) as http:
        for url in ("http://127.0.0.1:41234/s", "http://127.0.0.1/s", "https://shop.example/s"):
            assert (await submit(http, params(success=url, fail=url))).status_code == 303, url
        for url in ("http://localhost:41234/s", "https://127.0.0.1:41234/s", "https://shop.example:8443/s"):
            assert refused(await submit(http, params(success=url, fail=url)), "NOT_ALLOWED_SUCCESS_URL"), url


def test_the_default_is_the_local_shop() -> None:
    default = TossEmulatorSettings.model_fields["allowed_redirect_origins"].default
    assert default == ("http://localhost:8080", "http://127.0.0.1:8080")


def test_the_tests_allow_any_loopback_port() -> None:
    """tests/conftest.py: the shops a test starts listen on free ports."""
    assert TossEmulatorSettings().allowed_redirect_origins == ("http://127.0.0.1:*", "http://localhost:*")
