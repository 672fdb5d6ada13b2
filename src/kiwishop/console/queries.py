"""The console's reads: the overview, assembled part by part — each part read on its own (concurrently, with a
deadline), so a service or the broker that does not answer costs its own part an ``{"service", "error"}`` and
never the whole overview a 500 — and the audit rows an action page shows."""

from __future__ import annotations

import asyncio
import logging
from collections.abc import Awaitable, Sequence
from dataclasses import dataclass
from typing import Any

from kiwishop.console.domain import part_error
from kiwishop.console.ports import Broker, Json, PeerError, Peers, Reconciles
from kiwishop.platform.clock import utcnow_aware
from kiwishop.platform.errors import AppError
from kiwishop.platform.jsonutil import utc_iso

log = logging.getLogger("kiwishop.console.queries")
NO_CREDENTIAL = "no ops token to ask with (the console's service credential is not set)"


@dataclass(frozen=True)
class OverviewSources:
    peers: Peers
    broker: Broker
    reconciles: Reconciles
    services: Sequence[str]  # readiness of each
    outbox_services: Sequence[str]  # GET /api/ops/outbox of each
    payments_limit: int = 50
    registrations_limit: int = 50
    peer_timeout_s: float = 5.0
    kafka_timeout_s: float = 20.0


async def part(source: str, read: Awaitable[Any], timeout_s: float) -> Any:
    """What ``read`` answers, or the part's error: which source, and why."""
    try:
        return await asyncio.wait_for(read, timeout_s)
    except TimeoutError:
        return part_error(source, f"no answer within {timeout_s:g}s")
    except PeerError as exc:
        return part_error(exc.service, exc.reason)
    except AppError as exc:
        return part_error(source, exc.code.message("en", exc.params))
    except Exception as exc:  # one part's failure of any kind is that part's, never the overview's
        log.warning("overview: %s could not be read", source, exc_info=True)
        return part_error(source, f"{type(exc).__name__}: {exc}")


async def _with_token(source: str, token: str | None, read: Any, timeout_s: float) -> Any:
    if token is None:
        return part_error(source, NO_CREDENTIAL)
    return await part(source, read(token), timeout_s)


async def _outbox(src: OverviewSources, token: str | None) -> list[Json]:
    async def one(service: str) -> Json:
        answer = await _with_token(service, token, lambda t: src.peers.outbox(service, t), src.peer_timeout_s)
        return {"service": service, **answer}

    return list(await asyncio.gather(*(one(s) for s in src.outbox_services)))


async def _services(src: OverviewSources) -> list[Json]:
    async def one(service: str) -> Json:
        answer = await part(service, src.peers.ready(service), src.peer_timeout_s)
        if isinstance(answer, dict):
            return {"service": service, "ready": False, "error": answer["error"]}
        return {"service": service, "ready": bool(answer)}

    return list(await asyncio.gather(*(one(s) for s in src.services)))


def _registrations(answer: Any) -> tuple[Any, Any]:
    """Seller's answer split into the list and the counts (an error stands for both)."""
    if not isinstance(answer, dict) or "error" in answer:
        return answer, answer
    return answer.get("registrations", []), answer.get("counts", {})


async def overview(src: OverviewSources, token: str | None) -> Json:
    """Everything the console shows, read now; ``token``: the ops token the services are asked with (None: only
    what needs none — Kafka, readiness, the last reconcile)."""
    kafka, peer = src.kafka_timeout_s, src.peer_timeout_s
    outbox, consumers, dead_letters, payments, registrations, services, last_reconcile = await asyncio.gather(
        _outbox(src, token),
        part("kafka", src.broker.consumer_lag(), kafka),
        part("kafka", src.broker.dead_letter_counts(), kafka),
        _with_token("order", token, lambda t: src.peers.payments(t, src.payments_limit), peer),
        _with_token("seller", token, lambda t: src.peers.registrations(t, src.registrations_limit), peer),
        _services(src),
        part("console", src.reconciles.last(), peer),
    )
    listed, counts = _registrations(registrations)
    return {
        "collectedAt": utc_iso(utcnow_aware()),
        "outbox": outbox,
        "consumers": consumers,
        "deadLetters": dead_letters,
        "payments": payments,
        "registrations": listed,
        "registrationCounts": counts,
        "services": services,
        "reconcile": last_reconcile,
    }
