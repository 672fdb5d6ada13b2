"""The drill's look through the ops console, as an operator would take it after the storm: every part of the
overview answers, every service is ready, nothing is in doubt or quarantined or waiting for wallet, the dead
letters it lists hold at least the poison records the drill parked (per topic), and the console's own reconcile —
run on demand, recorded in its audit — is clean."""

from __future__ import annotations

from typing import Any

from kiwishop.platform.httpclient import HttpClient
from kiwishop_dev.bench.shop import Shop

WAITING = ("UNKNOWN", "EXECUTING", "QUARANTINED", "UNSETTLED")


def overview_problems(overview: dict[str, Any], parked: dict[str, dict[str, int]]) -> list[str]:
    """What the overview shows that an operator would have to act on, or that disagrees with the drill's own count
    of parked poison records (``parked``: topic → consumer group → records)."""
    problems = [f"console: {part}: {row}" for part in ("outbox", "consumers", "deadLetters", "services")
                for row in overview.get(part, []) if "error" in row]  # fmt: skip
    problems += [f"console: {row['service']} not ready" for row in overview.get("services", []) if not row.get("ready")]
    counts = overview.get("payments", {}).get("counts", {})
    problems += [f"console: {n} order(s) {status}" for status in WAITING if (n := counts.get(status, 0))]
    pending = {row["topic"].removesuffix(".DLT"): row.get("pending", 0) for row in overview.get("deadLetters", [])}
    for topic, groups in sorted(parked.items()):
        listed, dropped = pending.get(topic, 0), sum(groups.values())
        if listed < dropped:
            problems.append(f"console: {topic}.DLT lists {listed} record(s), the drill parked {dropped}")
    return problems


async def console_problems(shop: Shop, parked: dict[str, dict[str, int]]) -> list[str]:
    client = HttpClient(shop.url("console"), read_timeout_s=120)
    headers = shop.tokens.as_ops()
    try:
        overview = await client.get("/api/ops/overview", headers=headers)
        if overview.status_code != 200:
            return [f"console: overview answered {overview.status_code}"]
        problems = overview_problems(overview.json(), parked)
        run = await client.post("/api/ops/reconcile", headers=headers)
        report = run.json() if run.status_code == 200 else {}
        if not report.get("clean"):
            problems.append(f"console: reconcile answered {run.status_code}: {report.get('problems', run.text[:300])}")
        return problems
    finally:
        await client.aclose()
