"""Check deploy/compose.yaml against the code, offline: reads the resolved file (`docker-compose config`) on stdin.

For every `kiwishop serve <name>` container: each KIWI_* variable is a setting that service reads (a typo
would be ignored silently otherwise), the settings validate, the service listens on 0.0.0.0, the health
check and the published port use the port it listens on, node ids differ, it waits for the migrate job,
and a service with a schema logs in as its own user, which deploy/mysql/init creates. Every service the
code defines must be in the file. Then the transport-security checks of check_security.py: published ports,
Kafka users and ACLs against the code, MySQL over TLS. Run with the project's environment:
  docker-compose config | .venv/bin/python deploy/check_settings.py     (check.sh does)
"""

from __future__ import annotations

import re
import sys
from pathlib import Path
from typing import Any

import check_security as security
import yaml

from kiwishop.platform.service import ServiceDefinition
from kiwishop.platform.settings import InfraSettings, ServiceSettings
from kiwishop.services import definitions

HERE = Path(__file__).parent
INIT_SCRIPT = HERE / "mysql" / "init" / "10-kiwishop.sh"
INFRA_VARS = {f"KIWI_{name.upper()}" for name in InfraSettings.model_fields}


def settings_from(cls: type[ServiceSettings], env: dict[str, str]) -> ServiceSettings:
    with security.environment(env):
        return cls()


def check_security(
    name: str, definition: ServiceDefinition, spec: dict[str, Any], raw: dict[str, Any], settings: ServiceSettings
) -> list[str]:
    """The container's Kafka user and ACLs against its code, and its TLS to MySQL (check_security.py)."""
    env = {k: str(v) for k, v in (spec.get("environment") or {}).items()}
    raw_env = (raw.get(name) or {}).get("environment") or {}
    errors = security.kafka_errors(name, definition.name, raw_env, settings.infra, security.kafka_use(definition, env))
    if settings.db_name:
        errors += security.db_errors(name, spec, settings.infra, env.get("KIWI_DB_USER", "root"))
    return errors


def check_service(
    name: str, spec: dict[str, Any], cls: type[ServiceSettings], init_schemas: set[str]
) -> tuple[list[str], ServiceSettings | None]:
    env = {k: str(v) for k, v in (spec.get("environment") or {}).items()}
    prefix = cls.model_config["env_prefix"]
    known = INFRA_VARS | {f"{prefix}{field.upper()}" for field in cls.model_fields if field != "infra"}
    errors = [f"{name}: {var} is not a setting of this service" for var in env if var not in known]
    try:
        settings = settings_from(cls, env)
    except Exception as exc:  # pydantic's ValidationError, printed as it is
        return [*errors, f"{name}: settings do not validate: {exc}"], None
    if not 0 <= settings.node_id <= 1023:
        errors.append(f"{name}: node id {settings.node_id} is outside 0-1023")
    if settings.host != "0.0.0.0":
        errors.append(f"{name}: {prefix}HOST must be 0.0.0.0 in a container")
    if f":{settings.port}/health/ready" not in " ".join(spec.get("healthcheck", {}).get("test", [])):
        errors.append(f"{name}: the health check does not probe /health/ready on port {settings.port}")
    published = {
        int(str(p.get("target", p) if isinstance(p, dict) else p).split(":")[-1].split("/")[0])
        for p in spec.get("ports", [])
    }
    if published and published != {settings.port}:
        errors.append(f"{name}: publishes {sorted(published)} but listens on {settings.port}")
    if name != "toss-emulator":
        if (spec.get("depends_on") or {}).get("migrate", {}).get("condition") != "service_completed_successfully":
            errors.append(f"{name}: must wait for migrate (service_completed_successfully)")
        if not settings.infra.kafka_idempotent_producer or settings.infra.topic_replication_factor != 3:
            errors.append(f"{name}: idempotent producer and replication factor 3 expected")
    if settings.db_name:
        user = env.get("KIWI_DB_USER", "root")
        schema = settings.db_name.removeprefix("payment_msa_v2_")
        if user != f"kiwi_{schema}" or schema not in init_schemas:
            errors.append(f"{name}: {settings.db_name} needs user kiwi_{schema} from {INIT_SCRIPT.name}, got {user}")
    return errors, settings


def main() -> int:
    services = yaml.safe_load(sys.stdin)["services"]
    raw = yaml.safe_load((HERE / "compose.yaml").read_text())["services"]  # before interpolation: ${VARIABLE}s
    match = re.search(r"for service in ([a-z_ ]+); do", INIT_SCRIPT.read_text())
    init_schemas = set(match.group(1).split()) if match else set()
    errors: list[str] = security.settings_exist()
    node_ids: dict[int, str] = {}
    service_of: dict[str, str] = {}
    kafka_users: dict[str, str] = {}
    for definition in definitions():
        found = [n for n, s in services.items() if s.get("command") == ["kiwishop", "serve", definition.name]]
        if not found:
            errors.append(f"{definition.name}: no container runs `kiwishop serve {definition.name}`")
        for name in found:
            service_of[name] = definition.name
            problems, settings = check_service(name, services[name], definition.settings_class, init_schemas)
            errors += problems
            if settings is not None and definition.name != "toss-emulator":
                errors += check_security(name, definition, services[name], raw, settings)
                if settings.infra.kafka_sasl_username:
                    kafka_users[definition.name] = settings.infra.kafka_sasl_username
            if settings is not None and settings.node_id in node_ids:
                errors.append(f"{name}: node id {settings.node_id} already used by {node_ids[settings.node_id]}")
            if settings is not None:
                node_ids[settings.node_id] = name
    migrate = services.get("migrate", {})
    if "kiwishop migrate" not in " ".join(migrate.get("command", [])):
        errors.append("migrate: must run `kiwishop migrate` and `kiwishop topics`")
    errors += [
        f"migrate: {var} is not an infrastructure setting"
        for var in migrate.get("environment", {})
        if var.startswith("KIWI_") and var not in INFRA_VARS
    ]
    errors += security.migrate_errors(migrate, (raw.get("migrate") or {}).get("environment") or {})
    errors += security.port_errors(services, service_of)
    errors += security.ownership_errors(kafka_users)
    for error in errors:
        print(f"check_settings: {error}", file=sys.stderr)
    print(f"check_settings: {len(node_ids)} service containers, {'OK' if not errors else f'{len(errors)} problem(s)'}")
    return 1 if errors else 0


if __name__ == "__main__":
    sys.exit(main())
