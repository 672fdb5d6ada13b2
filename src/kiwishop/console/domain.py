"""The console's own rules: its error codes, what an audit row says, and how a part of the overview that could
not be read is shown (stdlib and the platform's error type only)."""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass, field
from typing import Any

from kiwishop.platform.errors import ErrorCode

OK = "ok"
STARTED = "started"  # an action whose outcome was never recorded (the console stopped while it ran)
OUTCOME_WIDTH = 500


class ConsoleError(ErrorCode):
    UNKNOWN_TOPIC = ("CON0001", 404, "그런 데드레터 토픽이 없습니다: {topic}", "No such dead-letter topic: {topic}")
    NOT_PARKED = (
        "CON0002",
        404,
        "그 위치에 보관된 레코드가 없습니다: {position}",
        "No parked record at {position}.",
    )
    RECONCILE_RUNNING = (
        "CON0003",
        409,
        "대사가 이미 실행 중입니다. 끝난 뒤 다시 시도해 주세요.",
        "A reconcile is already running; try again when it is done.",
    )
    PEER_UNAVAILABLE = (
        "CON0004",
        503,
        "{service} 서비스가 응답하지 않습니다: {reason}",
        "The {service} service did not answer: {reason}",
    )
    BROKER_UNAVAILABLE = (
        "CON0005",
        503,
        "Kafka 브로커를 사용할 수 없습니다: {reason}",
        "The Kafka broker cannot be used right now: {reason}",
    )
    RECONCILE_FAILED = (
        "CON0006",
        503,
        "대사를 끝내지 못했습니다: {reason}",
        "The reconcile could not finish: {reason}",
    )
    REDRIVE_RUNNING = (
        "CON0007",
        409,
        "이 토픽의 재전송이 이미 진행 중입니다: {target}. 끝난 뒤 다시 시도해 주세요.",
        "A redrive of {target} is already running; try again when it is done.",
    )


def actor_of(subject: str) -> str:
    """Who acted, as the audit and order's history name an operator."""
    return f"ops:{subject}"[:255]


def outcome_text(code: str, message: str) -> str:
    """A failed action's outcome: its error code and message, as the caller saw them."""
    return f"{code}: {message}"[:OUTCOME_WIDTH]


@dataclass(frozen=True)
class AuditEntry:
    """One ops action: who, what, on what, with which inputs and result (``detail``), and how it ended."""

    audit_no: int
    actor: str
    action: str
    target: str
    outcome: str
    created_at: dt.datetime
    detail: dict[str, Any] = field(default_factory=dict)
    finished_at: dt.datetime | None = None

    @property
    def succeeded(self) -> bool:
        return self.outcome == OK


def part_error(source: str, reason: object) -> dict[str, str]:
    """A part of the overview that could not be read: which service (or "kafka") and why — never the whole
    overview's failure."""
    text = " ".join(str(reason).split()) or type(reason).__name__
    return {"service": source, "error": text[:300]}


def is_error(part: object) -> bool:
    return isinstance(part, dict) and "error" in part


def lag_of(high_watermark: int, committed: int | None) -> int:
    """Records a group has still to read on a partition: a group that never committed reads from the start."""
    return max(0, high_watermark - max(0, committed or 0))
