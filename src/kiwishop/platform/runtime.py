"""What a service process is made of: ids, database, outbox relay, consumers, Redis, metrics, its tracer.

A service's ``create_app(settings)`` builds one ``Runtime``, asks for the parts it needs —
``database()``, ``redis()``, ``publisher()``, ``outbox()``, ``consume(...)`` — and lets
``runtime.build_app(...)`` wire their start/stop into the app lifespan and their checks into
``/health/ready``. Each part is made on the first call and the same one returned afterwards; routes reach
them through ``platform/deps.py``. Nothing here runs at import time.
"""

from __future__ import annotations

import asyncio
from collections.abc import Awaitable, Callable, Collection, Mapping, Sequence
from typing import Any, Protocol, TypeVar

from fastapi import APIRouter, FastAPI
from redis.asyncio import Redis

from kiwishop.platform import tracing
from kiwishop.platform.consumer import ConsumerRunner, Handler
from kiwishop.platform.db import Database
from kiwishop.platform.dispatch import EventKind
from kiwishop.platform.identity import HttpJwksFetcher, TokenVerifier
from kiwishop.platform.ids import Snowflake
from kiwishop.platform.kafka import KafkaPublisher, ensure_topics
from kiwishop.platform.metrics import Metrics
from kiwishop.platform.outbox import Outbox
from kiwishop.platform.redisclient import create_redis
from kiwishop.platform.relay import OutboxRelay
from kiwishop.platform.settings import ServiceSettings
from kiwishop.platform.web import build_app

Hook = Callable[[], Awaitable[None]]
Kind = TypeVar("Kind", bound=EventKind)


class Worker(Protocol):
    async def start(self) -> None: ...

    async def stop(self) -> None: ...


class Runtime:
    def __init__(self, name: str, settings: ServiceSettings) -> None:
        self.name = name
        self.settings = settings
        self.metrics = Metrics(name)
        self.ids = Snowflake(settings.node_id)
        self.tracer = tracing.tracer(name, settings.infra)
        self._db: Database | None = None
        self._redis: Redis | None = None
        self._publisher: KafkaPublisher | None = None
        self._outbox: Outbox | None = None
        self._relay: OutboxRelay | None = None
        self._verifier: TokenVerifier | None = None
        self._topics: set[str] = set()
        self.consumers: list[ConsumerRunner] = []
        self._startup: list[Hook] = []
        self._shutdown: list[Hook] = []
        self._workers: list[Worker] = []
        self._checks: dict[str, Callable[[], Awaitable[Any]]] = {}
        self._started = False

    def database(self) -> Database:
        """The service's database (``settings.db_name``); its check joins ``/health/ready``."""
        if self._db is None:
            s = self.settings
            self._db = Database.connect(s.infra, s.db_name, pool_size=s.db_pool_size, max_overflow=s.db_max_overflow)
            self._checks["database"] = self._db.ping
        return self._db

    def redis(self, *, ready_without: bool = False) -> Redis:
        """The Redis client (``infra.redis_url``); its check joins ``/health/ready`` unless the service can do
        its work without Redis (``ready_without``: e.g. order, whose only use is fail-open rate limits)."""
        if self._redis is None:
            self._redis = create_redis(self.settings.infra.redis_url)
            redis = self._redis
            if not ready_without:
                self._checks["redis"] = lambda: redis.ping()
        return self._redis

    def publisher(self) -> KafkaPublisher:
        """The Kafka producer; its check joins ``/health/ready``."""
        if self._publisher is None:
            self._publisher = KafkaPublisher(self.settings.infra, client_id=self.name)
            self._checks["kafka"] = self._publisher.ping
        return self._publisher

    def outbox(self) -> Outbox:
        """The outbox writer — and an ``OutboxRelay`` run in this process from start to stop, which publishes
        what it wrote (so also the database and the publisher, with their checks). Ask for it while building
        the app: the relay starts with the app, so one asked for later would never run."""
        if self._outbox is None:
            if self._started:
                raise RuntimeError("the outbox must be asked for before the app starts (its relay starts with it)")
            s = self.settings
            self._outbox = Outbox(self.ids)
            self._relay = OutboxRelay(
                self.database(),
                self.publisher(),
                metrics=self.metrics,
                batch_size=s.outbox_batch_size,
                poll_interval_s=s.outbox_poll_interval_s,
                lease_s=s.outbox_lease_s,
                backoff_base_s=s.outbox_backoff_base_s,
                backoff_max_s=s.outbox_backoff_max_s,
                retention_hours=s.outbox_retention_hours,
            )
        return self._outbox

    def token_verifier(self) -> TokenVerifier:
        """Verifies the identity service's bearer tokens against its JWKS (``infra.identity_jwks_url``),
        fetched on the first token; closed on stop. Not a readiness check: a service answers without it."""
        if self._verifier is None:
            fetcher = HttpJwksFetcher(self.settings.infra.identity_jwks_url)
            self._verifier = TokenVerifier(fetcher)
            self._shutdown.append(fetcher.aclose)
        return self._verifier

    def produces(self, *topics: str) -> None:
        """Topics this service writes to: created (if missing) at start-up, with their DLTs."""
        self._topics.update(topics)

    def consume(
        self,
        *,
        group_id: str,
        topics: Sequence[str],
        handlers: Mapping[Kind, Handler],
        contract: Collection[Kind],
        money_topics: Collection[str] = (),
    ) -> ConsumerRunner:
        """A consumer group reading ``topics``; ``contract``: every event type the contracts put on them.

        A record of a handled type is handled if its version is one the type lists, else parked at once; a
        record of another type of ``contract`` is skipped (it is for other consumers); a record of a type
        ``contract`` does not name is parked. Records of ``money_topics`` are retried until they succeed."""
        unknown = [kind.name for kind in handlers if kind not in contract]
        if unknown:
            raise ValueError(f"{group_id} handles types its topics' contract does not name: {unknown}")
        runner = ConsumerRunner(
            self.settings.infra,
            group_id=group_id,
            topics=topics,
            handlers={kind.name: handler for kind, handler in handlers.items()},
            versions={kind.name: kind.versions for kind in handlers},
            other_types=[kind.name for kind in contract if kind not in handlers],
            publisher=self.publisher(),
            metrics=self.metrics,
            money_topics=money_topics,
            retry_backoff_s=self.settings.consumer_retry_backoff_s,
            max_poll_records=self.settings.consumer_max_poll_records,
            tracer=self.tracer,
        )
        self._topics.update(topics)
        self._topics.update(f"{t}.DLT" for t in topics)
        self.consumers.append(runner)
        self._checks[f"consumer:{group_id}"] = runner.check_joined
        return runner

    def worker(self, worker: Worker) -> None:
        """A background job of this service (recovery, sweepers): started after the relay, stopped first."""
        self._workers.append(worker)

    def on_startup(self, hook: Hook) -> None:
        self._startup.append(hook)

    def on_shutdown(self, hook: Hook) -> None:
        self._shutdown.append(hook)

    async def start(self) -> None:
        self._started = True
        if self._topics:
            await ensure_topics(self.settings.infra, self._topics)
        for hook in self._startup:
            await hook()
        if self._relay is not None:
            await self._relay.start()
        for worker in self._workers:
            await worker.start()
        for consumer in self.consumers:
            await consumer.start()

    async def stop(self) -> None:
        """Nothing new is started (HTTP has stopped before this runs), workers and consumers finish what they
        hold, then the relay publishes what they wrote (``OutboxRelay.stop`` drains), then connections close."""
        for worker in reversed(self._workers):
            await worker.stop()
        await asyncio.gather(*(consumer.stop() for consumer in self.consumers))
        if self._relay is not None:
            await self._relay.stop(drain_s=self.settings.outbox_drain_on_stop_s)
        for hook in self._shutdown:
            await hook()
        if self._publisher is not None:
            await self._publisher.close()
        if self._redis is not None:
            await self._redis.aclose()
        if self._db is not None:
            await self._db.close()
        await asyncio.to_thread(tracing.flush)  # the exporter's HTTP call must not hold the event loop

    def build_app(self, *, title: str, routers: Sequence[APIRouter], **fastapi_kwargs: Any) -> FastAPI:
        app = build_app(
            title=title,
            metrics=self.metrics,
            on_startup=[self.start],
            on_shutdown=[self.stop],
            readiness=self._checks,
            max_body_bytes=self.settings.max_body_bytes,
            tracer=self.tracer,
            **fastapi_kwargs,
        )
        for router in routers:
            app.include_router(router)
        app.state.runtime = self
        return app
