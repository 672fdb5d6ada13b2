from __future__ import annotations

from pydantic import Field, SecretStr
from pydantic_settings import SettingsConfigDict

from kiwishop.platform.settings import ServiceSettings


class IdentitySettings(ServiceSettings):
    model_config = SettingsConfigDict(env_prefix="KIWI_IDENTITY_", extra="ignore")

    port: int = 8089
    node_id: int = 8
    db_name: str = "payment_msa_v2_identity"

    # The private key tokens are signed with, PEM (Ed25519 → EdDSA, or RSA ≥ 2048 bits → RS256). Secret: from
    # the environment only. Unset, the service makes a throw-away key at start (logged loudly): its tokens die
    # with the process. The local stack generates one once into .data/identity/ and passes it here.
    signing_key: SecretStr | None = None
    # Key rotation: the public keys (PEM blocks, one after another) of earlier signing keys, still published in
    # the JWKS so that tokens they signed verify until they expire. Drop one a token lifetime after rotating.
    previous_public_keys: str = ""
    token_ttl_s: int = Field(default=900, ge=30, le=86_400)
