"""Service processes on free ports against given servers — for benchmarks and drills.

``Fleet(infra, log_dir)`` starts ``kiwishop serve <name>`` processes the way `make run` does, but with
every port free-chosen and every cross-service URL pointing at the fleet's own processes. It can kill
(-9) and restart a service, which is what the fault drills do.

Every service checks bearer tokens: a fleet holds its own signing key (``env["KIWI_IDENTITY_SIGNING_KEY"]``)
and ``tokens`` mints from it the members', sellers' and ops' tokens its driver sends. The services verify them
against the fleet's identity process when it runs one, or else against a JWKS file of that key (``start``).
"""

from __future__ import annotations

import functools
import json
import os
import sys
import urllib.error
import urllib.request
from pathlib import Path

from kiwishop.identity.keys import generate_private_pem, signing_keys
from kiwishop.platform.settings import InfraSettings
from kiwishop_dev.devstack.procs import ManagedProcess, free_port, wait_until
from kiwishop_dev.tokens import TokenMint

# env prefix per service name, and the URL settings other services use to reach it
PREFIX = {
    "catalog": "KIWI_CATALOG_",
    "toss-emulator": "KIWI_TOSS_EMULATOR_",
    "identity": "KIWI_IDENTITY_",
    "order": "KIWI_ORDER_",
    "wallet": "KIWI_WALLET_",
    "seller": "KIWI_SELLER_",
    "catalog-like": "KIWI_CATALOG_LIKE_",
    "catalog-review": "KIWI_CATALOG_REVIEW_",
    "hot-catalog": "KIWI_HOT_CATALOG_",
    "order-query": "KIWI_ORDER_QUERY_",
    "console": "KIWI_CONSOLE_",
}
URL_SETTINGS = {
    "catalog": ("KIWI_ORDER_CATALOG_URL", "KIWI_CATALOG_LIKE_CATALOG_URL", "KIWI_CATALOG_REVIEW_CATALOG_URL",
                "KIWI_HOT_CATALOG_CATALOG_URL", "KIWI_CONSOLE_CATALOG_URL"),
    "toss-emulator": ("KIWI_ORDER_TOSS_API_URL", "KIWI_CONSOLE_PSP_URL"),
    "hot-catalog": ("KIWI_ORDER_HOT_CATALOG_URL", "KIWI_CONSOLE_HOT_CATALOG_URL"),
    "order": ("KIWI_ORDER_QUERY_ORDER_URL", "KIWI_CONSOLE_ORDER_URL"),
    "wallet": ("KIWI_ORDER_WALLET_URL", "KIWI_CONSOLE_WALLET_URL"),
    "order-query": ("KIWI_ORDER_ORDER_QUERY_URL", "KIWI_CONSOLE_ORDER_QUERY_URL"),
    "identity": ("KIWI_ORDER_IDENTITY_URL", "KIWI_CONSOLE_IDENTITY_URL"),
    # the console reads every service's ops endpoints and readiness
    "seller": ("KIWI_CONSOLE_SELLER_URL",),
    "catalog-like": ("KIWI_CONSOLE_CATALOG_LIKE_URL",),
    "catalog-review": ("KIWI_CONSOLE_CATALOG_REVIEW_URL",),
}  # fmt: skip


def infra_env(infra: InfraSettings) -> dict[str, str]:
    return {
        "KIWI_DB_HOST": infra.db_host,
        "KIWI_DB_PORT": str(infra.db_port),
        "KIWI_DB_USER": infra.db_user,
        "KIWI_DB_PASSWORD": infra.db_password.get_secret_value(),
        "KIWI_REDIS_URL": infra.redis_url,
        "KIWI_KAFKA_BOOTSTRAP_SERVERS": infra.kafka_bootstrap_servers,
        "KIWI_KAFKA_SESSION_TIMEOUT_MS": str(infra.kafka_session_timeout_ms),
        "KIWI_KAFKA_HEARTBEAT_INTERVAL_MS": str(infra.kafka_heartbeat_interval_ms),
        "KIWI_KAFKA_FETCH_MAX_WAIT_MS": str(infra.kafka_fetch_max_wait_ms),
        "KIWI_LOG_LEVEL": "WARNING",
    }


def service_ports_env(ports: dict[str, int]) -> dict[str, str]:
    """Each service's port setting, and every URL setting that points at it."""
    env = {}
    for name, port in ports.items():
        env[f"{PREFIX[name]}PORT"] = str(port)
        for setting in URL_SETTINGS.get(name, ()):
            env[setting] = f"http://127.0.0.1:{port}"
    if "toss-emulator" in ports:
        env["KIWI_ORDER_TOSS_SDK_URL"] = f"http://localhost:{ports['toss-emulator']}/v1/payment"
    if "identity" in ports:  # every service verifies bearer tokens against this identity's keys
        env["KIWI_IDENTITY_JWKS_URL"] = f"http://127.0.0.1:{ports['identity']}/.well-known/jwks.json"
    if "order" in ports:  # the emulator's webhooks reach this fleet's order, never another stack's
        env["KIWI_TOSS_EMULATOR_WEBHOOK_URL"] = f"http://127.0.0.1:{ports['order']}/api/webhooks/toss"
        env["KIWI_TOSS_EMULATOR_ALLOWED_REDIRECT_ORIGINS"] = (  # the window sends buyers back to this order only
            f"http://localhost:{ports['order']},http://127.0.0.1:{ports['order']}"
        )
    return env


class Fleet:
    def __init__(self, infra: InfraSettings, log_dir: Path, extra_env: dict[str, str] | None = None) -> None:
        self.log_dir = log_dir
        self.ports = {name: free_port() for name in PREFIX}
        self.env = {**os.environ, **infra_env(infra), **service_ports_env(self.ports)}
        self.env.update(extra_env or {})
        self.env.setdefault("KIWI_IDENTITY_SIGNING_KEY", generate_private_pem())  # the same key across restarts
        # The drills and benchmarks are a few hundred members buying at machine speed: the per-member request
        # limits (a person's pace) would only measure themselves. Off unless a run sets them.
        for limit in ("CHECKOUTS", "CONFIRMS", "CANCELS"):
            self.env.setdefault(f"KIWI_ORDER_RATE_LIMIT_{limit}", "0")
        self.env.setdefault("KIWI_SELLER_RATE_LIMIT_REGISTRATIONS", "0")
        # The console's collection loop reads the services' ops endpoints with an ops token of the fleet's key.
        self.env.setdefault("KIWI_CONSOLE_SERVICE_TOKEN", self.tokens.ops())
        self.procs: dict[str, ManagedProcess] = {}

    def url(self, name: str) -> str:
        return f"http://127.0.0.1:{self.ports[name]}"

    @functools.cached_property
    def tokens(self) -> TokenMint:
        """Tokens this fleet's services accept: signed with its key, as its identity service would sign them."""
        return TokenMint(self.env["KIWI_IDENTITY_SIGNING_KEY"])

    def start(self, *names: str, timeout_s: float = 60) -> None:
        if "identity" not in names and "identity" not in self.procs:
            self._jwks_file()
        for name in names:
            proc = ManagedProcess(
                name, [sys.executable, "-m", "kiwishop", "serve", name], self.log_dir / f"{name}.log", env=self.env
            )
            proc.start()
            self.procs[name] = proc
        for name in names:
            wait_until(functools.partial(self._ready, name), timeout_s, f"{name} to be ready", interval_s=0.1)

    def _jwks_file(self) -> None:
        """No identity process here to fetch keys from (a benchmark of a few services): the services read the
        fleet key's JWKS from a file instead (``file://``, no identity call at all)."""
        path = (self.log_dir / "identity-jwks.json").resolve()
        path.parent.mkdir(parents=True, exist_ok=True)
        path.write_text(json.dumps(signing_keys(self.env["KIWI_IDENTITY_SIGNING_KEY"]).jwks()))
        self.env["KIWI_IDENTITY_JWKS_URL"] = path.as_uri()

    def _ready(self, name: str) -> bool:
        if not self.procs[name].alive():
            raise RuntimeError(f"{name} exited during start-up; see {self.procs[name].log_path}")
        try:
            with urllib.request.urlopen(f"{self.url(name)}/health/ready", timeout=1) as response:  # noqa: S310
                return bool(response.status == 200)
        except (urllib.error.URLError, OSError):
            return False

    def kill(self, name: str) -> None:
        """kill -9, as a crash would."""
        self.procs[name].kill()

    def restart(self, name: str) -> None:
        self.procs[name].stop()
        self.start(name)

    def stop(self) -> None:
        for proc in reversed(list(self.procs.values())):
            proc.stop()
        self.procs.clear()
