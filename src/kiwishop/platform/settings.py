"""Settings from environment variables (pydantic-settings), built explicitly, never at import time.

Shared infrastructure settings use the prefix ``KIWI_`` (``KIWI_DB_HOST``, ``KIWI_REDIS_URL``,
``KIWI_KAFKA_BOOTSTRAP_SERVERS`` …). Each service's own settings use ``KIWI_<SERVICE>_`` (for catalog:
``KIWI_CATALOG_PORT``, ``KIWI_CATALOG_DB_NAME``, ``KIWI_CATALOG_NODE_ID`` …). The defaults are the local
stack's (root / 1234, localhost ports), so pointing at an external MySQL 8, Kafka or Redis is
configuration only.
"""

from __future__ import annotations

from typing import Literal

from pydantic import Field, SecretStr
from pydantic_settings import BaseSettings, SettingsConfigDict


class InfraSettings(BaseSettings):
    model_config = SettingsConfigDict(env_prefix="KIWI_", extra="ignore")

    db_host: str = "127.0.0.1"
    db_port: int = 3306
    db_user: str = "root"
    db_password: SecretStr = SecretStr("1234")

    # TLS to MySQL (platform/db.py): on when required or when a CA is given; the server's certificate is then
    # always verified (against this CA bundle, else the system's) and, unless verify_identity is false, its name
    # against db_host. Off locally: the local MariaDB has no certificate.
    db_ssl_required: bool = False
    db_ssl_ca: str = ""
    db_ssl_verify_identity: bool = True

    # Password and TLS go in the URL: redis://:PASSWORD@host:6379/0, rediss://…?ssl_ca_certs=/path/ca.pem
    redis_url: str = "redis://127.0.0.1:6379/0"

    kafka_bootstrap_servers: str = "127.0.0.1:9092"
    # Authentication and encryption of every Kafka client (platform/kafka.py kafka_security_kwargs). PLAINTEXT
    # locally; production uses SASL (one SCRAM user per service, deploy/README.md) over SASL_PLAINTEXT inside a
    # private network, or SASL_SSL / SSL across hosts (the broker's CA from kafka_ssl_cafile, else the system's).
    kafka_security_protocol: Literal["PLAINTEXT", "SASL_PLAINTEXT", "SASL_SSL", "SSL"] = "PLAINTEXT"
    kafka_sasl_mechanism: Literal["SCRAM-SHA-512", "SCRAM-SHA-256", "PLAIN"] = "SCRAM-SHA-512"
    kafka_sasl_username: str = ""
    kafka_sasl_password: SecretStr = SecretStr("")
    kafka_ssl_cafile: str = ""

    # Real Kafka: true. The local Tansu broker rejects aiokafka's idempotent producer, so false locally;
    # consumer-side dedupe by event id is what makes duplicates harmless anyway.
    kafka_idempotent_producer: bool = False
    # A join or rebalance waits about half the session timeout: short locally; 10000/3000 suit real Kafka.
    kafka_session_timeout_ms: int = 2000
    kafka_heartbeat_interval_ms: int = 500
    kafka_request_timeout_ms: int = 10000
    # How long a fetch may wait for records: Kafka's own default. Tansu answers a fetch only when this wait has
    # passed, so the test runner's in-memory broker uses 20 ms (latency); Tansu on S3 needs the long wait to
    # list its batch objects (devstack.seaweedfs.S3_FETCH_MAX_WAIT_MS).
    kafka_fetch_max_wait_ms: int = 500
    topic_partitions: int = 3
    topic_replication_factor: int = 1

    log_level: str = "INFO"
    log_json: bool = True

    # Traces (platform/tracing.py): spans are always made — their ids are in every log line and travel as W3C
    # ``traceparent`` over HTTP and Kafka — and exported only as this says: ``none``, ``console`` (one JSON line
    # per span on stderr) or ``otlp`` (OTLP over HTTP/protobuf to the endpoint, a collector's /v1/traces).
    otel_exporter: Literal["none", "console", "otlp"] = "none"
    otel_exporter_otlp_endpoint: str = "http://127.0.0.1:4318/v1/traces"

    # The identity service's public keys (platform/identity.py), one setting for every service
    # (``KIWI_IDENTITY_JWKS_URL``): bearer tokens are verified against them. ``http(s)://`` is fetched and
    # cached; ``file:///path/jwks.json`` reads a JWKS mounted next to the process (no call to identity at all).
    identity_jwks_url: str = "http://127.0.0.1:8089/.well-known/jwks.json"


class ServiceSettings(BaseSettings):
    """Base for a service's settings; subclasses set ``env_prefix`` to ``KIWI_<SERVICE>_`` and defaults."""

    model_config = SettingsConfigDict(extra="ignore")

    host: str = "127.0.0.1"
    port: int = 8000
    node_id: int = Field(default=0, ge=0, le=1023)
    db_name: str = ""
    db_pool_size: int = 10
    db_max_overflow: int = 10
    # A request body above this is refused with 413 PAYLOAD_TOO_LARGE before it is parsed (platform/limits.py).
    max_body_bytes: int = Field(default=64 * 1024, ge=1)

    outbox_batch_size: int = 500
    outbox_poll_interval_s: float = 1.0
    outbox_lease_s: float = 30.0
    outbox_backoff_base_s: float = 0.5
    outbox_backoff_max_s: float = 30.0
    outbox_retention_hours: float = 72.0
    # On a clean stop the relay publishes what is due for up to this long before the process exits.
    outbox_drain_on_stop_s: float = 5.0

    consumer_retry_backoff_s: tuple[float, ...] = (1.0, 2.0, 4.0)
    consumer_max_poll_records: int = 100

    infra: InfraSettings = Field(default_factory=InfraSettings)
