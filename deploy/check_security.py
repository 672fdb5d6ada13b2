"""Transport-security checks of deploy/compose.yaml against the code, for deploy/check_settings.py (offline).

- The security settings the file uses exist in InfraSettings (a renamed one would be ignored silently).
- Only the shop's public services publish a port, and only their own; kafka-ui only on 127.0.0.1 and behind a
  profile; the Toss emulator only with the demo profile.
- Every service container that talks to Kafka logs in over SASL as its own user, ``kiwi-<service>``, with its
  own password variable; one that does not talk to Kafka has no Kafka user at all.
- deploy/kafka/users-and-acls.sh grants each user exactly what its code does: WRITE on the topics it produces
  and on the dead-letter topics of what it consumes, READ on what it consumes and on its consumer groups (read
  from the app each service builds). Each business topic is written only by the owner of its event types
  (src/kiwishop/contracts/events.py): kiwi-shop-payment by order alone (besides the operators' redrive user).
- A service with a schema connects to MySQL over verified TLS (the CA from a Compose secret) as a user the init
  script makes with REQUIRE SSL; the migrate job too.
"""

from __future__ import annotations

import contextlib
import logging
import os
import re
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from kiwishop.contracts.events import EVENT_TYPES
from kiwishop.contracts.topics import BUSINESS_TOPICS
from kiwishop.platform.service import ServiceDefinition
from kiwishop.platform.settings import InfraSettings

HERE = Path(__file__).parent
ACL_SCRIPT = HERE / "kafka" / "users-and-acls.sh"
INIT_SCRIPT = HERE / "mysql" / "init" / "10-kiwishop.sh"
SECURITY_SETTINGS = (
    "db_ssl_required",
    "db_ssl_ca",
    "db_ssl_verify_identity",
    "kafka_security_protocol",
    "kafka_sasl_mechanism",
    "kafka_sasl_username",
    "kafka_sasl_password",
    "kafka_ssl_cafile",
)
PUBLIC_PORTS = {  # service → the one port it publishes (the same number on the host)
    "order": 8080,
    "catalog": 8081,
    "hot-catalog": 8084,
    "catalog-review": 8085,
    "catalog-like": 8086,
    "order-query": 8087,
    "identity": 8089,
}
LOOPBACK_ONLY = {"kafka-ui", "prometheus", "grafana"}  # container names: 127.0.0.1 only, and only with a profile
OPS_PORTS = {"console": 8088}  # the ops console: always on, on the host's loopback only (SSH tunnel, VPN)
DEMO_ONLY = {"toss-emulator"}  # service names: only with the demo profile
# Operators' Kafka users: they read the dead letters, re-publish them to their topics and read group offsets — the
# ops tools (`kiwishop dlt`, reconcile) and the console, whose code declares no topics (ops/dlt.py, ops/redrive.py).
OPS_USERS = {"kiwi-ops", "kiwi-console"}
OPERATOR_SERVICES = {"console"}
SASL = {"SASL_PLAINTEXT", "SASL_SSL"}
GRANT = re.compile(r'^grant\s+(\S+)\s+(\S+)\s+"([^"]*)"\s+"([^"]*)"\s+"([^"]*)"', re.MULTILINE)


@dataclass(frozen=True)
class Grant:
    user: str
    password_var: str
    writes: frozenset[str]
    reads: frozenset[str]
    groups: frozenset[str]


@dataclass(frozen=True)
class KafkaUse:
    writes: frozenset[str]
    reads: frozenset[str]
    groups: frozenset[str]


def grants() -> dict[str, Grant]:
    found = {}
    for user, var, writes, reads, groups in GRANT.findall(ACL_SCRIPT.read_text()):
        found[user] = Grant(user, var, frozenset(writes.split()), frozenset(reads.split()), frozenset(groups.split()))
    return found


@contextlib.contextmanager
def environment(env: dict[str, str]) -> Iterator[None]:
    saved = dict(os.environ)
    try:
        os.environ.clear()
        os.environ.update(env)
        yield
    finally:
        os.environ.clear()
        os.environ.update(saved)


def kafka_use(definition: ServiceDefinition, env: dict[str, str]) -> KafkaUse | None:
    """What the service's code writes and reads, from the app it builds with the container's settings (none is
    started). Without the files that exist only in the container (the CAs), and keys are the only settings this
    offline check has no real value for (check.sh fills the secrets with a placeholder): if the app refuses the
    placeholder, it is built without them."""
    env = {k: v for k, v in env.items() if k not in ("KIWI_DB_SSL_CA", "KIWI_KAFKA_SSL_CAFILE")}
    logging.disable(logging.CRITICAL)
    try:
        try:
            with environment(env):
                app = definition.create_app(definition.settings_class())
        except Exception:
            with environment({k: v for k, v in env.items() if not k.endswith(("_KEY", "_KEYS"))}):
                app = definition.create_app(definition.settings_class())
    finally:
        logging.disable(logging.NOTSET)
    runtime = app.state.runtime
    declared: set[str] = set(runtime._topics)  # produced and consumed topics with the consumed ones' DLTs
    if not declared and runtime._publisher is None:
        return None
    consumed = {topic for consumer in runtime.consumers for topic in consumer._topics}
    dead_letters = {f"{topic}.DLT" for topic in consumed}
    return KafkaUse(
        writes=frozenset((declared - consumed - dead_letters) | dead_letters),
        reads=frozenset(consumed),
        groups=frozenset(consumer.group_id for consumer in runtime.consumers),
    )


def settings_exist() -> list[str]:
    return [f"InfraSettings has no {name}" for name in SECURITY_SETTINGS if name not in InfraSettings.model_fields]


def _ports(spec: dict[str, Any]) -> list[tuple[str, int, int]]:
    """(host ip, published, target) of each published port, from docker-compose v1's or v2's resolved form."""
    found = []
    for port in spec.get("ports", []):
        if isinstance(port, dict):
            found.append((str(port.get("host_ip", "")), int(port.get("published", 0)), int(port["target"])))
            continue
        parts = str(port).split("/")[0].split(":")
        ip = parts[0] if len(parts) == 3 else ""
        published = int(parts[-2]) if len(parts) >= 2 else 0
        found.append((ip, published, int(parts[-1])))
    return found


def port_errors(services: dict[str, Any], service_of: dict[str, str]) -> list[str]:
    """``service_of``: container → the service it serves (``kiwishop serve <service>``)."""
    errors = []
    for container, spec in services.items():
        ports = _ports(spec)
        if not ports:
            continue
        service = service_of.get(container, "")
        if container in LOOPBACK_ONLY:
            if any(ip != "127.0.0.1" for ip, _, _ in ports) or not spec.get("profiles"):
                errors.append(f"{container}: may publish on 127.0.0.1 only, and only behind a profile")
        elif service in OPS_PORTS:
            wanted = OPS_PORTS[service]
            if any((ip, published, target) != ("127.0.0.1", wanted, wanted) for ip, published, target in ports):
                errors.append(f"{container}: may publish 127.0.0.1:{wanted} only, publishes {ports}")
        elif service in DEMO_ONLY:
            if spec.get("profiles") != ["demo"]:
                errors.append(f"{container}: publishes a port but is not limited to the demo profile")
        elif service in PUBLIC_PORTS:
            wanted = PUBLIC_PORTS[service]
            if any((published, target) != (wanted, wanted) for _, published, target in ports):
                errors.append(f"{container}: may publish {wanted} only, publishes {ports}")
        else:
            errors.append(f"{container}: is not public and must publish no port, publishes {ports}")
    return errors


def _password_var(raw_env: dict[str, Any]) -> str:
    match = re.fullmatch(r"\$\{(\w+)(:?\?[^}]*)?\}", str(raw_env.get("KIWI_KAFKA_SASL_PASSWORD", "")))
    return match.group(1) if match else ""


def kafka_errors(
    name: str, service: str, raw_env: dict[str, Any], infra: InfraSettings, use: KafkaUse | None
) -> list[str]:
    """A service container's Kafka user against its code and the ACL script."""
    user, granted = f"kiwi-{service}", grants()
    if service in OPERATOR_SERVICES:  # uses Kafka as the ops tools do (no declared topics): its grant is its use
        if user not in granted:
            return [f"{name}: {ACL_SCRIPT.name} has no grant for {user}"]
        use = KafkaUse(granted[user].writes, granted[user].reads, granted[user].groups)
    if use is None:
        stray = infra.kafka_sasl_username or user in granted
        return [f"{name}: talks to no Kafka, so it must have no Kafka user"] if stray else []
    if infra.kafka_security_protocol not in SASL:
        return [f"{name}: talks to Kafka over {infra.kafka_security_protocol}, not SASL"]
    errors = []
    if infra.kafka_sasl_username != user or not infra.kafka_sasl_password.get_secret_value():
        errors.append(f"{name}: must log in to Kafka as {user} with a password, not {infra.kafka_sasl_username!r}")
    grant = granted.get(user)
    if grant is None:
        return [*errors, f"{name}: {ACL_SCRIPT.name} has no grant for {user}"]
    if _password_var(raw_env) != grant.password_var:
        errors.append(f"{name}: KIWI_KAFKA_SASL_PASSWORD must be ${{{grant.password_var}:?}}, the one kafka-setup sets")
    for what, code, acl in (("writes", use.writes, grant.writes), ("reads", use.reads, grant.reads)):
        if code != acl:
            errors.append(f"{name}: {user} {what} {sorted(acl)} in {ACL_SCRIPT.name}, its code {sorted(code)}")
    if use.groups != grant.groups:
        errors.append(
            f"{name}: {user} groups {sorted(grant.groups)} in {ACL_SCRIPT.name}, its code {sorted(use.groups)}"
        )
    return errors


def db_errors(name: str, spec: dict[str, Any], infra: InfraSettings, user: str) -> list[str]:
    """TLS to MySQL, verified against a CA that Compose mounts as a secret; the user made with REQUIRE SSL."""
    errors = []
    secrets = {s["source"] if isinstance(s, dict) else s for s in spec.get("secrets") or []}
    ca = infra.db_ssl_ca
    if not (infra.db_ssl_required and infra.db_ssl_verify_identity and ca.startswith("/run/secrets/")):
        errors.append(f"{name}: needs KIWI_DB_SSL_REQUIRED, KIWI_DB_SSL_VERIFY_IDENTITY and a CA from /run/secrets")
    elif ca.removeprefix("/run/secrets/") not in secrets:
        errors.append(f"{name}: KIWI_DB_SSL_CA {ca} is not one of its secrets {sorted(secrets)}")
    script = INIT_SCRIPT.read_text()
    required = "'kiwi_${service}'@'%' REQUIRE SSL" if user != "kiwi_migrate" else "'kiwi_migrate'@'%' REQUIRE SSL"
    if f"ALTER USER {required}" not in script:
        errors.append(f"{name}: {INIT_SCRIPT.name} does not make {user} REQUIRE SSL")
    return errors


def migrate_errors(spec: dict[str, Any], raw_env: dict[str, Any]) -> list[str]:
    env = {k: str(v) for k, v in (spec.get("environment") or {}).items()}
    with environment(env):
        infra = InfraSettings()
    errors = db_errors("migrate", spec, infra, "kiwi_migrate")
    script = ACL_SCRIPT.read_text()
    if infra.kafka_security_protocol not in SASL or infra.kafka_sasl_username != "kiwi-migrate":
        errors.append("migrate: must log in to Kafka over SASL as kiwi-migrate")
    var = _password_var(raw_env)
    if not var or f"user kiwi-migrate {var}\n" not in script:
        errors.append(
            f"migrate: its Kafka password variable {var!r} is not the one {ACL_SCRIPT.name} gives kiwi-migrate"
        )
    return errors


def ownership_errors(users_by_service: dict[str, str]) -> list[str]:
    """Each business topic is written by the owner of its event types only (and the operators' redrive user)."""
    errors = []
    granted = grants()
    known = set(users_by_service.values()) | OPS_USERS
    errors += [f"{ACL_SCRIPT.name}: grant for {u}, which no service container uses" for u in granted if u not in known]
    for topic in BUSINESS_TOPICS:
        owners = {f"kiwi-{t.owner}" for t in EVENT_TYPES if t.topic == topic}
        writers = {g.user for g in granted.values() if topic in g.writes} - OPS_USERS
        if writers != owners:
            errors.append(f"{topic}: written by {sorted(writers)}, but only {sorted(owners)} owns its events")
    return errors
