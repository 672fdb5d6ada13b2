"""The identity service against a real database: logins, the JWKS, /api/auth/me, key rotation, and tokens
verified by the platform's TokenVerifier from the published keys."""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

import httpx
import jwt
import pytest
from pydantic import SecretStr

from kiwishop.identity.app import create_app
from kiwishop.identity.keys import generate_private_pem, public_pem
from kiwishop.identity.settings import IdentitySettings
from kiwishop.platform.identity import Principal, Role, TokenVerifier
from tests.support import running_app


async def login(client: httpx.AsyncClient, login_id: str, password: str | None = None) -> httpx.Response:
    body = {"loginId": login_id, "password": password or f"{login_id}-password"}
    return await client.post("/api/auth/token", json=body, headers={"Accept-Language": "en"})


def jwks_of(client: httpx.AsyncClient) -> Any:
    async def fetch() -> Mapping[str, Any]:
        response = await client.get("/.well-known/jwks.json")
        response.raise_for_status()
        document: Mapping[str, Any] = response.json()
        return document

    return fetch


@pytest.mark.parametrize(
    ("login_id", "role", "member_no", "seller_no"),
    [("member1", "member", 1, None), ("member3", "member", 3, None), ("seller1", "seller", None, 1),
     ("ops", "ops", None, None)],
)  # fmt: skip
async def test_a_seed_account_gets_a_short_lived_token_that_verifies(
    identity: httpx.AsyncClient, login_id: str, role: str, member_no: int | None, seller_no: int | None
) -> None:
    response = await login(identity, login_id)
    assert response.status_code == 200, response.text
    body = response.json()
    assert body["tokenType"] == "Bearer"
    assert body["expiresIn"] == 900
    assert (body["role"], body["memberNo"], body["sellerNo"]) == (role, member_no, seller_no)
    assert response.headers["cache-control"] == "no-store"
    header = jwt.get_unverified_header(body["accessToken"])
    assert header["alg"] == "EdDSA"
    claims = jwt.decode(body["accessToken"], options={"verify_signature": False})
    assert claims["iss"] == "kiwi-shop-identity"
    assert claims["aud"] == "kiwi-shop"
    assert claims["exp"] - claims["iat"] == 900
    assert claims["jti"]
    assert claims.get("member_no") == member_no
    assert claims.get("seller_no") == seller_no
    principal = await TokenVerifier(jwks_of(identity)).verify(body["accessToken"])
    assert principal == Principal(Role(role), claims["sub"], member_no=member_no, seller_no=seller_no)


async def test_the_jwks_publishes_the_signing_key_with_its_kid(identity: httpx.AsyncClient) -> None:
    response = await identity.get("/.well-known/jwks.json")
    assert response.status_code == 200
    keys = response.json()["keys"]
    assert len(keys) == 1
    assert {k: keys[0][k] for k in ("kty", "crv", "alg", "use")} == {
        "kty": "OKP", "crv": "Ed25519", "alg": "EdDSA", "use": "sig"
    }  # fmt: skip
    assert "d" not in keys[0]
    token = (await login(identity, "member1")).json()["accessToken"]
    assert jwt.get_unverified_header(token)["kid"] == keys[0]["kid"]
    assert "max-age" in response.headers["cache-control"]


async def test_a_wrong_password_and_an_unknown_login_get_the_same_401(identity: httpx.AsyncClient) -> None:
    wrong = await login(identity, "member1", "not-the-password")
    unknown = await login(identity, "nobody-at-all", "member1-password")
    assert wrong.status_code == unknown.status_code == 401
    assert wrong.json() == unknown.json() == {"code": "IDN0001", "message": "The login id or the password is wrong."}
    assert "accessToken" not in wrong.text


@pytest.mark.parametrize(
    "body",
    [{}, {"loginId": "member1"}, {"loginId": "", "password": "x"}, {"loginId": "member1", "password": ""},
     {"loginId": "m" * 65, "password": "x"}, {"loginId": 1, "password": "x"},
     {"loginId": "member1", "password": "member1-password", "role": "ops"}],
)  # fmt: skip
async def test_bad_input_is_a_400(identity: httpx.AsyncClient, body: dict[str, Any]) -> None:
    response = await identity.post("/api/auth/token", json=body)
    assert response.status_code == 400
    assert response.json()["code"] == "INVALID_REQUEST"
    not_json = await identity.post("/api/auth/token", content=b"{", headers={"Content-Type": "application/json"})
    assert not_json.status_code == 400


async def test_me_answers_who_the_token_names_and_401_without_a_valid_one(identity: httpx.AsyncClient) -> None:
    token = (await login(identity, "seller1")).json()["accessToken"]
    me = await identity.get("/api/auth/me", headers={"Authorization": f"Bearer {token}"})
    assert me.status_code == 200
    assert me.json()["role"] == "seller"
    assert me.json()["sellerNo"] == 1
    assert me.json()["memberNo"] is None
    for headers in ({}, {"Authorization": "Bearer nonsense"}, {"Authorization": f"Basic {token}"},
                    {"Authorization": f"Bearer {token[:-3]}xyz"}):  # fmt: skip
        refused = await identity.get("/api/auth/me", headers={**headers, "Accept-Language": "en"})
        assert refused.status_code == 401, headers
        assert refused.json()["code"] == "AUTH0001"


async def test_a_token_of_the_previous_key_verifies_while_its_public_key_is_published(
    identity_settings: IdentitySettings,
) -> None:
    old_key = identity_settings.signing_key
    assert old_key is not None
    async with running_app(create_app(identity_settings)) as before:
        old_token = (await login(before, "member2")).json()["accessToken"]
    rotated = identity_settings.model_copy(
        update={
            "signing_key": SecretStr(generate_private_pem()),
            "previous_public_keys": public_pem(old_key.get_secret_value()),
        }
    )
    async with running_app(create_app(rotated)) as after:
        assert len((await after.get("/.well-known/jwks.json")).json()["keys"]) == 2
        new_token = (await login(after, "member2")).json()["accessToken"]
        assert jwt.get_unverified_header(new_token)["kid"] != jwt.get_unverified_header(old_token)["kid"]
        verifier = TokenVerifier(jwks_of(after))
        assert (await verifier.verify(old_token)).member_no == 2
        assert (await verifier.verify(new_token)).member_no == 2
        me = await after.get("/api/auth/me", headers={"Authorization": f"Bearer {old_token}"})
        assert me.status_code == 200
    retired = rotated.model_copy(update={"previous_public_keys": ""})
    async with running_app(create_app(retired)) as later:
        me = await later.get("/api/auth/me", headers={"Authorization": f"Bearer {old_token}"})
        assert me.status_code == 401
