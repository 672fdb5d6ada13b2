"""Reconcile from the console: one run at a time, each report kept; a source that cannot be read is a 503."""

from __future__ import annotations

import asyncio
import datetime as dt
from decimal import Decimal

import pytest

from kiwishop.console import reconciling
from kiwishop.console.domain import ConsoleError
from kiwishop.console.ports import Json
from kiwishop.console.reconciling import Reconciler, report_of, sources_of
from kiwishop.console.settings import ConsoleSettings
from kiwishop.ops.reconcile import Findings, Sources
from kiwishop.platform.errors import AppError


class MemoryRuns:
    def __init__(self) -> None:
        self.saved: list[Json] = []

    def next_run_no(self) -> int:
        return len(self.saved) + 1

    async def save(self, started: dt.datetime, finished: dt.datetime, report: Json) -> None:
        self.saved.append(report)

    async def last(self) -> Json | None:
        return self.saved[-1] if self.saved else None


def findings() -> Findings:
    found = Findings(problems=["order o-1: stuck in UNKNOWN since 00:00:00"], order_counts={"SUCCESS": 3})
    found.given_back = {"psp_approved": Decimal("3000.00")}
    found.dlt = {"kiwi-shop-payment.DLT": 0, "kiwi-shop-wallet.DLT": 2}
    return found


def test_the_report_says_the_verdict_the_problems_and_the_text_of_kiwishop_reconcile() -> None:
    at = dt.datetime(2026, 1, 1)
    report = report_of(findings(), run_no=7, triggered_by="ops:5", started=at, finished=at)
    assert (report["runNo"], report["triggeredBy"], report["clean"], report["discrepancies"]) == (7, "ops:5", False, 1)
    assert report["deadLetters"] == {"kiwi-shop-wallet.DLT": 2}
    assert report["givenBack"] == {"psp_approved": Decimal("3000.00")}
    assert "reconcile: 1 discrepancies" in report["text"]
    assert report["finishedAt"] == "2026-01-01T00:00:00.000Z"


def test_the_sources_are_the_console_settings() -> None:
    settings = ConsoleSettings(order_db_name="o", wallet_db_name="w", psp_url="http://psp")
    sources = sources_of(settings)
    assert (sources.order_db, sources.wallet_db, sources.psp_url) == ("o", "w", "http://psp")
    assert sources.psp_secret == settings.psp_secret_key.get_secret_value()


async def test_a_second_run_while_one_runs_is_refused_and_each_report_is_kept(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    release = asyncio.Event()

    async def slow(_: Sources) -> Findings:
        await release.wait()
        return findings()

    monkeypatch.setattr(reconciling, "reconcile", slow)
    runs = MemoryRuns()
    reconciler = Reconciler(sources_of(ConsoleSettings()), runs)
    first = asyncio.create_task(reconciler.run("ops:5"))
    await asyncio.sleep(0)
    with pytest.raises(AppError) as raised:
        await reconciler.run("ops:6")
    assert raised.value.code is ConsoleError.RECONCILE_RUNNING
    release.set()
    report = await first
    assert runs.saved == [report]
    assert await reconciler.last() == report


async def test_a_source_that_cannot_be_read_is_a_503_and_no_report(monkeypatch: pytest.MonkeyPatch) -> None:
    async def broken(_: Sources) -> Findings:
        raise ConnectionRefusedError("order's database is down")

    monkeypatch.setattr(reconciling, "reconcile", broken)
    runs = MemoryRuns()
    with pytest.raises(AppError) as raised:
        await Reconciler(sources_of(ConsoleSettings()), runs).run("ops:5")
    assert raised.value.status == 503
    assert runs.saved == []


async def test_the_schedule_runs_only_when_the_last_report_is_older_than_its_interval(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    async def quick(_: Sources) -> Findings:
        return findings()

    monkeypatch.setattr(reconciling, "reconcile", quick)
    runs = MemoryRuns()
    reconciler = Reconciler(sources_of(ConsoleSettings()), runs)
    await reconciler.scheduled(600)
    await reconciler.scheduled(600)
    assert [r["triggeredBy"] for r in runs.saved] == ["schedule"]
