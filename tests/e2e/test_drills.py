"""The fault drill, short version (`make drills` runs the long one): every service killed with SIGKILL and
restarted under load, MariaDB stopped for a few seconds and started again, the PSP failing 30 % of the calls
for a while, the broker restarted, the PSP losing approvals and then down (lookups too), a seller's wallet
arriving after its sale, a full stop and start with wallet paused, poison records on every topic, buyers
cancelling lines and orders throughout — and afterwards the books agree, nothing is in flight, no order failed
that the PSP approved, the late sale is credited once, each poison record sits in its DLT once per consumer group
that reads it, and every cancel was done exactly once: at the PSP, on the order's lines and in wallet.

Runs on servers of its own (it restarts MariaDB), never on the session's."""

from __future__ import annotations

from collections import defaultdict
from decimal import Decimal
from pathlib import Path

import pytest

from kiwishop import services
from kiwishop_dev.bench import drill_report, drills, poison


def test_the_drill_knows_every_consumer_group_of_every_topic() -> None:
    groups: dict[str, set[str]] = defaultdict(set)
    for service in services.definitions():
        app = service.create_app(service.settings())
        for runner in app.state.runtime.consumers:
            for topic in runner._topics:
                groups[topic].add(runner.group_id)
    assert groups == {topic: set(names) for topic, names in poison.GROUPS.items()}


@pytest.mark.slow
@pytest.mark.timeout(900)  # the short drill runs ~110 s on 2 cores; its phases have deadlines of their own
async def test_after_crashes_a_database_restart_psp_faults_and_poison_the_books_agree(tmp_path: Path) -> None:
    result = await drills.run_drills(drills.SHORT, tmp_path)
    report = drill_report.render_result(result)
    assert result.paid > 0, report
    assert result.psp["faults5xx"] + result.psp["faultTimeouts"] + result.psp["faultDrops"] > 0, report
    assert not result.pending, report
    assert result.findings is not None
    assert result.findings.clean, report
    assert result.poison_injected == 2 * 2 * len(poison.GROUPS)
    assert not result.poison_problems, report
    assert any(what.startswith("MariaDB up again") for _, what in result.events), report
    killed = {what.removeprefix("kill -9 ") for _, what in result.events if what.startswith("kill -9 ")}
    assert killed == set(drills.KILLED)
    assert "toss-emulator" in killed
    assert result.failed_but_done == [], report
    refused = {e: n for e, n in result.errors.items() if e.split()[-1] in ("401", "403")}
    assert refused == {}, report  # every call of the load carried the token of the member it acts for
    assert result.server_errors == {}, report  # an outage answers 503 …
    assert result.no_retry_after == {}, report  # … with Retry-After
    assert result.clean, report
    assert result.settled_after_psp_back_s is not None, report
    assert result.in_doubt_at_psp_back > 0, report  # the outage did leave orders in doubt
    assert result.late_sale, report
    assert not result.late_sale_problems, report
    for expected in ("broker up again", "PSP back", "wallets can be created again", "stack up again"):
        assert any(what.startswith(expected) for _, what in result.events), (expected, report)
    cancels, books = result.cancels, result.cancel_books
    assert cancels["done"] > 0, report
    assert cancels["inDoubtAtEnd"] == 0, report  # every 202 followed up until its order showed the cancel
    assert cancels["problems"] == {}, report  # no answer outside 200/202/409 and the documented refusals
    assert result.cancel_problems == [], report
    # none lost and none twice: cancels DONE at the PSP = the shop's DONE cancels, CANCELED lines = DEBIT rows
    assert books["pspCanceled"] == books["doneCancels"] > 0, report
    assert books["canceledLines"] == books["debitRows"] >= books["doneCancels"], report
    refunded = Decimal(books["canceledAmount"])
    assert Decimal(books["pspCanceledAmount"]) == refunded == Decimal(books["debitAmount"]) > 0, report
    assert Decimal(cancels["refunded"]) <= refunded, report  # what the buyers saw done (a cancel without an answer
    # may have been done too)
