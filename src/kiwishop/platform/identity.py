"""Who is calling: the identity service's bearer tokens, verified against its published keys.

The identity service (port 8089) signs short-lived JWTs with an asymmetric key (EdDSA/Ed25519; RS256 is
accepted too) and publishes the public keys as a JWKS at ``/.well-known/jwks.json``, each with its ``kid``.
``TokenVerifier`` fetches that JWKS (``InfraSettings.identity_jwks_url``; a ``file://`` URL reads it from disk),
keeps it for ``ttl_s``, fetches it again when a token names a ``kid`` it does not know (at most once per
``min_refresh_s``: a flood of made-up kids cannot turn into a flood of fetches), and checks each token: an allowed
asymmetric algorithm that is the key's own (``none`` and HS256 never), the signature, ``iss``, ``aud``, ``exp`` and
``iat`` with a small leeway. What it returns is a ``Principal``; the routes' dependencies are in ``platform.auth``.
"""

from __future__ import annotations

import asyncio
import enum
import json
import logging
import time
import urllib.parse
from collections.abc import Awaitable, Callable, Mapping
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import httpx
import jwt
from jwt.exceptions import InvalidKeyError, PyJWKError, PyJWTError

from kiwishop.platform.errors import AppError, CommonError, ErrorCode

log = logging.getLogger("kiwishop.platform.identity")

ALGORITHMS = ("EdDSA", "RS256")
ISSUER = "kiwi-shop-identity"
AUDIENCE = "kiwi-shop"


class AuthError(ErrorCode):
    UNAUTHENTICATED = (
        "AUTH0001",
        401,
        "로그인이 필요합니다. 유효한 Bearer 토큰을 보내 주세요.",
        "Authentication required: send a valid bearer token.",
    )
    FORBIDDEN = ("AUTH0002", 403, "이 요청을 할 권한이 없습니다.", "You may not do this.")


class Role(enum.StrEnum):
    MEMBER = "member"
    SELLER = "seller"
    OPS = "ops"


@dataclass(frozen=True)
class Principal:
    """The caller a verified token names: a member (``member_no``), a seller (``seller_no``) or ops."""

    role: Role
    subject: str
    member_no: int | None = None
    seller_no: int | None = None


class InvalidToken(Exception):
    """The token is not one this shop accepts (the reason is for the logs, never for the caller)."""


JwksFetcher = Callable[[], Awaitable[Mapping[str, Any]]]


class HttpJwksFetcher:
    """GET the JWKS document from ``url`` (one HTTP client for the process, closed by ``aclose``), or read it
    from the file a ``file://`` URL names."""

    def __init__(self, url: str, *, timeout_s: float = 2.0) -> None:
        self.url = url
        self._client = httpx.AsyncClient(timeout=timeout_s)

    async def __call__(self) -> Mapping[str, Any]:
        if self.url.startswith("file://"):
            path = Path(urllib.parse.unquote(urllib.parse.urlsplit(self.url).path))
            document = json.loads(await asyncio.to_thread(path.read_bytes))
        else:
            response = await self._client.get(self.url)
            response.raise_for_status()
            document = response.json()
        if not isinstance(document, dict):
            raise ValueError("the JWKS is not a JSON object")
        return document

    async def aclose(self) -> None:
        await self._client.aclose()


def _positive_int(value: Any) -> int | None:
    if isinstance(value, int) and not isinstance(value, bool) and value > 0:
        return value
    return None


def principal_from_claims(claims: Mapping[str, Any]) -> Principal:
    """The principal of verified claims: a known role, and the number that role needs."""
    try:
        role = Role(str(claims.get("role")))
    except ValueError as exc:
        raise InvalidToken(f"unknown role {claims.get('role')!r}") from exc
    member_no = _positive_int(claims.get("member_no"))
    seller_no = _positive_int(claims.get("seller_no"))
    if role is Role.MEMBER and member_no is None:
        raise InvalidToken("a member token without member_no")
    if role is Role.SELLER and seller_no is None:
        raise InvalidToken("a seller token without seller_no")
    subject = claims.get("sub")
    if not isinstance(subject, str) or not subject:
        raise InvalidToken("no subject")
    return Principal(role=role, subject=subject, member_no=member_no, seller_no=seller_no)


class TokenVerifier:
    def __init__(
        self,
        fetch: JwksFetcher,
        *,
        issuer: str = ISSUER,
        audience: str = AUDIENCE,
        algorithms: tuple[str, ...] = ALGORITHMS,
        leeway_s: float = 30.0,
        ttl_s: float = 300.0,
        min_refresh_s: float = 10.0,
        clock: Callable[[], float] = time.monotonic,
        wall_clock: Callable[[], float] = time.time,
        cache_size: int = 10_000,
    ) -> None:
        refused = {a for a in algorithms if a.lower() == "none" or a.upper().startswith("HS")}
        if refused:
            raise ValueError(f"not asymmetric, never accepted: {sorted(refused)}")
        self._fetch = fetch
        self.issuer = issuer
        self.audience = audience
        self.algorithms = algorithms
        self.leeway_s = leeway_s
        self.ttl_s = ttl_s
        self.min_refresh_s = min_refresh_s
        self._clock = clock
        self._wall_clock = wall_clock
        # Tokens verified before: token → (principal, kid, exp). A hit skips the signature check (Ed25519, the
        # largest part of authenticating a request) but not the expiry, and not the key: a kid the JWKS no longer
        # has is refused like a new token signed with it. Oldest entries go first past ``cache_size``.
        self._verified: dict[str, tuple[Principal, str, float]] = {}
        self.cache_size = cache_size
        self._keys: dict[str, jwt.PyJWK] = {}
        self._fetched_at: float | None = None
        self._lock = asyncio.Lock()
        self.fetches = 0

    async def verify(self, token: str) -> Principal:
        """The token's principal; ``InvalidToken`` for any token this shop does not accept, ``AppError``
        (503) when no key could be had from the identity service at all."""
        known = self._verified.get(token)
        if known is not None:
            principal, signed_with, expires = known
            await self._key(signed_with)  # still one of the identity service's keys (refreshed as for any token)
            if self._wall_clock() <= expires + self.leeway_s:
                return principal
            self._verified.pop(token, None)  # pop: a concurrent request with the same token may have dropped it
            raise InvalidToken("expired")
        try:
            header = jwt.get_unverified_header(token)
        except PyJWTError as exc:
            raise InvalidToken(f"malformed: {exc}") from exc
        alg, kid = header.get("alg"), header.get("kid")
        if alg not in self.algorithms:
            raise InvalidToken(f"algorithm {alg!r} is not accepted")
        if not isinstance(kid, str) or not kid:
            raise InvalidToken("no kid")
        key = await self._key(kid)
        if key.algorithm_name != alg:
            raise InvalidToken(f"key {kid} is for {key.algorithm_name}, the token says {alg}")
        try:
            claims = jwt.decode(
                token,
                key.key,
                algorithms=[alg],
                audience=self.audience,
                issuer=self.issuer,
                leeway=self.leeway_s,
                options={"require": ["exp", "iat", "iss", "aud", "sub"]},
            )
        except PyJWTError as exc:
            raise InvalidToken(str(exc)) from exc
        principal = principal_from_claims(claims)
        self._remember(token, principal, kid, float(claims["exp"]))
        return principal

    def _remember(self, token: str, principal: Principal, kid: str, expires: float) -> None:
        if self.cache_size <= 0:
            return
        while len(self._verified) >= self.cache_size:
            del self._verified[next(iter(self._verified))]
        self._verified[token] = (principal, kid, expires)

    async def _key(self, kid: str) -> jwt.PyJWK:
        now = self._clock()
        stale = self._fetched_at is None or now - self._fetched_at >= self.ttl_s
        unknown = kid not in self._keys
        may_refresh = self._fetched_at is None or now - self._fetched_at >= self.min_refresh_s
        if stale or (unknown and may_refresh):
            await self._refresh(now)
        key = self._keys.get(kid)
        if key is None:
            raise InvalidToken(f"unknown kid {kid}")
        return key

    async def _refresh(self, started: float) -> None:
        async with self._lock:
            if self._fetched_at is not None and self._fetched_at >= started:
                return  # another request refreshed while this one waited
            try:
                document = await self._fetch()
                self.fetches += 1
                keys = parse_jwks(document, self.algorithms)
            except Exception as exc:
                if not self._keys:
                    log.warning("cannot fetch the identity service's keys: %s", exc)
                    raise AppError(CommonError.SERVICE_UNAVAILABLE) from exc
                log.warning("cannot refresh the identity service's keys (keeping the known ones): %s", exc)
                self._fetched_at = self._clock()  # retry after min_refresh_s, not on every request
                return
            self._keys = keys
            self._fetched_at = self._clock()


def parse_jwks(document: Mapping[str, Any], algorithms: tuple[str, ...] = ALGORITHMS) -> dict[str, jwt.PyJWK]:
    """kid → key, for the asymmetric keys of an accepted algorithm; anything else in the set is left out."""
    keys: dict[str, jwt.PyJWK] = {}
    for entry in document.get("keys") or ():
        if not isinstance(entry, dict) or entry.get("kty") not in ("OKP", "RSA") or not entry.get("kid"):
            continue
        try:
            key = jwt.PyJWK.from_dict(entry)
        except (PyJWKError, InvalidKeyError, ValueError) as exc:
            log.warning("ignoring JWK %s: %s", entry.get("kid"), exc)
            continue
        if key.algorithm_name in algorithms:
            keys[str(entry["kid"])] = key
    return keys
