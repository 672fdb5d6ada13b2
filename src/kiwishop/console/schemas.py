"""The console's request bodies and its answers (much of them the services' own answers, passed on)."""

from __future__ import annotations

from decimal import Decimal
from typing import Annotated, Any

from pydantic import BaseModel, ConfigDict, Field, StringConstraints

MAX_PARTITION = 2**31 - 1
MAX_OFFSET = 2**63 - 1


class RedriveIn(BaseModel):
    """One record to redrive; no body at all redrives every record not yet redriven."""

    model_config = ConfigDict(extra="forbid")

    partition: int = Field(ge=0, le=MAX_PARTITION)
    offset: int = Field(ge=0, le=MAX_OFFSET)


class CancelAtPspIn(BaseModel):
    model_config = ConfigDict(extra="forbid")

    reason: Annotated[str, StringConstraints(strip_whitespace=True, min_length=1, max_length=200)]


# -- answers: what each route sends, validated against these before it leaves (``api.validated``) --------------
class PartError(BaseModel):
    """A part of the overview that could not be read: which service (or "kafka") and why."""

    service: str
    error: str


class OutboxOut(BaseModel):
    """A service's outbox backlog (its ``GET /api/ops/outbox``), or — with ``error`` only — why it is unknown."""

    service: str
    pending: int | None = None
    failed: int | None = None
    oldestAgeSeconds: float | None = None
    error: str | None = None


class ConsumerLagOut(BaseModel):
    group: str
    topic: str
    lag: int
    joined: bool
    partitions: int


class DeadLetterCountOut(BaseModel):
    topic: str
    pending: int  # parked and not yet redriven
    total: int


class ServiceReadyOut(BaseModel):
    service: str
    ready: bool
    error: str | None = None  # why readiness could not be read


class HeldOut(BaseModel):
    lines: int
    amount: Decimal


class ReconcileReportOut(BaseModel):
    """One reconcile run: PSP approvals, SUCCESS lines, the wallet ledger and balances, per seller."""

    runNo: int
    triggeredBy: str
    startedAt: str
    finishedAt: str
    clean: bool
    discrepancies: int
    problems: list[str]  # the first of them
    orders: dict[str, int]
    cancels: dict[str, int]
    givenBack: dict[str, Decimal]  # psp_approved, psp_canceled, paid_lines, canceled_lines, credit, debit
    heldSettlements: dict[str, HeldOut]  # "waiting" / "canceled"
    deadLetters: dict[str, int]
    text: str


class OverviewOut(BaseModel):
    """Everything the console shows; a part that could not be read is a ``PartError`` in its place."""

    collectedAt: str
    outbox: list[OutboxOut]
    consumers: list[ConsumerLagOut] | PartError
    deadLetters: list[DeadLetterCountOut] | PartError
    payments: dict[str, Any]  # order's GET /api/ops/payments (counts, inDoubt, quarantined, unsettled), or an error
    registrations: list[dict[str, Any]] | PartError  # seller's registrations that did not complete
    registrationCounts: dict[str, int] | PartError
    services: list[ServiceReadyOut]
    reconcile: ReconcileReportOut | PartError | None  # the last run (None: never)


class HeaderOut(BaseModel):
    name: str
    value: str


class ParkedRecordOut(BaseModel):
    partition: int
    offset: int
    key: str | None
    group: str | None  # the consumer group that parked it
    error: str | None
    originalTopic: str
    eventId: int | None  # the envelope's, when the value is one
    type: str | None
    headers: list[HeaderOut]
    payload: str  # pretty JSON when it is JSON, else the escaped bytes
    redriveCount: int
    redriven: bool


class DeadLettersOut(BaseModel):
    topic: str
    total: int
    pending: int
    records: list[ParkedRecordOut]


class RedriveOut(BaseModel):
    topic: str
    redriven: int
    toTopics: dict[str, int]
    position: str | None = None  # one record: ``<dlt>:<partition>:<offset>``
    alreadyRedriven: bool | None = None  # one record: it had been redriven before
    remembered: bool | None = None  # one record: the redrive group's offset moved past it
    auditNo: int


class PaymentActionOut(BaseModel):
    """Order's answer to a re-check or a cancel at the PSP, and the audit row of it."""

    orderId: str
    before: str
    status: str
    pspStatus: str | None = None
    auditNo: int


class ReconcileNowOut(ReconcileReportOut):
    auditNo: int


class AuditEntryOut(BaseModel):
    auditNo: int
    actor: str
    action: str
    target: str
    outcome: str | None
    detail: dict[str, Any]
    createdAt: str
    finishedAt: str | None


class AuditOut(BaseModel):
    entries: list[AuditEntryOut]
