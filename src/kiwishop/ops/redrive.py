"""Redrive: re-publish parked records to the topic they came from, once the cause is fixed.

Each record not yet redriven goes back to its original topic (header ``kiwi.dlt.original.topic``, else
the dead-letter name minus ``.DLT``) with its original key and value — so its original eventId, which
every consumer dedupes by — and its original headers without the ``kiwi.dlt.*`` ones, plus
``kiwi.redrive.count`` (one more than the record carried) and ``kiwi.redrive.from``
(``<dlt topic>:<partition>:<offset>``). The redrive group's offsets are committed only after the
broker acknowledged the re-published records: a second redrive re-publishes nothing already done, and
a crash re-publishes at most the uncommitted tail (harmless, consumers dedupe).

Also the text of ``kiwishop dlt list | show | redrive`` and its exit codes.
"""

from __future__ import annotations

import asyncio
import json
import sys
from collections import Counter
from collections.abc import Sequence
from dataclasses import dataclass, field

from aiokafka import TopicPartition
from aiokafka.errors import KafkaError

from kiwishop.ops.dlt import (
    REDRIVE_GROUP,
    DltSummary,
    Parked,
    Tally,
    UnknownTopicError,
    dlt_name,
    list_dlts,
    open_reader,
    read_parked,
)
from kiwishop.platform.kafka import KafkaPublisher, OutgoingRecord
from kiwishop.platform.settings import InfraSettings

COUNT_HEADER = "kiwi.redrive.count"
FROM_HEADER = "kiwi.redrive.from"
_DROPPED_PREFIXES = ("kiwi.dlt.", "kiwi.redrive.")


class RedriveError(RuntimeError):
    """The broker did not acknowledge a re-published record."""


def redrive_count(parked: Parked) -> int:
    """How often the record had been redriven before it was parked (this time)."""
    value = parked.header(COUNT_HEADER)
    return int(value) if value is not None and value.strip().isdigit() else 0


def redriven(parked: Parked) -> OutgoingRecord:
    """The record as it goes back to its original topic."""
    headers = tuple((k, v) for k, v in parked.headers if not k.startswith(_DROPPED_PREFIXES))
    headers += ((COUNT_HEADER, str(redrive_count(parked) + 1).encode()), (FROM_HEADER, parked.position.encode()))
    key = parked.key.decode("utf-8", "replace") if parked.key else ""
    return OutgoingRecord(parked.original_topic, key, parked.value or b"", headers)


@dataclass
class RedriveResult:
    dlt_topic: str
    dry_run: bool
    to_topics: Counter[str] = field(default_factory=Counter)
    records: list[tuple[Parked, OutgoingRecord]] = field(default_factory=list)

    @property
    def count(self) -> int:
        return sum(self.to_topics.values())

    def add(self, parked: Parked, out: OutgoingRecord) -> None:
        self.records.append((parked, out))
        self.to_topics[out.topic] += 1

    def summary(self) -> str:
        verb = "would redrive" if self.dry_run else "redrove"
        if not self.to_topics:
            return f"{self.dlt_topic}: nothing to redrive"
        targets = ", ".join(f"{n} to {topic}" for topic, n in sorted(self.to_topics.items()))
        return f"{self.dlt_topic}: {verb} {self.count} record(s): {targets}"


def _acknowledged(
    batch: Sequence[Parked], errors: Sequence[BaseException | None]
) -> tuple[dict[TopicPartition, int], list[Parked]]:
    """Per dead-letter partition, the offset after its last record acknowledged with all before it."""
    offsets: dict[TopicPartition, int] = {}
    done: list[Parked] = []
    failed: set[TopicPartition] = set()
    for parked, error in zip(batch, errors, strict=True):
        tp = TopicPartition(parked.dlt_topic, parked.partition)
        if error is not None or tp in failed:
            failed.add(tp)
            continue
        offsets[tp] = parked.offset + 1
        done.append(parked)
    return offsets, done


async def redrive(
    infra: InfraSettings, topic: str, *, dry_run: bool = False, group: str = REDRIVE_GROUP
) -> RedriveResult:
    """Re-publish every record of ``topic``'s DLT not yet redriven; with ``dry_run`` only say which."""
    result = RedriveResult(dlt_name(topic), dry_run)
    publisher = KafkaPublisher(infra, client_id="kiwishop-dlt-redrive")
    try:
        async with open_reader(infra, [result.dlt_topic], group) as reader:
            async for batch in reader.batches():
                outgoing = [redriven(p) for p in batch]
                if dry_run:
                    for parked, out in zip(batch, outgoing, strict=True):
                        result.add(parked, out)
                    continue
                errors = await publisher.send_many(outgoing)
                offsets, done = _acknowledged(batch, errors)
                await reader.commit(offsets)
                by_position = {p.position: out for p, out in zip(batch, outgoing, strict=True)}
                for parked in done:
                    result.add(parked, by_position[parked.position])
                failure = next((e for e in errors if e is not None), None)
                if failure is not None:
                    raise RedriveError(f"the broker did not take a redriven record: {failure!r}") from failure
    finally:
        await publisher.close()
    return result


def printable(text: str) -> str:
    """The text itself when every character is printable, else its escaped repr (no control characters)."""
    return text if text.isprintable() else repr(text)


def safe_text(raw: bytes | None) -> str:
    """The bytes as text when they are printable UTF-8, else their escaped repr."""
    if raw is None:
        return "None"
    try:
        text = raw.decode("utf-8")
    except UnicodeDecodeError:
        return repr(raw)
    return text if text.isprintable() else repr(raw)


def _tally(tally: Tally) -> str:
    return f"{tally.total:>6} ({tally.pending} not redriven)"


def render_summaries(summaries: Sequence[DltSummary]) -> str:
    lines: list[str] = []
    for summary in summaries:
        if not summary.exists:
            lines.append(f"{summary.topic}: not created on the broker")
            continue
        lines.append(f"{summary.topic}: {summary.records.total} records, {summary.records.pending} not redriven")
        for title, tallies in (("group", summary.by_group), ("error", summary.by_error)):
            for name, tally in sorted(tallies.items(), key=lambda item: -item[1].total):
                lines.append(f"  {_tally(tally)}  {title} {printable(name)}")
    return "\n".join(lines) or "no dead-letter topics"


def render_value(value: bytes | None) -> str:
    """Pretty JSON when the value is JSON, else the escaped bytes."""
    if value is None:
        return "None"
    try:
        parsed = json.loads(value)
    except (ValueError, UnicodeDecodeError):
        return safe_text(value)
    pretty = json.dumps(parsed, indent=2, ensure_ascii=False)
    return pretty if all(line.isprintable() for line in pretty.splitlines()) else json.dumps(parsed, indent=2)


def render_parked(parked: Parked) -> str:
    lines = [f"{parked.dlt_topic} partition {parked.partition} offset {parked.offset}  key {safe_text(parked.key)}"]
    lines.extend(f"  {printable(k)}: {safe_text(v)}" for k, v in parked.headers)
    envelope = parked.envelope()
    if envelope is not None:
        lines.append(f"  eventId {envelope.event_id}  type {envelope.type}  version {envelope.version}")
    else:
        lines.append("  (not an envelope)")
    lines.extend(f"  | {line}" for line in render_value(parked.value).splitlines())
    return "\n".join(lines)


def render_show(topic: str, records: Sequence[Parked], limit: int | None, include_redriven: bool) -> str:
    shown = records if limit is None else records[:limit]
    which = "records" if include_redriven else "records not yet redriven"
    lines = [f"{dlt_name(topic)}: {len(records)} {which}"]
    lines.extend(render_parked(p) for p in shown)
    if len(shown) < len(records):
        lines.append(f"… {len(records) - len(shown)} more (--limit N to see more)")
    return "\n\n".join(lines)


def render_redrive(result: RedriveResult) -> str:
    lines: list[str] = []
    if result.dry_run:
        for parked, out in result.records:
            envelope = parked.envelope()
            event = f"eventId {envelope.event_id} {envelope.type}" if envelope else "not an envelope"
            count = dict(out.headers)[COUNT_HEADER].decode()
            lines.append(
                f"would redrive {parked.position} -> {out.topic}  key {safe_text(out.key.encode())}  {event}  "
                f"{COUNT_HEADER} {count}"
            )
    lines.append(result.summary())
    return "\n".join(lines)


async def _run(
    infra: InfraSettings, command: str, topics: Sequence[str], limit: int | None, include_all: bool, dry_run: bool
) -> str:
    if command == "list":
        return render_summaries(await list_dlts(infra, topics))
    (topic,) = topics
    if command == "show":
        records = await read_parked(infra, topic, include_redriven=include_all)
        return render_show(topic, records, limit, include_all)
    if command == "redrive":
        return render_redrive(await redrive(infra, topic, dry_run=dry_run))
    raise ValueError(f"unknown dlt command {command!r}")


def run_command(
    infra: InfraSettings,
    command: str,
    topics: Sequence[str] = (),
    *,
    limit: int | None = None,
    include_all: bool = False,
    dry_run: bool = False,
) -> int:
    """``kiwishop dlt list|show|redrive``: 0 when done, 2 for an unknown topic, 1 for a broker error."""
    try:
        output = asyncio.run(_run(infra, command, topics, limit, include_all, dry_run))
    except UnknownTopicError as exc:
        print(f"unknown topic: {exc}", file=sys.stderr)
        return 2
    except (KafkaError, OSError, TimeoutError, RedriveError) as exc:
        print(f"broker error: {exc!r}", file=sys.stderr)
        return 1
    print(output)
    return 0
