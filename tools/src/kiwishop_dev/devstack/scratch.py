"""Throw-away MariaDB, Redis and broker on free ports, for the test runner and the benchmarks.

They never touch the `make run` stack (other ports, other data folders) and vanish when closed. The broker
keeps its data in memory unless ``broker_storage="s3"``: then it writes to a private SeaweedFS (as `make run`
does), which the benchmarks use to show what a durable broker costs.
"""

from __future__ import annotations

import secrets
from dataclasses import dataclass, field
from pathlib import Path
from typing import Literal

from kiwishop.platform.settings import InfraSettings
from kiwishop_dev.devstack.infra import MariaDB, RedisServer, SeaweedFS, SeaweedPorts, TansuBroker
from kiwishop_dev.devstack.procs import free_port
from kiwishop_dev.devstack.seaweedfs import S3_FETCH_MAX_WAIT_MS

BrokerStorage = Literal["memory", "s3"]
# Tansu answers a fetch only when its wait has passed: short for the in-memory broker (latency). On S3 the wait
# must cover listing the partition's batch objects (``seaweedfs.S3_FETCH_MAX_WAIT_MS``).
MEMORY_FETCH_MAX_WAIT_MS = 20
Server = MariaDB | RedisServer | SeaweedFS | TansuBroker


@dataclass
class ScratchServers:
    root: Path
    broker_storage: BrokerStorage = "memory"
    mariadb: MariaDB = field(init=False)
    redis: RedisServer = field(init=False)
    broker: TansuBroker = field(init=False)
    seaweedfs: SeaweedFS | None = field(default=None, init=False)
    infra: InfraSettings = field(init=False)
    _started: list[Server] = field(default_factory=list, init=False)

    def start(self) -> ScratchServers:
        logs = self.root / "logs"
        password = secrets.token_hex(8)
        self.mariadb = MariaDB(self.root / "mariadb", free_port(), password, logs)
        self.redis = RedisServer(self.root / "redis", free_port(), logs)
        servers: list[Server] = [self.mariadb, self.redis]
        if self.broker_storage == "s3":
            self.seaweedfs = SeaweedFS(self.root / "seaweedfs", SeaweedPorts.free(), logs)
            self.broker = TansuBroker(free_port(), logs, storage=self.seaweedfs.storage_url,
                                      env=self.seaweedfs.client_env())  # fmt: skip
            servers.append(self.seaweedfs)
        else:
            self.broker = TansuBroker(free_port(), logs)
        try:
            for server in (*servers, self.broker):
                server.start()
                self._started.append(server)
        except BaseException:
            self.stop()
            raise
        self.infra = InfraSettings(
            db_host="127.0.0.1",
            db_port=self.mariadb.port,
            db_user="root",
            db_password=password,
            redis_url=f"redis://127.0.0.1:{self.redis.port}/0",
            kafka_bootstrap_servers=self.broker.bootstrap,
            kafka_session_timeout_ms=2000,
            kafka_heartbeat_interval_ms=500,
            kafka_request_timeout_ms=5000,
            kafka_fetch_max_wait_ms=S3_FETCH_MAX_WAIT_MS if self.broker_storage == "s3" else MEMORY_FETCH_MAX_WAIT_MS,
            log_json=False,
        )
        return self

    def stop(self) -> None:
        """In reverse: the broker before the store it writes to, then Redis, then MariaDB."""
        while self._started:
            self._started.pop().stop()

    def __enter__(self) -> ScratchServers:
        return self.start()

    def __exit__(self, *_: object) -> None:
        self.stop()
