"""Paid orders in history pages (O6), and the pages of the member logged in (the ``kiwi_session`` cookie): the
success page that confirms — for the order's buyer only — and shows the real outcome, 결제하기 and 내 주문's cancel,
which act only with the page's CSRF value. (The login form against a real identity is in tests/browser.)"""

from __future__ import annotations

from collections.abc import Callable
from urllib.parse import quote, urlencode

import httpx
import pytest

from kiwishop.order.app import create_app
from kiwishop.order.page_session import CSRF_COOKIE, SESSION_COOKIE
from kiwishop.order.settings import OrderSettings
from tests.integration.order.payments import Emulator, as_buyer, checkout, confirm
from tests.support import as_member, dead_url, running_app, tokens

BUYER, SOMEONE_ELSE = 1, 2


def log_in(client: httpx.AsyncClient, member: int | None) -> None:
    """The client's session cookie: member ``member``'s token (None: logged out)."""
    client.cookies.delete(SESSION_COOKIE)
    if member is not None:
        client.cookies.set(SESSION_COOKIE, tokens().member(member))


async def csrf_of(client: httpx.AsyncClient) -> str:
    """The CSRF value a page gives this client's forms (and the cookie it sets with it)."""
    client.cookies.delete(CSRF_COOKIE)
    assert (await client.get("/fail")).status_code == 200
    value = client.cookies.get(CSRF_COOKIE)
    assert value
    return value


async def pay(order: httpx.AsyncClient, emulator: Emulator, products: list[int], member: int) -> dict:  # type: ignore[type-arg]
    created = await checkout(order, products, member=member)
    key = await emulator.authorise(created["orderId"], created["amount"])
    assert (await confirm(order, key, created["orderId"], created["amount"])).status_code == 200
    return created


async def test_history_pages_hold_whole_paid_events_newest_first_with_a_cursor(
    paying_order: httpx.AsyncClient, emulator: Emulator
) -> None:
    member = 515151
    paid = [await pay(paying_order, emulator, [1, 2, 3], member) for _ in range(23)]
    unpaid = await checkout(paying_order, [1], member=member)
    seen: list[int] = []
    cursor: int | None = None
    sizes = []
    for _ in range(10):  # 3 pages and the empty one; a cursor that stops moving fails here instead of looping on
        params = {"limit": 10, **({"paymentEventNo": cursor} if cursor else {})}
        answer = await paying_order.get(f"/api/orders/members/{member}", params=params, headers=as_member(member))
        page = answer.json()["paymentEventList"]
        if not page:
            break
        sizes.append(len(page))
        assert all(len(e["paymentOrderList"]) == 3 and e["paymentDone"] for e in page)
        seen += [e["paymentEventNo"] for e in page]
        cursor = page[-1]["paymentEventNo"]
    else:
        pytest.fail(f"paging never ended: page sizes {sizes}")
    assert sizes == [10, 10, 3]
    assert seen == sorted((p["paymentEventNo"] for p in paid), reverse=True)
    assert unpaid["paymentEventNo"] not in seen


async def test_the_success_page_confirms_for_the_buyer_only_and_shows_the_paid_amount(
    paying_order: httpx.AsyncClient, emulator: Emulator
) -> None:
    """Not logged in: to the login, which comes back to the same URL; another member: a 403 page, and the PSP is
    not asked; the buyer: confirmed, 결제 성공 (and so again on a reload)."""
    created = await checkout(paying_order, [1, 2, 3], member=BUYER)
    order_id = created["orderId"]
    key = await emulator.authorise(order_id, created["amount"])
    params = {"paymentType": "NORMAL", "orderId": order_id, "paymentKey": key, "amount": "6000"}
    confirms = await emulator.confirm_requests()
    log_in(paying_order, None)
    anonymous = await paying_order.get("/success", params=params)
    assert anonymous.status_code == 303
    assert anonymous.headers["location"] == "/login?next=" + quote(f"/success?{urlencode(params)}", safe="/")
    log_in(paying_order, SOMEONE_ELSE)
    other = await paying_order.get("/success", params=params)
    assert other.status_code == 403
    assert "주문한 회원으로 로그인해 주세요" in other.text
    status = await paying_order.get(f"/api/payments/{order_id}", headers=as_buyer(order_id))
    assert status.json()["status"] == "NOT_STARTED"
    assert await emulator.confirm_requests() == confirms  # nothing was confirmed for them

    log_in(paying_order, BUYER)
    page = await paying_order.get("/success", params=params)
    assert page.status_code == 200
    assert "결제 성공" in page.text
    assert "6,000원" in page.text
    assert order_id in page.text
    assert 'id="logged-in-as">회원 1<' in page.text
    status = await paying_order.get(f"/api/payments/{order_id}", headers=as_buyer(order_id))
    assert status.json()["status"] == "SUCCESS"
    assert (await paying_order.get("/success/status", params={"orderId": order_id})).json() == {"status": "SUCCESS"}
    log_in(paying_order, SOMEONE_ELSE)
    assert (await paying_order.get("/success/status", params={"orderId": order_id})).status_code == 403
    log_in(paying_order, BUYER)
    refreshed = await paying_order.get("/success", params=params)
    assert "결제 성공" in refreshed.text


async def test_the_success_page_shows_the_decline_reason_when_the_psp_refuses(
    paying_order: httpx.AsyncClient, emulator: Emulator
) -> None:
    created = await checkout(paying_order, [2])
    key = await emulator.authorise(created["orderId"], created["amount"], confirmErrors=["REJECT_CARD_COMPANY"])
    log_in(paying_order, BUYER)
    page = await paying_order.get("/success", params={"orderId": created["orderId"], "paymentKey": key, "amount": 2000})
    assert page.status_code == 400
    assert "결제 실패" in page.text
    assert "REJECT_CARD_COMPANY" in page.text


async def test_the_fail_page_shows_code_and_message_escaped(paying_order: httpx.AsyncClient) -> None:
    page = await paying_order.get(
        "/fail", params={"code": "PAY_PROCESS_CANCELED", "message": "<script>x</script>취소", "orderId": "abc123"}
    )
    assert page.status_code == 200
    assert "PAY_PROCESS_CANCELED" in page.text
    assert "&lt;script&gt;x&lt;/script&gt;취소" in page.text


async def test_checkout_from_the_page_is_for_the_logged_in_member_and_only_with_the_csrf_value(
    paying_order: httpx.AsyncClient,
) -> None:
    """결제하기 (POST /checkout): 403 without the page's CSRF value or from another origin, 401 without a login —
    no order in any of these; with both, the order is the logged-in member's whatever the form says."""
    csrf = await csrf_of(paying_order)
    log_in(paying_order, BUYER)
    form = {"productNoList": ["1", "3"], "memberNo": str(SOMEONE_ELSE)}
    without = await paying_order.post("/checkout", data=form)
    elsewhere = await paying_order.post(
        "/checkout", data={**form, "csrf": csrf}, headers={"Origin": "http://evil.test"}
    )
    assert (without.status_code, elsewhere.status_code) == (403, 403)
    log_in(paying_order, None)
    assert (await paying_order.post("/checkout", data={**form, "csrf": csrf})).status_code == 401
    log_in(paying_order, BUYER)
    created = await paying_order.post("/checkout", data={**form, "csrf": csrf}, headers={"Origin": "http://test"})
    assert created.status_code == 201, created.text
    assert created.json()["amount"] == 4000
    history = await paying_order.get(f"/api/payments/{created.json()['orderId']}", headers=as_member(BUYER))
    assert history.status_code == 200  # the buyer's (another member would get a 403)
    assert history.json()["status"] == "NOT_STARTED"


async def test_my_orders_asks_for_the_login_and_its_cancel_acts_only_with_the_csrf_value(
    paying_order: httpx.AsyncClient, emulator: Emulator
) -> None:
    created = await pay(paying_order, emulator, [1], BUYER)
    log_in(paying_order, None)
    asked = await paying_order.get("/my/orders")
    assert (asked.status_code, asked.headers["location"]) == (303, "/login?next=/my/orders")
    log_in(paying_order, BUYER)
    page = await paying_order.get("/my/orders")
    assert page.status_code == 200
    assert created["orderId"] in page.text
    lines = await paying_order.get("/api/orders", params={"orderId": created["orderId"]}, headers=as_member(BUYER))
    line_no = str(lines.json()["paymentOrderList"][0]["paymentOrderNo"])
    form = {"orderId": created["orderId"], "paymentOrderNo": line_no}
    refused = await paying_order.post("/my/orders/cancel", data=form)
    assert refused.status_code == 403
    log_in(paying_order, SOMEONE_ELSE)
    csrf = await csrf_of(paying_order)
    theirs = await paying_order.post("/my/orders/cancel", data={**form, "csrf": csrf})
    assert theirs.status_code == 303
    assert "error=PEC0004" in theirs.headers["location"]  # another member's order: as unknown
    lines = await paying_order.get("/api/orders", params={"orderId": created["orderId"]}, headers=as_member(BUYER))
    assert [line["status"] for line in lines.json()["paymentOrderList"]] == ["SUCCESS"]  # nothing cancelled
    log_in(paying_order, BUYER)
    done = await paying_order.post("/my/orders/cancel", data={**form, "csrf": csrf})
    assert done.status_code == 303
    assert "cancelNo=" in done.headers["location"]


async def test_the_login_page_with_identity_down_is_a_503_page_and_sets_no_session(
    order_settings: Callable[..., OrderSettings],
) -> None:
    async with running_app(create_app(order_settings(identity_url=dead_url()))) as order:
        form = await order.get("/login", params={"next": "/my/orders"})
        assert form.status_code == 200
        assert 'name="next" value="/my/orders"' in form.text
        csrf = order.cookies.get(CSRF_COOKIE)
        assert csrf
        login = {"loginId": "member1", "password": "member1-password", "next": "/my/orders", "csrf": csrf}
        down = await order.post("/login", data=login)
        assert down.status_code == 503
        assert "로그인 서비스에 연결할 수 없습니다" in down.text
        assert order.cookies.get(SESSION_COOKIE) is None
        assert (await order.post("/login", data={**login, "csrf": "x" * 43})).status_code == 403
