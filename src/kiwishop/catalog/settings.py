from __future__ import annotations

from pydantic_settings import SettingsConfigDict

from kiwishop.contracts.topics import SELLER
from kiwishop.platform.settings import ServiceSettings


class CatalogSettings(ServiceSettings):
    model_config = SettingsConfigDict(env_prefix="KIWI_CATALOG_", extra="ignore")

    port: int = 8081
    node_id: int = 1
    db_name: str = "payment_msa_v2_catalog"
    # productNoList holds at most this many ids (CTG0004 above): as many as one checkout takes (order's 50 lines).
    max_products_per_lookup: int = 50

    # Where seller's SELLER_REGISTERED / SELLER_DEREGISTERED come from (tests give each run its own topic).
    seller_topic: str = SELLER
    seller_group_id: str = "catalog-seller"
