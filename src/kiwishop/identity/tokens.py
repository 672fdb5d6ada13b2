"""Signing access tokens: a JWT with ``kid`` in its header, signed by the current key (``keys.SigningKeys``).

Claims: ``iss`` (kiwi-shop-identity), ``aud`` (kiwi-shop), ``sub`` (the account number), ``role``,
``member_no`` or ``seller_no`` (as the role has), ``iat``, ``exp`` (``iat`` + the token lifetime), ``jti``.
``platform.identity.TokenVerifier`` is the other side."""

from __future__ import annotations

import time
import uuid
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

import jwt

from kiwishop.identity.domain import Account
from kiwishop.identity.keys import SigningKeys
from kiwishop.platform.identity import AUDIENCE, ISSUER


@dataclass(frozen=True)
class IssuedToken:
    access_token: str
    expires_in: int
    account: Account


class TokenIssuer:
    def __init__(self, keys: SigningKeys, *, ttl_s: int, clock: Callable[[], float] = time.time) -> None:
        self.keys = keys
        self.ttl_s = ttl_s
        self._clock = clock

    def claims(self, account: Account) -> dict[str, Any]:
        now = int(self._clock())
        claims: dict[str, Any] = {
            "iss": ISSUER,
            "aud": AUDIENCE,
            "sub": str(account.account_no),
            "role": account.role.value,
            "iat": now,
            "exp": now + self.ttl_s,
            "jti": uuid.uuid4().hex,
        }
        if account.member_no is not None:
            claims["member_no"] = account.member_no
        if account.seller_no is not None:
            claims["seller_no"] = account.seller_no
        return claims

    def issue(self, account: Account) -> IssuedToken:
        token = jwt.encode(
            self.claims(account),
            self.keys.private_key,
            algorithm=self.keys.algorithm,
            headers={"kid": self.keys.kid, "typ": "JWT"},
        )
        return IssuedToken(token, self.ttl_s, account)
