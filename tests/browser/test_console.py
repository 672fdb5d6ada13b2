"""The ops console in the browser: the seed ops account logs in through the console's form, sees the overview,
opens a dead-letter topic whose records a real consumer parked, reads a record's headers and payload, and redrives
one record, then the rest — each action shown with its audit row, and in the audit page. A member is refused.

The console is served over real HTTP beside the browser shop: it logs in against the shop's identity (its seed
accounts) and reads the test runner's broker, where this test parks records on a topic of its own."""

from __future__ import annotations

from collections.abc import AsyncIterator

import pytest
from playwright.async_api import Browser, Dialog, Page, expect

from kiwishop.console.app import SERVICE as CONSOLE
from kiwishop.console.settings import ConsoleSettings
from kiwishop.platform.kafka import KafkaPublisher
from kiwishop.platform.migrations import migrate
from kiwishop.platform.settings import InfraSettings
from tests.browser.conftest import Shop
from tests.browser.shop_flows import log_in_with_form, page_as
from tests.integration.ops.parking import event, new_topic, park
from tests.support import dead_url, eventually, headers_dict, read_to_end, served_app, tokens


@pytest.fixture(scope="module")
async def console(infra: InfraSettings, shop_services: Shop) -> AsyncIterator[str]:
    await migrate(infra, "br_console", CONSOLE.migrations)
    settings = ConsoleSettings(
        infra=infra, db_name="br_console", node_id=149, identity_url=shop_services.identity_url,
        order_url=shop_services.url, wallet_url=shop_services.wallet_url, hot_catalog_url=shop_services.hot_url,
        catalog_like_url=shop_services.like_url, catalog_review_url=shop_services.review_url,
        order_query_url=shop_services.order_query_url, catalog_url=dead_url(), seller_url=dead_url(),
        reconcile_interval_s=0, collect_interval_s=3600,
    )  # fmt: skip
    async with served_app(CONSOLE.create_app(settings)) as url:
        yield url


@pytest.fixture
async def parked_topic(infra: InfraSettings) -> str:
    """A topic of its own whose two records a refusing consumer parked in its DLT (keys a and b)."""
    topic = await new_topic(infra)
    publisher = KafkaPublisher(infra)
    try:
        await park(infra, publisher, [event(topic, 1, "a", target="x"), event(topic, 2, "b", target="y")])
    finally:
        await publisher.close()
    return topic


async def accept(dialog: Dialog) -> None:
    await dialog.accept()


async def redriven_keys(infra: InfraSettings, topic: str) -> list[bytes | None]:
    return sorted(r.key for r in await read_to_end(infra, topic) if "kiwi.redrive.from" in headers_dict(r))


async def open_dead_letters(page: Page, topic: str) -> None:
    """From the overview, the topic's row in 데드레터 (each DLT on the broker has one)."""
    row = page.locator(f'tr.dead-letter[data-topic="{topic}.DLT"]')
    await expect(row.locator("td.num").first).to_have_text("2")
    await row.locator("a").click()
    await expect(page.locator("#result-title")).to_have_text(f"데드레터 {topic}.DLT")


async def test_ops_logs_in_sees_the_overview_and_redrives_a_dead_letter_topic(
    browser: Browser, infra: InfraSettings, console: str, parked_topic: str
) -> None:
    topic = parked_topic
    async with page_as(browser, console, None) as page:
        page.on("dialog", accept)  # the redrive-all form asks to confirm
        await page.goto(f"{console}/")
        await expect(page).to_have_url(f"{console}/login?next=/")
        await log_in_with_form(page, "ops", "ops-password")
        await expect(page).to_have_url(f"{console}/")
        await expect(page.locator("#result-title")).to_have_text("운영 개요")
        await expect(page.locator("#logged-in-as")).to_have_text("운영자")
        for section in ("#services", "#payments", "#outbox", "#consumers", "#dead-letters", "#registrations"):
            await expect(page.locator(section)).to_be_visible()
        await expect(page.locator('#outbox tr[data-service="seller"]')).to_contain_text("seller")  # down: its error

        await open_dead_letters(page, topic)
        await expect(page.locator("#dlt-pending")).to_have_text("2")
        first = page.locator('section.record[data-key="a"]')
        await expect(first.locator("table.headers")).to_contain_text("kiwi.dlt.error")
        await expect(first.locator("table.headers")).to_contain_text("trace-id")
        await expect(first.locator("pre.payload")).to_contain_text('"target": "x"')

        await first.locator("button.redrive-one").click()
        await expect(page.locator("#action-result")).to_contain_text("redrive-one")
        await expect(page.locator("#action-result")).to_contain_text("완료")
        await expect(page.locator("#dlt-pending")).to_have_text("1")
        assert await eventually(lambda: redriven_keys(infra, topic), lambda keys: keys == [b"a"]) == [b"a"]

        await page.click("#redrive-all")
        await expect(page.locator("#action-result")).to_contain_text("redrive-all")
        await expect(page.locator("#dlt-pending")).to_have_text("0")
        assert await eventually(lambda: redriven_keys(infra, topic), lambda keys: len(keys) == 2) == [b"a", b"b"]

        await page.click("text=감사 기록")
        await expect(page.locator("#result-title")).to_have_text("감사 기록")
        actions = page.locator("tr.audit-entry")
        await expect(actions.first).to_contain_text("redrive-all")
        await expect(actions.first).to_contain_text(topic)
        await expect(actions.nth(1)).to_contain_text(f"{topic}.DLT:0:0")


async def test_a_member_logged_in_is_refused_the_console(browser: Browser, console: str) -> None:
    async with page_as(browser, console, tokens().member(1)) as page:
        response = await page.goto(f"{console}/")
        assert response is not None
        assert response.status == 403
        await expect(page.locator("#error-message")).to_contain_text("운영자")
