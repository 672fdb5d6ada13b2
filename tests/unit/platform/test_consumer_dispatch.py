"""The consumer runner's rules for a record's type and version (no broker: records are handed to it directly).

A handled type at a version it accepts is handled; at any other version it is parked at once. A type the
contracts put on the topic for other consumers is skipped. A type no contract names is parked."""

from __future__ import annotations

from typing import Any

import pytest
from aiokafka import ConsumerRecord

from kiwishop.contracts import events
from kiwishop.contracts.topics import BUSINESS_TOPICS, PAYMENT, WALLET
from kiwishop.platform.consumer import ConsumerRunner
from kiwishop.platform.dispatch import Dispatch, Unroutable
from kiwishop.platform.envelope import Envelope
from kiwishop.platform.kafka import OutgoingRecord
from kiwishop.platform.metrics import Metrics
from kiwishop.platform.runtime import Runtime
from kiwishop.platform.settings import InfraSettings, ServiceSettings


class FakePublisher:
    def __init__(self) -> None:
        self.sent: list[OutgoingRecord] = []

    async def send(self, record: OutgoingRecord) -> None:
        self.sent.append(record)


def record(topic: str, event_type: str, version: int = 1, offset: int = 0) -> ConsumerRecord[bytes, bytes]:
    value = Envelope(event_id=100 + offset, type=event_type, payload={}, key="k", version=version).to_json()
    return ConsumerRecord(topic, 0, offset, 0, 0, b"k", value, None, 1, len(value), ())


def runner_for(handled: dict[str, Any], **kwargs: Any) -> tuple[ConsumerRunner, FakePublisher, list[str]]:
    seen: list[str] = []

    async def handler(envelope: Envelope) -> None:
        seen.append(f"{envelope.type}@{envelope.version}")

    publisher = FakePublisher()
    runner = ConsumerRunner(
        InfraSettings(),
        group_id="grp",
        topics=["t"],
        handlers=dict.fromkeys(handled, handler),
        versions=handled,
        publisher=publisher,  # type: ignore[arg-type]
        metrics=Metrics("test"),
        **kwargs,
    )
    return runner, publisher, seen


def dlt_error(out: OutgoingRecord) -> str:
    return dict(out.headers)["kiwi.dlt.error"].decode()


def consumed(runner: ConsumerRunner, outcome: str) -> float:
    value: float = runner._metrics.consumed.labels("grp", "t", outcome)._value.get()  # type: ignore[union-attr]
    return value


def test_dispatch_follows_the_contract() -> None:
    dispatch = Dispatch({"A": "handle-a"}, {"A": {1, 2}}, other_types={"B"})
    assert dispatch.handler("A", 1) == "handle-a"
    assert dispatch.handler("A", 2) == "handle-a"
    assert dispatch.handler("B", 1) is None
    assert dispatch.handler("B", 99) is None  # another consumer's type: its version is none of our business
    with pytest.raises(Unroutable, match="version 3"):
        dispatch.handler("A", 3)
    with pytest.raises(Unroutable, match="unknown event type 'C'"):
        dispatch.handler("C", 1)


def test_a_handled_type_accepts_version_1_unless_told_otherwise() -> None:
    dispatch = Dispatch({"A": "handle-a"})
    assert dispatch.handler("A", 1) == "handle-a"
    with pytest.raises(Unroutable):
        dispatch.handler("A", 2)


async def test_a_handled_type_at_an_accepted_version_is_handled() -> None:
    runner, publisher, seen = runner_for({"A": {1, 2}})
    assert await runner._handle_record(record("t", "A", version=2))
    assert seen == ["A@2"]
    assert publisher.sent == []
    assert consumed(runner, "ok") == 1


async def test_a_handled_type_at_a_version_it_does_not_accept_is_parked_at_once() -> None:
    runner, publisher, seen = runner_for({"A": {1}}, money_topics=["t"])  # even on a money topic
    parked = record("t", "A", version=2, offset=7)
    assert await runner._handle_record(parked)
    assert seen == []
    assert [(out.topic, out.value) for out in publisher.sent] == [("t.DLT", parked.value)]
    assert dlt_error(publisher.sent[0]) == "PermanentError: A version 2 is not accepted here (accepted: [1])"
    assert dict(publisher.sent[0].headers)["kiwi.dlt.original.offset"] == b"7"


async def test_another_consumers_type_on_the_topic_is_skipped() -> None:
    runner, publisher, seen = runner_for({"A": {1}}, other_types=["B"])
    assert await runner._handle_record(record("t", "B"))
    assert await runner._handle_record(record("t", "B", version=5, offset=1))
    assert seen == []
    assert publisher.sent == []
    assert consumed(runner, "ignored") == 2


async def test_a_type_no_contract_names_is_parked() -> None:
    runner, publisher, seen = runner_for({"A": {1}}, other_types=["B"])
    assert await runner._handle_record(record("t", "DRILL_UNKNOWN_EVENT"))
    assert seen == []
    assert len(publisher.sent) == 1
    assert dlt_error(publisher.sent[0]) == "PermanentError: unknown event type 'DRILL_UNKNOWN_EVENT'"


async def test_a_service_consumer_learns_its_topics_types_from_the_contracts() -> None:
    """order's wallet consumer: WALLET_SETTLED is handled, wallet's saga replies on the topic are skipped."""
    runtime = Runtime("test", ServiceSettings())

    async def settled(envelope: Envelope) -> None:
        seen.append(envelope.type)

    seen: list[str] = []
    runner = runtime.consume(
        group_id="grp",
        topics=["t"],
        handlers={events.WALLET_SETTLED: settled},
        contract=events.on_topics(WALLET),
        money_topics=["t"],
    )
    publisher = FakePublisher()
    runner._publisher = publisher  # type: ignore[assignment]
    for i, (event_type, version) in enumerate(
        [("WALLET_CREATED", 1), ("WALLET_CREATION_FAILED", 1), ("WALLET_SETTLED", 1), ("WALLET_SETTLED", 2)]
    ):
        assert await runner._handle_record(record("t", event_type, version, offset=i))
    assert seen == ["WALLET_SETTLED"]
    assert [dlt_error(out) for out in publisher.sent] == [
        "PermanentError: WALLET_SETTLED version 2 is not accepted here (accepted: [1])"
    ]


def test_a_consumer_cannot_handle_a_type_its_topics_contract_does_not_name() -> None:
    runtime = Runtime("test", ServiceSettings())

    async def handler(envelope: Envelope) -> None: ...

    with pytest.raises(ValueError, match="WALLET_SETTLED"):
        runtime.consume(
            group_id="grp", topics=["t"], handlers={events.WALLET_SETTLED: handler}, contract=events.on_topics(PAYMENT)
        )


def test_every_topic_has_its_types_and_each_type_one_owner() -> None:
    names = [t.name for t in events.EVENT_TYPES]
    assert len(names) == len(set(names))
    assert {t.topic for t in events.EVENT_TYPES} == set(BUSINESS_TOPICS)
    assert all(t.versions == {1} for t in events.EVENT_TYPES)
