from __future__ import annotations

from pydantic import Field, SecretStr
from pydantic_settings import SettingsConfigDict

from kiwishop.contracts.topics import PAYMENT, PRODUCT_LIKE, PRODUCT_REVIEW, SELLER, WALLET
from kiwishop.platform.settings import ServiceSettings

# The Toss emulator's public test key (toss.md A7), as order's settings default to it: the local stack's PSP.
# Production sets KIWI_CONSOLE_PSP_SECRET_KEY to order's real secret key (reconcile asks the PSP as order).
LOCAL_PSP_SECRET_KEY = "test_sk_zXLkKEypNArWmo50nX3lmeaxYG5R"  # noqa: S105 - public documentation key

# Every consumer group of the shop and the topics it reads (the services' ``runtime.consume`` calls, with their
# default group ids). Tansu answers ListGroups but not an OffsetFetch for all of a group's topics, so the topics
# of a group come from here; a group missing from the broker's list is shown as not (yet) joined.
CONSUMER_GROUPS: dict[str, tuple[str, ...]] = {
    "wallet-settlement": (PAYMENT,),
    "wallet-creation": (SELLER,),
    "catalog-seller": (SELLER,),
    "hot-catalog-service": (PRODUCT_LIKE, PRODUCT_REVIEW, PAYMENT),
    "order-query": (PAYMENT,),
    "order-wallet-result": (WALLET,),
    "seller-registration": (WALLET,),
}


class ConsoleSettings(ServiceSettings):
    model_config = SettingsConfigDict(env_prefix="KIWI_CONSOLE_", extra="ignore")

    port: int = 8088
    node_id: int = Field(default=9, ge=0, le=1023)
    db_name: str = "payment_msa_v2_console"  # the audit of ops actions and the reconcile reports
    db_pool_size: int = 5
    db_max_overflow: int = 5

    # The services it reads over HTTP (their /api/ops/* with the caller's token, and /health/ready of each).
    order_url: str = "http://127.0.0.1:8080"
    catalog_url: str = "http://127.0.0.1:8081"
    wallet_url: str = "http://127.0.0.1:8082"
    seller_url: str = "http://127.0.0.1:8083"
    hot_catalog_url: str = "http://127.0.0.1:8084"
    catalog_review_url: str = "http://127.0.0.1:8085"
    catalog_like_url: str = "http://127.0.0.1:8086"
    order_query_url: str = "http://127.0.0.1:8087"
    identity_url: str = "http://127.0.0.1:8089"  # the login form posts to identity; so does the service login
    peer_timeout_s: float = Field(default=3.0, gt=0)
    # Actions that ask the PSP (a re-check, a cancel at the PSP) wait longer: order retries the PSP itself.
    action_timeout_s: float = Field(default=30.0, gt=0)
    cookie_secure: bool = False  # true where the console is served over HTTPS

    # The collection loop has no user's token: it reads the services' ops endpoints with this ops credential —
    # a token (KIWI_CONSOLE_SERVICE_TOKEN; the local stack mints one), or an ops account it logs in with and
    # re-logs in before the token expires. Neither set: it collects only what needs no token (Kafka, readiness,
    # reconcile) and leaves the outbox, payment and registration gauges out.
    service_token: SecretStr = SecretStr("")
    service_login_id: str = ""
    service_password: SecretStr = SecretStr("")
    collect_interval_s: float = Field(default=15.0, gt=0)
    reconcile_interval_s: float = Field(default=600.0, ge=0)  # 0: only on demand

    # Reconcile (kiwishop.ops.reconcile): order's and wallet's schemas, read-only, and the PSP asked as order.
    order_db_name: str = "payment_msa_v2_order"
    wallet_db_name: str = "payment_msa_v2_wallet"
    psp_url: str = "http://127.0.0.1:8090"
    psp_secret_key: SecretStr = SecretStr(LOCAL_PSP_SECRET_KEY)
    reconcile_lag_bound_s: float = Field(default=60.0, gt=0)
    reconcile_recovery_window_s: float = Field(default=300.0, gt=0)

    consumer_groups: dict[str, tuple[str, ...]] = Field(default_factory=lambda: dict(CONSUMER_GROUPS))
    payments_limit: int = Field(default=50, ge=1, le=500)  # rows per payment list
    registrations_limit: int = Field(default=50, ge=1, le=100)
    dead_letters_limit: int = Field(default=200, ge=1)  # records a dead-letter page shows
    kafka_timeout_s: float = Field(default=20.0, gt=0)  # one Kafka read of the overview (lag, dead letters)

    def service_urls(self) -> dict[str, str]:
        """Every service the console watches, by name: readiness of all, the outbox of those with one."""
        return {
            "order": self.order_url, "catalog": self.catalog_url, "wallet": self.wallet_url,
            "seller": self.seller_url, "hot-catalog": self.hot_catalog_url, "catalog-review": self.catalog_review_url,
            "catalog-like": self.catalog_like_url, "order-query": self.order_query_url, "identity": self.identity_url,
        }  # fmt: skip


OUTBOX_SERVICES = ("order", "wallet", "seller", "catalog-like", "catalog-review")  # GET /api/ops/outbox
