"""``kiwishop dlt list | show | redrive`` against the real broker, on records a real consumer parked."""

from __future__ import annotations

import asyncio
from collections.abc import Callable

import pytest

from kiwishop import cli
from kiwishop.contracts.topics import PAYMENT
from kiwishop.ops.dlt import list_dlts, read_parked
from kiwishop.ops.redrive import redrive
from kiwishop.platform.db import Database
from kiwishop.platform.envelope import Envelope
from kiwishop.platform.kafka import KafkaPublisher, OutgoingRecord
from kiwishop.platform.settings import InfraSettings
from tests.integration.ops.parking import (
    TRACE,
    UNDECODABLE,
    bump_for,
    consuming,
    event,
    hits,
    new_topic,
    park,
    refuse,
)
from tests.support import dead_port, eventually, headers_dict, read_to_end, read_topic, unique


async def test_list_counts_parked_records_by_group_and_error_and_how_many_are_not_yet_redriven(
    infra: InfraSettings, publisher: KafkaPublisher
) -> None:
    topic = await new_topic(infra, partitions=2)
    group = unique("grp")
    records = [event(topic, 1, "a"), event(topic, 2, "b"), OutgoingRecord(topic, "c", UNDECODABLE)]
    await park(infra, publisher, records, group)

    (summary,) = await list_dlts(infra, [topic])
    assert (summary.topic, summary.records.total, summary.records.pending) == (f"{topic}.DLT", 3, 3)
    assert {g: t.total for g, t in summary.by_group.items()} == {group: 3}
    errors = {e: t.total for e, t in summary.by_error.items()}
    assert errors["PermanentError: payload of 1 misses orderId"] == 1
    assert [n for e, n in errors.items() if e.startswith("EnvelopeError: value is not JSON")] == [1]

    await redrive(infra, topic)
    (after,) = await list_dlts(infra, [f"{topic}.DLT"])
    assert (after.records.total, after.records.pending) == (3, 0)
    assert after.by_group[group].pending == 0


async def test_list_without_topics_names_the_business_dlts_and_every_other_dlt_on_the_broker(
    infra: InfraSettings, publisher: KafkaPublisher
) -> None:
    topic = await new_topic(infra)
    await park(infra, publisher, [event(topic, 1)])
    summaries = {s.topic: s for s in await list_dlts(infra)}
    assert f"{PAYMENT}.DLT" in summaries
    assert summaries[f"{topic}.DLT"].records.total == 1
    assert topic not in summaries


async def test_show_gives_the_records_not_yet_redriven_unless_all_are_asked_for(
    infra: InfraSettings, publisher: KafkaPublisher
) -> None:
    topic = await new_topic(infra)
    await park(infra, publisher, [event(topic, 11, target="x"), OutgoingRecord(topic, "k", UNDECODABLE)])
    first, second = await read_parked(infra, topic)
    assert (first.offset, first.key, first.header("trace-id")) == (0, b"order-1", "t-0001")
    assert first.header("kiwi.dlt.original.topic") == topic
    envelope = first.envelope()
    assert envelope is not None
    assert (envelope.event_id, envelope.payload) == (11, {"target": "x"})
    assert (second.value, second.envelope()) == (UNDECODABLE, None)

    await redrive(infra, topic)
    assert await read_parked(infra, f"{topic}.DLT") == []
    assert [p.offset for p in await read_parked(infra, topic, include_redriven=True)] == [0, 1]


async def test_a_dry_run_publishes_and_commits_nothing(infra: InfraSettings, publisher: KafkaPublisher) -> None:
    topic = await new_topic(infra)
    await park(infra, publisher, [event(topic, 21), event(topic, 22)])

    planned = await redrive(infra, topic, dry_run=True)
    assert [(p.offset, out.topic) for p, out in planned.records] == [(0, topic), (1, topic)]
    assert len(await read_to_end(infra, topic)) == 2  # the dry run returned: it published nothing
    assert (await redrive(infra, topic)).count == 2  # the dry run remembered nothing


async def test_redrive_publishes_each_parked_record_once_to_its_topic_with_its_key_value_and_headers(
    infra: InfraSettings, publisher: KafkaPublisher
) -> None:
    topic = await new_topic(infra, partitions=3)
    originals = [event(topic, 30 + i, key=f"order-{i}", target=str(i)) for i in range(6)]
    parked = await park(infra, publisher, originals)

    result = await redrive(infra, topic)
    assert (result.count, dict(result.to_topics)) == (6, {topic: 6})
    on_topic = await read_topic(infra, topic, expect=12)
    redriven = [r for r in on_topic if "kiwi.redrive.count" in headers_dict(r)]
    assert len(on_topic) == 12
    assert sorted((r.key, r.value) for r in redriven) == sorted((o.key.encode(), o.value) for o in originals)
    froms = {f"{p.topic}:{p.partition}:{p.offset}" for p in parked}
    assert {headers_dict(r)["kiwi.redrive.from"] for r in redriven} == froms
    for record in redriven:
        headers = headers_dict(record)
        assert (headers["kiwi.redrive.count"], headers[TRACE[0]]) == ("1", TRACE[1].decode())
        assert not [h for h in headers if h.startswith("kiwi.dlt.")]

    again = await redrive(infra, topic)
    assert (again.count, again.summary()) == (0, f"{topic}.DLT: nothing to redrive")
    assert len(await read_to_end(infra, topic)) == 12


async def test_a_record_parked_again_after_a_redrive_goes_back_with_redrive_count_two(
    infra: InfraSettings, publisher: KafkaPublisher
) -> None:
    topic = await new_topic(infra)
    await publisher.send(event(topic, 41))
    async with consuming(infra, publisher, topic, {"BUMP": refuse}):  # the cause is not fixed
        await read_topic(infra, f"{topic}.DLT", expect=1, idle_s=0.1)
        assert (await redrive(infra, topic)).count == 1
        parked = await read_topic(infra, f"{topic}.DLT", expect=2, idle_s=0.1)
        assert headers_dict(parked[1])["kiwi.redrive.count"] == "1"
        assert (await redrive(infra, topic)).count == 1
        await read_topic(infra, f"{topic}.DLT", expect=3, idle_s=0.1)
    on_topic = await read_topic(infra, topic, expect=3)
    counts = [headers_dict(r).get("kiwi.redrive.count") for r in on_topic]
    assert counts == [None, "1", "2"]
    assert headers_dict(on_topic[2])["kiwi.redrive.from"] == f"{topic}.DLT:0:1"
    assert len({r.value for r in on_topic}) == 1


async def test_a_deduping_consumer_applies_a_redriven_record_exactly_once_even_when_it_had_applied_it(
    infra: InfraSettings, publisher: KafkaPublisher, db: Database
) -> None:
    """Group ``ledger`` applied the event; group ``stats`` parked it. The redrive reaches both groups, and
    a redrive that crashed before its commit (another group's offsets) sends it once more."""
    topic = await new_topic(infra)
    fixed = {"stats": False}

    async def stats(envelope: Envelope) -> None:
        if not fixed["stats"]:
            await refuse(envelope)
        await bump_for(db, "stats")(envelope)

    await publisher.send(event(topic, 51, target="paid"))
    ledger = consuming(infra, publisher, topic, {"BUMP": bump_for(db, "ledger")})
    async with ledger, consuming(infra, publisher, topic, {"BUMP": stats}):
        await eventually(lambda: hits(db, "ledger", "paid"), lambda n: n == 1, timeout_s=30)
        await read_topic(infra, f"{topic}.DLT", expect=1, idle_s=0.1)
        fixed["stats"] = True  # the fix is deployed
        assert (await redrive(infra, topic)).count == 1
        assert (await redrive(infra, topic, group=unique("crashed-redrive"))).count == 1
        await publisher.send(event(topic, 52, target="marker"))
        for consumer in ("ledger", "stats"):
            await eventually(lambda c=consumer: hits(db, c, "marker"), lambda n: n == 1, timeout_s=30)
    assert await hits(db, "ledger", "paid") == 1
    assert await hits(db, "stats", "paid") == 1
    assert len(await read_topic(infra, topic, expect=4)) == 4


def park_for_the_cli(infra: InfraSettings, records: Callable[[str], list[OutgoingRecord]]) -> str:
    """A new topic with ``records(topic)`` parked in its DLT (outside the test loop, as the CLI runs its own)."""

    async def setup() -> str:
        topic = await new_topic(infra)
        pub = KafkaPublisher(infra)
        try:
            await park(infra, pub, records(topic))
        finally:
            await pub.close()
        return topic

    return asyncio.run(setup())


def test_the_cli_shows_redrives_and_lists_parked_records(
    infra: InfraSettings, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    monkeypatch.setenv("KIWI_KAFKA_BOOTSTRAP_SERVERS", infra.kafka_bootstrap_servers)
    topic = park_for_the_cli(infra, lambda t: [event(t, 61, target="x"), OutgoingRecord(t, "k", UNDECODABLE)])

    assert cli.main(["dlt", "show", topic]) == 0
    shown = capsys.readouterr().out
    assert f"{topic}.DLT: 2 records not yet redriven" in shown
    assert f"{topic}.DLT partition 0 offset 0  key order-1" in shown
    for expected in ("trace-id: t-0001", "kiwi.dlt.original.offset: 1", "eventId 61  type BUMP  version 1"):
        assert expected in shown
    assert '  |     "target": "x"' in shown
    assert repr(UNDECODABLE) in shown
    assert "\x1b" not in shown  # the parked bytes' escape sequence is printed escaped

    assert cli.main(["dlt", "redrive", topic, "--dry-run"]) == 0
    planned = capsys.readouterr().out
    assert f"would redrive {topic}.DLT:0:0 -> {topic}  key order-1  eventId 61 BUMP  kiwi.redrive.count 1" in planned
    assert f"would redrive 2 record(s): 2 to {topic}" in planned
    assert cli.main(["dlt", "redrive", f"{topic}.DLT"]) == 0
    assert f"redrove 2 record(s): 2 to {topic}" in capsys.readouterr().out
    assert len(asyncio.run(read_topic(infra, topic, expect=4))) == 4

    assert cli.main(["dlt", "list", topic]) == 0
    listed = capsys.readouterr().out
    assert f"{topic}.DLT: 2 records, 0 not redriven" in listed
    assert "1 (0 not redriven)  error PermanentError: payload of 61 misses orderId" in listed
    assert cli.main(["dlt", "show", topic, "--all", "--limit", "1"]) == 0
    assert "… 1 more" in capsys.readouterr().out


def test_the_cli_answers_2_for_an_unknown_topic_and_1_when_the_broker_is_unreachable(
    infra: InfraSettings, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    monkeypatch.setenv("KIWI_KAFKA_BOOTSTRAP_SERVERS", infra.kafka_bootstrap_servers)
    nowhere = unique("nowhere")
    assert cli.main(["dlt", "show", nowhere]) == 2
    assert cli.main(["dlt", "redrive", nowhere]) == 2
    assert f"unknown topic: the broker has no topic {nowhere}.DLT" in capsys.readouterr().err

    monkeypatch.setenv("KIWI_KAFKA_BOOTSTRAP_SERVERS", f"127.0.0.1:{dead_port()}")  # a broker that is down
    assert cli.main(["dlt", "redrive", nowhere]) == 1
    assert cli.main(["dlt", "list"]) == 1
    assert "broker error" in capsys.readouterr().err
