"""Every console action is in the audit table with the operator who took it: written before the action runs,
completed with its outcome after — also when the action fails or is refused."""

from __future__ import annotations

import asyncio

import pytest

from kiwishop.console.domain import OK, ConsoleError, actor_of
from kiwishop.console.handlers import Actions, PeerRefusal
from kiwishop.console.ports import PeerError
from kiwishop.platform.errors import AppError
from tests.unit.console.fakes import FakeBroker, FakePeers, FakeReconciles, MemoryAudit, MemoryClaims

OPS = actor_of("5")
DLT = "kiwi-shop-product-like.DLT"


def actions(
    peers: FakePeers | None = None,
    audit: MemoryAudit | None = None,
    broker: FakeBroker | None = None,
    reconciles: FakeReconciles | None = None,
) -> Actions:
    return Actions(peers or FakePeers(), broker or FakeBroker(), audit or MemoryAudit(), reconciles or FakeReconciles(),
                   MemoryClaims())  # fmt: skip


async def test_a_redrive_of_a_whole_topic_is_recorded_with_the_operator_and_what_it_did() -> None:
    audit, broker = MemoryAudit(), FakeBroker()
    answer = await actions(audit=audit, broker=broker).redrive(OPS, "kiwi-shop-product-like")
    (row,) = audit.rows.values()
    assert (row.actor, row.action, row.target, row.outcome) == ("ops:5", "redrive-all", DLT, OK)
    assert row.detail["answer"]["redriven"] == 1
    assert answer["auditNo"] == row.audit_no
    assert broker.redriven == [("kiwi-shop-product-like", None)]


async def test_a_redrive_of_one_record_names_its_position() -> None:
    audit = MemoryAudit()
    await actions(audit=audit).redrive(OPS, "kiwi-shop-product-like", (2, 41))
    (row,) = audit.rows.values()
    assert (row.action, row.target, row.outcome) == ("redrive-one", f"{DLT}:2:41", OK)
    assert (row.detail["partition"], row.detail["offset"]) == (2, 41)


async def test_a_failed_action_is_recorded_with_its_error_and_the_caller_gets_the_error() -> None:
    audit = MemoryAudit()
    with pytest.raises(AppError) as raised:
        await actions(audit=audit).redrive(OPS, "kiwi-shop-nothing")
    assert raised.value.code is ConsoleError.UNKNOWN_TOPIC
    (row,) = audit.rows.values()
    assert row.outcome.startswith("CON0001: ")
    assert not row.succeeded


async def test_orders_refusal_reaches_the_caller_as_order_gave_it_and_is_recorded() -> None:
    body = {"code": "PEC0020", "message": "not in doubt"}
    audit = MemoryAudit()
    peers = FakePeers(refusal=PeerError("order", 409, "409 PEC0020", body))
    with pytest.raises(PeerRefusal) as raised:
        await actions(peers, audit).recheck(OPS, "ops-token", "order-000001")
    assert (raised.value.status, raised.value.body) == (409, body)
    (row,) = audit.rows.values()
    assert (row.action, row.target, row.outcome) == ("payment-recheck", "order-000001", "PEC0020: not in doubt")


async def test_order_not_answering_is_a_503_and_is_recorded() -> None:
    audit = MemoryAudit()
    peers = FakePeers(refusal=PeerError("order", None, "connection refused"))
    with pytest.raises(AppError) as raised:
        await actions(peers, audit).cancel_at_psp(OPS, "ops-token", "order-000001", "duplicate")
    assert (raised.value.code, raised.value.status) == (ConsoleError.PEER_UNAVAILABLE, 503)
    (row,) = audit.rows.values()
    assert row.outcome.startswith("CON0004: ")
    assert row.detail == {"reason": "duplicate"}


async def test_a_cancel_at_the_psp_is_asked_with_the_operators_token_and_recorded_with_its_reason() -> None:
    audit, peers = MemoryAudit(), FakePeers()
    answer = await actions(peers, audit).cancel_at_psp(OPS, "ops-token", "order-000001", "duplicate")
    assert peers.actions == [("cancel", "order-000001", "ops-token")]
    assert answer["pspStatus"] == "CANCELED"
    (row,) = audit.rows.values()
    assert (row.action, row.outcome, row.detail["reason"]) == ("payment-cancel-at-psp", OK, "duplicate")


async def test_without_the_audit_table_nothing_is_done() -> None:
    peers = FakePeers()
    with pytest.raises(ConnectionRefusedError):
        await actions(peers, MemoryAudit(down=True)).recheck(OPS, "ops-token", "order-000001")
    assert peers.actions == []


async def test_a_reconcile_returns_the_report_and_the_audit_keeps_its_verdict() -> None:
    audit, reconciles = MemoryAudit(), FakeReconciles()
    answer = await actions(audit=audit, reconciles=reconciles).reconcile(OPS)
    assert reconciles.runs == ["ops:5"]
    assert answer["problems"] == ["a", "b"]
    (row,) = audit.rows.values()
    assert row.detail == {"answer": {"runNo": 1, "clean": False, "discrepancies": 2}}


async def test_a_reconcile_refused_while_another_runs_is_recorded_as_refused() -> None:
    audit = MemoryAudit()
    reconciles = FakeReconciles(failure=AppError(ConsoleError.RECONCILE_RUNNING))
    with pytest.raises(AppError):
        await actions(audit=audit, reconciles=reconciles).reconcile(OPS)
    (row,) = audit.rows.values()
    assert row.outcome.startswith("CON0003: ")


@pytest.mark.parametrize("second", [None, (0, 7)])
async def test_a_redrive_while_another_of_the_same_topic_runs_is_refused_and_recorded(
    second: tuple[int, int] | None,
) -> None:
    audit, broker = MemoryAudit(), FakeBroker(gate=asyncio.Event())
    act = actions(audit=audit, broker=broker)
    first = asyncio.create_task(act.redrive(OPS, "kiwi-shop-product-like", (0, 7)))
    await asyncio.wait_for(broker.started.wait(), 5)  # the first one is publishing
    with pytest.raises(AppError) as refused:
        # the same record, or the whole topic (without the claim it would wait for the gate: 5 s, then fail)
        await asyncio.wait_for(act.redrive(OPS, "kiwi-shop-product-like", second), 5)
    assert (refused.value.code, refused.value.status) == (ConsoleError.REDRIVE_RUNNING, 409)
    assert broker.redriven == []  # the refused one published nothing
    broker.gate.set()  # type: ignore[union-attr]
    assert (await first)["redriven"] == 1
    assert broker.redriven == [("kiwi-shop-product-like", (0, 7))]  # once
    outcomes = sorted(row.outcome.split(":")[0] for row in audit.rows.values())
    assert outcomes == ["CON0007", OK]
    again = await act.redrive(OPS, "kiwi-shop-product-like", (0, 7))  # once it is done, a deliberate re-send goes
    assert again["redriven"] == 1


async def test_a_redrive_that_fails_releases_its_claim() -> None:
    claims = MemoryClaims()
    act = Actions(FakePeers(), FakeBroker(down=True), MemoryAudit(), FakeReconciles(), claims)
    with pytest.raises(AppError):
        await act.redrive(OPS, "kiwi-shop-product-like")
    assert (claims.held, claims.released) == (set(), [DLT])
