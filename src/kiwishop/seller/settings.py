from __future__ import annotations

from pydantic import Field
from pydantic_settings import SettingsConfigDict

from kiwishop.platform.settings import ServiceSettings


class SellerSettings(ServiceSettings):
    model_config = SettingsConfigDict(env_prefix="KIWI_SELLER_", extra="ignore")

    port: int = 8083
    node_id: int = 3
    db_name: str = "payment_msa_v2_seller"

    # The registration saga: a wallet request without an answer is re-sent after this many seconds …
    registration_timeout_s: float = Field(default=10.0, gt=0)
    # … and compensated (seller soft-deleted, saga COMPENSATED) once this many requests went unanswered.
    registration_max_attempts: int = Field(default=5, ge=1)
    sweep_interval_s: float = Field(default=1.0, gt=0)
    sweep_batch_size: int = Field(default=100, ge=1)

    # Sellers without a lifecycle event yet (the seed seller, rows older than the events) are announced by a
    # periodic job: how often it looks, and how many it announces per transaction.
    announce_interval_s: float = Field(default=5.0, gt=0)
    announce_batch_size: int = Field(default=100, ge=1)

    reply_group_id: str = "seller-registration"

    # Sign-up is open to anyone: at most this many registrations per client address per window (429 with
    # Retry-After past it; 0 = no limit; platform/ratelimit.py, open while Redis is down).
    rate_limit_registrations: int = Field(default=10, ge=0)
    rate_limit_window_s: float = Field(default=60.0, gt=0)
