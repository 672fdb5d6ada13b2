"""What the console's reads and actions need (``queries.py``, ``handlers.py``): the services over HTTP, the Kafka
broker, its audit table and reconcile. The adapters are ``peers.py``, ``broker.py``, ``store.py`` and
``reconciling.py``; the unit tests' fakes are shaped like these. Answers are JSON-ready dicts: the console passes
the services' own shapes on."""

from __future__ import annotations

from typing import Any, Protocol

from kiwishop.console.domain import AuditEntry

Json = dict[str, Any]


class PeerError(Exception):
    """A service did not answer (``status`` None) or answered an error: its status and its ``{code, message}``."""

    def __init__(self, service: str, status: int | None, reason: str, body: Json | None = None) -> None:
        super().__init__(f"{service}: {reason}")
        self.service, self.status, self.reason, self.body = service, status, reason, body


class Peers(Protocol):
    """The services' ops reads and order's two payment actions, each with the caller's ops token."""

    async def outbox(self, service: str, token: str) -> Json: ...

    async def payments(self, token: str, limit: int) -> Json: ...

    async def registrations(self, token: str, limit: int) -> Json: ...

    async def ready(self, service: str) -> bool: ...

    async def recheck(self, order_id: str, token: str) -> Json: ...

    async def cancel_at_psp(self, order_id: str, reason: str, token: str) -> Json: ...


class Broker(Protocol):
    """Consumer lag and dead letters; unknown topics and broker failures are ``AppError`` (404, 503)."""

    async def consumer_lag(self) -> list[Json]: ...

    async def dead_letter_counts(self) -> list[Json]: ...

    async def dead_letters(self, topic: str, limit: int) -> Json: ...

    async def redrive_all(self, topic: str) -> Json: ...

    async def redrive_one(self, topic: str, partition: int, offset: int) -> Json: ...


class Audit(Protocol):
    """The ``ops_audit`` table: a row written before an action runs (``start``) and completed after (``finish``)."""

    async def start(self, actor: str, action: str, target: str, detail: Json) -> int: ...

    async def finish(self, audit_no: int, outcome: str, detail: Json) -> None: ...

    async def recent(self, limit: int) -> list[AuditEntry]: ...

    async def get(self, audit_no: int) -> AuditEntry | None: ...


class Claims(Protocol):
    """Redrives under way (``redrive_claims``): one per dead-letter topic at a time, across console processes."""

    async def claim(self, target: str, lease_s: float) -> bool:
        """True when this caller may redrive ``target`` now (for ``lease_s`` at most); False while another does."""
        ...

    async def release(self, target: str) -> None: ...


class Reconciles(Protocol):
    """``kiwishop.ops.reconcile`` run now (one at a time; ``AppError`` 409 while one runs) and its reports."""

    async def run(self, triggered_by: str) -> Json: ...

    async def last(self) -> Json | None: ...
