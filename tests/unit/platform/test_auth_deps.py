"""platform.auth's route dependencies on a small app: 401 without or with a bad token, 403 for another role or
another member's resource, the principal otherwise; and the runtime's verifier when the app has none."""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

import httpx
import jwt
from fastapi import APIRouter

from kiwishop.identity.domain import Account, AccountRole
from kiwishop.identity.keys import generate_private_pem, signing_keys
from kiwishop.identity.tokens import TokenIssuer
from kiwishop.platform.auth import AnyPrincipal, MemberPrincipal, OptionalPrincipal, require_member
from kiwishop.platform.identity import TokenVerifier
from kiwishop.platform.metrics import Metrics
from kiwishop.platform.runtime import Runtime
from kiwishop.platform.settings import InfraSettings, ServiceSettings
from kiwishop.platform.web import build_app

KEYS = signing_keys(generate_private_pem())
# The tokens below are made when the module is imported, which in a whole-suite run can be many minutes before
# the tests run: they live a day, so only the expiry test's own token is expired.
ISSUER = TokenIssuer(KEYS, ttl_s=24 * 3600)
router = APIRouter()


@router.get("/any")
async def any_route(principal: AnyPrincipal) -> dict[str, Any]:
    return {"role": principal.role.value}


@router.get("/optional")
async def optional_route(principal: OptionalPrincipal) -> dict[str, Any]:
    return {"role": principal.role.value if principal else None}


@router.get("/members/{memberNo}")
async def member_route(memberNo: int, principal: MemberPrincipal) -> dict[str, Any]:
    require_member(principal, memberNo)
    return {"memberNo": memberNo}


def bearer(account: Account) -> dict[str, str]:
    return {"Authorization": f"Bearer {ISSUER.issue(account).access_token}"}


MEMBER_1 = bearer(Account(1, "member1", "-", AccountRole.MEMBER, 1, None))
SELLER_1 = bearer(Account(4, "seller1", "-", AccountRole.SELLER, None, 1))
OPS = bearer(Account(5, "ops", "-", AccountRole.OPS, None, None))


async def own_keys() -> Mapping[str, Any]:
    return KEYS.jwks()


def client() -> httpx.AsyncClient:
    app = build_app(title="t", metrics=Metrics("t"))
    app.include_router(router)
    app.state.token_verifier = TokenVerifier(own_keys)
    return httpx.AsyncClient(transport=httpx.ASGITransport(app=app), base_url="http://t")


async def test_any_principal_wants_a_valid_token() -> None:
    async with client() as c:
        assert (await c.get("/any", headers=OPS)).json() == {"role": "ops"}
        for headers in ({}, {"Authorization": "Bearer x.y.z"}, {"Authorization": "Token abc"}):
            refused = await c.get("/any", headers={**headers, "Accept-Language": "en"})
            assert refused.status_code == 401
            assert refused.json() == {
                "code": "AUTH0001",
                "message": "Authentication required: send a valid bearer token.",
            }


async def test_optional_principal_is_none_without_a_header_and_401_with_a_bad_one() -> None:
    async with client() as c:
        assert (await c.get("/optional")).json() == {"role": None}
        assert (await c.get("/optional", headers=SELLER_1)).json() == {"role": "seller"}
        assert (await c.get("/optional", headers={"Authorization": "Bearer nope"})).status_code == 401


async def test_member_routes_refuse_other_roles_and_other_members() -> None:
    async with client() as c:
        assert (await c.get("/members/1", headers=MEMBER_1)).json() == {"memberNo": 1}
        other = await c.get("/members/2", headers=MEMBER_1)
        assert other.status_code == 403
        assert other.json()["code"] == "AUTH0002"
        assert (await c.get("/members/1", headers=SELLER_1)).status_code == 403
        assert (await c.get("/members/1", headers=OPS)).status_code == 403  # a member route: ops is no member
        assert (await c.get("/members/1")).status_code == 401


async def test_an_expired_token_is_401() -> None:
    claims = ISSUER.claims(Account(1, "member1", "-", AccountRole.MEMBER, 1, None))
    claims.update(iat=claims["iat"] - 2 * 24 * 3600, exp=claims["exp"] - 2 * 24 * 3600)
    expired = jwt.encode(claims, KEYS.private_key, algorithm="EdDSA", headers={"kid": KEYS.kid})
    async with client() as c:
        assert (await c.get("/any", headers={"Authorization": f"Bearer {expired}"})).status_code == 401


def test_the_runtime_makes_one_verifier_from_its_settings() -> None:
    runtime = Runtime("t", ServiceSettings(infra=InfraSettings(identity_jwks_url="http://127.0.0.1:1/jwks.json")))
    assert runtime.token_verifier() is runtime.token_verifier()
