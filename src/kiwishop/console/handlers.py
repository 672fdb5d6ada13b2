"""The console's actions, each recorded in the audit table with the operator who took it: the row is written
before the action runs (no database, no action: nothing is ever done unrecorded) and completed with its outcome
after — ``ok`` and the answer, or the error the caller got. An action never holds a transaction while it runs.

A refusal of order's (400, 404, 409, with order's ``{code, message}``) reaches the caller as it is
(``PeerRefusal``); order not answering, or answering anything else, is a 503 (CON0004)."""

from __future__ import annotations

from collections.abc import Awaitable, Callable
from dataclasses import dataclass

from kiwishop.console.domain import OK, ConsoleError, outcome_text
from kiwishop.console.ports import Audit, Broker, Claims, Json, PeerError, Peers, Reconciles
from kiwishop.ops.dlt import dlt_name
from kiwishop.platform.errors import AppError

PASSED_ON = (400, 404, 409)  # order's refusals the caller sees as order gave them
REDRIVE_LEASE_S = 300.0  # a redrive's claim lapses after this if the console died mid-way


class PeerRefusal(Exception):
    """A service refused the action (its status and ``{code, message}``): nothing was done there."""

    def __init__(self, status: int, body: Json) -> None:
        super().__init__(f"{status} {body.get('code')}")
        self.status, self.body = status, body


def _refusal(exc: PeerError) -> Exception:
    if exc.status in PASSED_ON and exc.body is not None:
        return PeerRefusal(exc.status, exc.body)
    return AppError(ConsoleError.PEER_UNAVAILABLE, service=exc.service, reason=exc.reason)


def _outcome(exc: BaseException) -> str:
    if isinstance(exc, AppError):
        return outcome_text(exc.code.code, exc.code.message("ko", exc.params))
    if isinstance(exc, PeerRefusal):
        return outcome_text(str(exc.body.get("code")), str(exc.body.get("message")))
    return outcome_text(type(exc).__name__, str(exc))


async def audited(
    audit: Audit, actor: str, action: str, target: str, detail: Json, act: Callable[[], Awaitable[Json]],
    kept: Callable[[Json], Json] = lambda answer: answer,
) -> Json:  # fmt: skip
    """Run ``act`` recorded: its answer with the audit row's number (``auditNo``), or its error re-raised;
    ``kept``: what of the answer the audit row keeps."""
    audit_no = await audit.start(actor, action, target, detail)
    try:
        try:
            answer = await act()
        except PeerError as exc:
            raise _refusal(exc) from exc
    except BaseException as exc:
        await audit.finish(audit_no, _outcome(exc), detail)
        raise
    await audit.finish(audit_no, OK, {**detail, "answer": kept(answer)})
    return {**answer, "auditNo": audit_no}


@dataclass(frozen=True)
class Actions:
    peers: Peers
    broker: Broker
    audit: Audit
    reconciles: Reconciles
    claims: Claims

    async def redrive(self, actor: str, topic: str, position: tuple[int, int] | None = None) -> Json:
        """Every record of the topic's DLT not yet redriven, or the one at ``(partition, offset)``; the audit names
        the dead-letter topic (and the record as ``<dlt>:<partition>:<offset>``). One redrive per dead-letter topic at
        a time — of a record or of all — so two operators pressing at once publish nothing twice: the other one is
        refused (409 CON0007) and recorded as refused."""
        dlt = dlt_name(topic)
        if position is None:
            act = self._claimed(dlt, lambda: self.broker.redrive_all(topic))
            return await audited(self.audit, actor, "redrive-all", dlt, {}, act)
        partition, offset = position
        target = f"{dlt}:{partition}:{offset}"
        act = self._claimed(dlt, lambda: self.broker.redrive_one(topic, partition, offset))
        return await audited(self.audit, actor, "redrive-one", target, {"partition": partition, "offset": offset}, act)

    def _claimed(self, target: str, act: Callable[[], Awaitable[Json]]) -> Callable[[], Awaitable[Json]]:
        async def run() -> Json:
            if not await self.claims.claim(target, REDRIVE_LEASE_S):
                raise AppError(ConsoleError.REDRIVE_RUNNING, target=target)
            try:
                return await act()
            finally:
                await self.claims.release(target)

        return run

    async def recheck(self, actor: str, token: str, order_id: str) -> Json:
        return await audited(self.audit, actor, "payment-recheck", order_id, {},
                             lambda: self.peers.recheck(order_id, token))  # fmt: skip

    async def cancel_at_psp(self, actor: str, token: str, order_id: str, reason: str) -> Json:
        return await audited(self.audit, actor, "payment-cancel-at-psp", order_id, {"reason": reason},
                             lambda: self.peers.cancel_at_psp(order_id, reason, token))  # fmt: skip

    async def reconcile(self, actor: str) -> Json:
        """Reconcile now: the report (the audit row keeps its number and verdict)."""
        return await audited(
            self.audit, actor, "reconcile", "reconcile", {}, lambda: self.reconciles.run(actor),
            kept=lambda report: {key: report.get(key) for key in ("runNo", "clean", "discrepancies")},
        )  # fmt: skip
