from __future__ import annotations

import logging
from collections.abc import Mapping
from typing import Any

from fastapi import FastAPI

from kiwishop.identity.api import router
from kiwishop.identity.keys import SigningKeys, generate_private_pem, signing_keys
from kiwishop.identity.migrations import MIGRATIONS, SEED
from kiwishop.identity.settings import IdentitySettings
from kiwishop.identity.tokens import TokenIssuer
from kiwishop.platform.identity import TokenVerifier
from kiwishop.platform.runtime import Runtime
from kiwishop.platform.service import ServiceDefinition

log = logging.getLogger("kiwishop.identity")


def keys_of(settings: IdentitySettings) -> SigningKeys:
    if settings.signing_key is None:
        log.warning(
            "KIWI_IDENTITY_SIGNING_KEY is not set: signing with a throw-away key; its tokens die with this process"
        )
        return signing_keys(generate_private_pem(), settings.previous_public_keys)
    return signing_keys(settings.signing_key.get_secret_value(), settings.previous_public_keys)


def create_app(settings: IdentitySettings) -> FastAPI:
    runtime = Runtime("identity", settings)
    runtime.database()
    keys = keys_of(settings)
    app = runtime.build_app(title="kiwi-shop identity", routers=[router])
    app.state.settings = settings
    app.state.issuer = TokenIssuer(keys, ttl_s=settings.token_ttl_s)

    async def own_keys() -> Mapping[str, Any]:  # identity verifies its tokens without calling itself
        return keys.jwks()

    app.state.token_verifier = TokenVerifier(own_keys)
    return app


SERVICE = ServiceDefinition(
    name="identity",
    settings_class=IdentitySettings,
    create_app=create_app,  # type: ignore[arg-type]
    migrations=MIGRATIONS,
    seed=SEED,
)
