from __future__ import annotations

from pydantic import Field
from pydantic_settings import SettingsConfigDict

from kiwishop.contracts.topics import PRODUCT_REVIEW
from kiwishop.platform.settings import ServiceSettings


class CatalogReviewSettings(ServiceSettings):
    model_config = SettingsConfigDict(env_prefix="KIWI_CATALOG_REVIEW_", extra="ignore")

    port: int = 8085
    node_id: int = Field(default=5, ge=0, le=1023)
    db_name: str = "payment_msa_v2_catalog_review"
    db_pool_size: int = 20
    db_max_overflow: int = 20

    # Product existence is checked against catalog (GET /products/{productNo}) before a review is written.
    catalog_url: str = "http://127.0.0.1:8081"
    catalog_timeout_s: float = 1.0
    known_products_cache_size: int = 10_000
    # Whole-transaction re-runs on a deadlock or lock timeout.
    conflict_attempts: int = 10
    topic: str = PRODUCT_REVIEW  # where the review events go (tests use their own)
