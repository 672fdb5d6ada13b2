"""Runs the benchmark scenarios on private servers and prints one table."""

from __future__ import annotations

import asyncio
import tempfile
from collections.abc import Callable, Coroutine, Sequence
from pathlib import Path
from typing import Any

from kiwishop.platform.settings import InfraSettings
from kiwishop_dev.bench import confirm, history, outbox, social, system, system_model
from kiwishop_dev.bench import settlement as settlement_scenario
from kiwishop_dev.bench.report import Report
from kiwishop_dev.devstack.scratch import ScratchServers

Scenario = Callable[[InfraSettings, Report, bool], Coroutine[Any, Any, None]]

SCENARIOS: dict[str, Scenario] = {
    outbox.SCENARIO: outbox.run,
    settlement_scenario.SCENARIO: settlement_scenario.run,
    confirm.SCENARIO: confirm.run,
    history.SCENARIO: history.run,
    social.SCENARIO: social.run,
    system_model.SCENARIO: system.run,
}


def main(chosen: Sequence[str], quick: bool) -> int:
    unknown = [name for name in chosen if name not in SCENARIOS]
    if unknown:
        print(f"unknown scenarios {unknown}; known: {list(SCENARIOS)}")
        return 2
    report = Report()
    with tempfile.TemporaryDirectory(prefix="kiwishop-bench-") as tmp, ScratchServers(Path(tmp)) as servers:
        for name in chosen or list(SCENARIOS):
            print(f"bench: {name} …", flush=True)
            asyncio.run(SCENARIOS[name](servers.infra, report, quick))
    print()
    print(report.table())
    path = report.write(Path("results"))
    print(f"\nwritten to {path}")
    return 0
