"""Settings of the Toss emulator: environment variables ``KIWI_TOSS_EMULATOR_*``.

Key lists accept a comma-separated string (``KIWI_TOSS_EMULATOR_SECRET_KEYS=test_sk_a,test_sk_b``) or a
JSON list. The fault settings are only start values: ``PUT /emulator/faults`` changes them at run time.

State: in memory unless ``KIWI_TOSS_EMULATOR_DATA_PATH`` names a SQLite file (created with its folders if
missing). With a file, every payment, the completed idempotent responses (until they expire) and the
counters are written before each answer leaves, so a restarted emulator still knows them; requests in
flight, the fault settings and the clock offset start afresh. One emulator per file: the file stays
locked while it runs, and a file that cannot be opened or is not an emulator state file stops the start.
``POST /emulator/reset`` empties the file too.

Webhooks: every payment status change (and every cancel) is POSTed as ``PAYMENT_STATUS_CHANGED`` to
``KIWI_TOSS_EMULATOR_WEBHOOK_URL`` (empty: none are sent), in the background; a receiver that does not
answer 200 within ``_WEBHOOK_TIMEOUT_S`` gets it again after 1, 4, 16, 64, 256, 1024 and 4096 minutes, times
``_WEBHOOK_TIME_SCALE`` (0.001: a minute is 60 ms). Deliveries still to make are kept like payments.

Controls: every ``/emulator`` route but ``POST /emulator/payments`` (and the window) asks for
``Authorization: Bearer <KIWI_TOSS_EMULATOR_ADMIN_TOKEN>`` (local default ``ADMIN_TOKEN_DEFAULT``; tools send
``admin_headers()``). The window redirects only to ``KIWI_TOSS_EMULATOR_ALLOWED_REDIRECT_ORIGINS`` (``origins``;
default the local shop on :8080).

Caps (``bounds``): at most ``max_payments`` payments (then the oldest finished ones go; none finished: 503),
``max_stored_responses`` idempotent responses and ``max_pending_webhooks`` deliveries (then the oldest go), and
``max_cancels_per_payment`` cancels of one payment (then NOT_CANCELABLE_PAYMENT).
"""

from __future__ import annotations

import json
import os
from collections.abc import Mapping
from typing import Annotated, Any

from pydantic import Field, SecretStr, field_validator, model_validator
from pydantic_settings import NoDecode, SettingsConfigDict

from kiwishop.platform.settings import ServiceSettings
from kiwishop.toss_emulator.origins import parse_origins

# Public Toss test keys (toss.md A7, API-individual keys of the official samples).
PUBLIC_TEST_SECRET_KEY = "test_sk_zXLkKEypNArWmo50nX3lmeaxYG5R"  # noqa: S105 - public documentation key
PUBLIC_TEST_CLIENT_KEY = "test_ck_D5GePWvyJnrK0W0k6q8gLzN97Eoq"
# The local stack's token for the /emulator controls; set KIWI_TOSS_EMULATOR_ADMIN_TOKEN anywhere else.
ADMIN_TOKEN_DEFAULT = "emulator-admin"  # noqa: S105 - a local default, like the public test keys
ADMIN_TOKEN_ENV = "KIWI_TOSS_EMULATOR_ADMIN_TOKEN"  # noqa: S105 - the variable's name, not a token

KeyList = Annotated[tuple[str, ...], NoDecode]
Rate = Annotated[float, Field(ge=0.0, le=1.0)]


class TossEmulatorSettings(ServiceSettings):
    model_config = SettingsConfigDict(env_prefix="KIWI_TOSS_EMULATOR_", extra="ignore")

    port: int = 8090
    node_id: int = 90

    secret_keys: KeyList = (PUBLIC_TEST_SECRET_KEY,)
    client_keys: KeyList = (PUBLIC_TEST_CLIENT_KEY,)

    latency_ms_min: int = Field(default=0, ge=0)
    latency_ms_max: int = Field(default=0, ge=0)
    fault_5xx_rate: Rate = 0.0
    fault_timeout_rate: Rate = 0.0
    fault_drop_rate: Rate = 0.0
    # Also inject faults into the GET lookups (by default only confirm and cancel get them).
    fault_lookups: bool = False
    hang_s: float = Field(default=30.0, ge=0.0)

    confirm_deadline_s: float = Field(default=600.0, gt=0.0)
    expire_after_s: float = Field(default=1800.0, gt=0.0)
    idempotency_ttl_s: float = Field(default=15 * 24 * 3600.0, gt=0.0)
    # Toss refuses a cancel of a payment within a second of its last cancel (FORBIDDEN_CONSECUTIVE_REQUEST).
    cancel_interval_s: float = Field(default=1.0, ge=0.0)

    # Where PAYMENT_STATUS_CHANGED goes (order's receiver in the local stack); "" sends no webhooks.
    webhook_url: str = "http://127.0.0.1:8080/api/webhooks/toss"
    # Scales the retry ladder (1, 4, …, 4096 minutes): 0.001 makes a minute 60 ms, for tests.
    webhook_time_scale: float = Field(default=1.0, gt=0.0)
    webhook_timeout_s: float = Field(default=3.0, gt=0.0, le=60.0)

    # "" keeps the state in memory; a path keeps it in that SQLite file across restarts.
    data_path: str = ""

    # Bearer token of the /emulator controls (faults, stats, reset, clock, changes at the PSP).
    admin_token: SecretStr = SecretStr(ADMIN_TOKEN_DEFAULT)
    # Origins successUrl and failUrl may point at (origins.py); "http://127.0.0.1:*": any port of a loopback host.
    allowed_redirect_origins: KeyList = ("http://localhost:8080", "http://127.0.0.1:8080")

    max_payments: int = Field(default=100_000, ge=1)
    max_stored_responses: int = Field(default=100_000, ge=1)
    max_pending_webhooks: int = Field(default=100_000, ge=1)
    max_cancels_per_payment: int = Field(default=100, ge=1)

    @field_validator("secret_keys", "client_keys", "allowed_redirect_origins", mode="before")
    @classmethod
    def _split(cls, value: Any) -> Any:
        if isinstance(value, str):
            text = value.strip()
            if text.startswith("["):
                return tuple(json.loads(text))
            return tuple(part.strip() for part in text.split(",") if part.strip())
        return value

    @model_validator(mode="after")
    def _consistent(self) -> TossEmulatorSettings:
        if self.latency_ms_min > self.latency_ms_max:
            raise ValueError("latency_ms_min must not exceed latency_ms_max")
        if self.fault_5xx_rate + self.fault_timeout_rate + self.fault_drop_rate > 1.0 + 1e-9:
            raise ValueError("the fault rates must add up to at most 1")
        if not self.secret_keys or not self.client_keys:
            raise ValueError("at least one secret key and one client key are needed")
        if self.webhook_url and not self.webhook_url.startswith(("http://", "https://")):
            raise ValueError("webhook_url must be an http(s) URL, or empty to send no webhooks")
        if not self.admin_token.get_secret_value().strip():
            raise ValueError("admin_token must not be empty")
        parse_origins(self.allowed_redirect_origins)  # ValueError for an entry that is not an origin
        return self


def admin_headers(env: Mapping[str, str] | None = None) -> dict[str, str]:
    """The header a tool or test sends to the /emulator controls: the emulator's token as ``env`` (the process's
    environment by default) sets it, else the local default."""
    token = (os.environ if env is None else env).get(ADMIN_TOKEN_ENV) or ADMIN_TOKEN_DEFAULT
    return {"Authorization": f"Bearer {token}"}
