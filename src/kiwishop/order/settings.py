from __future__ import annotations

from pydantic import SecretStr
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

    # How long a confirm that finds another confirm of the same order in flight waits for its outcome.
    confirm_wait_s: float = 10.0
    # Recovery of UNKNOWN and stale EXECUTING payments.
    recovery_interval_s: float = 5.0
    recovery_min_age_s: float = 2.0
    executing_stale_s: float = 60.0
    failure_threshold: int = 5
    max_products_per_order: int = 50

    # Where PAYMENT_CONFIRM goes and where WALLET_SETTLED comes from (tests give each run its own topics).
    payment_topic: str = PAYMENT
    wallet_topic: str = WALLET
    wallet_group_id: str = "order-wallet-result"
