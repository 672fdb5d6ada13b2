from __future__ import annotations

from pydantic import Field, SecretStr, model_validator
from pydantic_settings import SettingsConfigDict

from kiwishop.contracts.topics import PAYMENT, WALLET
from kiwishop.platform.settings import ServiceSettings

# Public Toss test keys (toss.md A7). They are defaults for the local stack only; real keys come from
# KIWI_ORDER_TOSS_SECRET_KEY / KIWI_ORDER_TOSS_CLIENT_KEY together with the real URLs below.
TEST_SECRET_KEY = "test_sk_zXLkKEypNArWmo50nX3lmeaxYG5R"  # noqa: S105 - public documentation key
TEST_CLIENT_KEY = "test_ck_D5GePWvyJnrK0W0k6q8gLzN97Eoq"


class OrderSettings(ServiceSettings):
    model_config = SettingsConfigDict(env_prefix="KIWI_ORDER_", extra="ignore")

    port: int = 8080
    node_id: int = 0
    db_name: str = "payment_msa_v2_order"

    catalog_url: str = "http://127.0.0.1:8081"
    hot_catalog_url: str = "http://127.0.0.1:8084"
    # What the seller page (/seller) reads over HTTP: the wallet's balance and transactions, and order-query's
    # sales by product. Either one down leaves the page up, with a notice.
    wallet_url: str = "http://127.0.0.1:8082"
    order_query_url: str = "http://127.0.0.1:8087"
    # The pages' login (GET/POST /login) asks identity for a token and keeps it in the kiwi_session cookie.
    identity_url: str = "http://127.0.0.1:8089"
    # The pages' cookies carry Secure: true wherever the shop is served over HTTPS (behind the TLS proxy of
    # deploy/); false locally, where the pages are plain http://localhost and a Secure cookie would never come back.
    cookie_secure: bool = False

    # Toss Payments: the API base the server calls, and the SDK script the browser loads.
    # Real Toss: https://api.tosspayments.com and https://js.tosspayments.com/v1/payment.
    toss_api_url: str = "http://127.0.0.1:8090"
    toss_sdk_url: str = "http://localhost:8090/v1/payment"
    toss_secret_key: SecretStr = SecretStr(TEST_SECRET_KEY)
    toss_client_key: str = TEST_CLIENT_KEY
    psp_connect_timeout_s: float = 2.0
    psp_read_timeout_s: float = 10.0
    psp_max_attempts: int = 3
    psp_retry_base_s: float = 0.2

    # Per-member request limits (platform/ratelimit.py; 429 with Retry-After past them; 0 = no limit): a member
    # may start this many checkouts, confirms and cancels per window, through the API and the pages alike.
    rate_limit_window_s: float = Field(default=60.0, gt=0)
    rate_limit_checkouts: int = Field(default=30, ge=0)
    rate_limit_confirms: int = Field(default=30, ge=0)
    rate_limit_cancels: int = Field(default=20, ge=0)

    # How long a confirm that finds another confirm of the same order in flight waits for its outcome.
    confirm_wait_s: float = 10.0
    # Recovery of payments in doubt (verdicts only on the PSP's evidence, see order/verdicts.py).
    recovery_interval_s: float = Field(default=1.0, gt=0)  # how often due orders are looked for
    # An EXECUTING confirm older than this is taken over (the process that started it died).
    executing_stale_s: float = Field(default=60.0, gt=0)
    # Per-order backoff between attempts while in doubt: base · 2^n, capped, jittered down to half.
    recovery_backoff_base_s: float = Field(default=1.0, gt=0)
    recovery_backoff_max_s: float = Field(default=60.0, gt=0)
    # In doubt longer than this → QUARANTINED (a person decides; the PSP is still asked every
    # quarantine_recheck_s in case its word arrives).
    recovery_horizon_s: float = Field(default=24 * 3600.0, gt=0)
    quarantine_recheck_s: float = Field(default=3600.0, gt=0)
    # "No such payment" is final only this long after the first confirm: at least the PSP's confirm deadline
    # (Toss: 10 minutes after the buyer authorised, which happened before our first confirm).
    psp_confirm_deadline_s: float = Field(default=600.0, gt=0)
    authorization_window_s: float = Field(default=900.0, gt=0)
    max_products_per_order: int = 50

    # Settlement that heals itself: a paid order not is_wallet_done after the grace gets its PAYMENT_CONFIRM
    # published again (same eventId), then again after 2·grace, 4·grace … up to the cap.
    settlement_grace_s: float = Field(default=30.0, gt=0)
    settlement_republish_max_s: float = Field(default=600.0, gt=0)
    settlement_interval_s: float = Field(default=1.0, gt=0)
    settlement_republish_batch: int = Field(default=100, ge=1)  # re-publishes per interval, at most

    # Where PAYMENT_CONFIRM goes and where WALLET_SETTLED comes from (tests give each run its own topics).
    payment_topic: str = PAYMENT
    wallet_topic: str = WALLET
    wallet_group_id: str = "order-wallet-result"

    @model_validator(mode="after")
    def _window_covers_the_psp_deadline(self) -> OrderSettings:
        if self.authorization_window_s < self.psp_confirm_deadline_s:
            raise ValueError("authorization_window_s must be at least psp_confirm_deadline_s")
        return self
