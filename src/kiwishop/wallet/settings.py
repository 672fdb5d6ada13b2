from __future__ import annotations

from pydantic import Field
from pydantic_settings import SettingsConfigDict

from kiwishop.platform.params import PAGE_LIMIT_MAX
from kiwishop.platform.settings import ServiceSettings


class WalletSettings(ServiceSettings):
    model_config = SettingsConfigDict(env_prefix="KIWI_WALLET_", extra="ignore")

    port: int = 8082
    node_id: int = 2
    db_name: str = "payment_msa_v2_wallet"

    settlement_group_id: str = "wallet-settlement"
    creation_group_id: str = "wallet-creation"
    # Version conflicts on a wallet re-run the whole settlement this many times (jittered) before the
    # consumer's own retries take over.
    settlement_conflict_attempts: int = Field(default=8, ge=1)

    # A switch for exercising the saga's failure path: wallet creation requests whose sellerId matches this
    # regular expression (Python `re.search`) are refused with WALLET_CREATION_FAILED. Empty = refuse none.
    refuse_seller_id_pattern: str = ""

    # How often held settlements (paid lines of sellers that had no wallet) are checked against new wallets.
    held_sweep_interval_s: float = Field(default=2.0, gt=0)

    # The transactions' page size when the client gives none; a client may ask for 1..PAGE_LIMIT_MAX (100).
    transactions_page_default: int = Field(default=20, ge=1, le=PAGE_LIMIT_MAX)
