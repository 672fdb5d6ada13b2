"""Paid orders in history pages (O6) and the success page that confirms and shows the real outcome."""

from __future__ import annotations

import httpx
import pytest

from tests.integration.order.payments import Emulator, checkout, confirm


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
        page = (await paying_order.get(f"/api/orders/members/{member}", params=params)).json()["paymentEventList"]
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


async def test_the_success_page_confirms_and_shows_the_paid_amount(
    paying_order: httpx.AsyncClient, emulator: Emulator
) -> None:
    created = await checkout(paying_order, [1, 2, 3])
    key = await emulator.authorise(created["orderId"], created["amount"])
    page = await paying_order.get(
        "/success", params={"paymentType": "NORMAL", "orderId": created["orderId"], "paymentKey": key, "amount": 6000}
    )
    assert page.status_code == 200
    assert "결제 성공" in page.text
    assert "6,000원" in page.text
    assert created["orderId"] in page.text
    status = (await paying_order.get(f"/api/payments/{created['orderId']}")).json()["status"]
    assert status == "SUCCESS"
    refreshed = await paying_order.get(
        "/success", params={"paymentType": "NORMAL", "orderId": created["orderId"], "paymentKey": key, "amount": 6000}
    )
    assert "결제 성공" in refreshed.text


async def test_the_success_page_shows_the_decline_reason_when_the_psp_refuses(
    paying_order: httpx.AsyncClient, emulator: Emulator
) -> None:
    created = await checkout(paying_order, [2])
    key = await emulator.authorise(created["orderId"], created["amount"], confirmErrors=["REJECT_CARD_COMPANY"])
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
