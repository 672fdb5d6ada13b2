from __future__ import annotations

from pydantic import Field, model_validator
from pydantic_settings import SettingsConfigDict

from kiwishop.contracts.topics import PAYMENT, PRODUCT_LIKE, PRODUCT_REVIEW
from kiwishop.platform.settings import ServiceSettings


class HotCatalogSettings(ServiceSettings):
    """hot-catalog has no SQL database (C13): Redis, the broker and catalog over HTTP."""

    model_config = SettingsConfigDict(env_prefix="KIWI_HOT_CATALOG_", extra="ignore")

    port: int = 8084
    node_id: int = Field(default=4, ge=0, le=1023)
    db_name: str = ""

    catalog_url: str = "http://127.0.0.1:8081"
    catalog_timeout_s: float = 1.0

    # score = like_weight·likes + review_weight·reviews + star_weight·star sum + payment_weight·paid order lines
    like_weight: int = Field(default=2, ge=0)
    review_weight: int = Field(default=3, ge=0)
    star_weight: int = Field(default=5, ge=0)
    payment_weight: int = Field(default=10, ge=1)

    key_prefix: str = "hot-catalogs"
    ranking_capacity: int = Field(default=10_000, ge=0)  # members kept in the ranking ZSET; 0 = no limit
    applied_event_ttl_s: int = Field(default=7 * 24 * 3600, ge=60)  # how long an applied event id is remembered
    list_size: int = Field(default=10, ge=1, le=100)
    candidates: int = Field(default=30, ge=1)  # ids read per Redis page, so unknown ids do not shorten the list
    product_cache_ttl_s: float = Field(default=30.0, ge=0)  # catalog data (name, price) kept in-process
    hot_list_cache_ttl_s: float = Field(default=0.5, ge=0)  # the rendered list kept in-process; 0 = off

    consumer_group: str = "hot-catalog-service"
    like_topic: str = PRODUCT_LIKE
    review_topic: str = PRODUCT_REVIEW
    payment_topic: str = PAYMENT

    @model_validator(mode="after")
    def _a_purchase_weighs_more_than_a_like(self) -> HotCatalogSettings:
        if self.payment_weight <= self.like_weight:
            raise ValueError("payment_weight must be greater than like_weight (a purchase weighs more than a like)")
        return self
