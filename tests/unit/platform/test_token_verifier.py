"""platform.identity.TokenVerifier with a local key pair and a fake JWKS fetcher: what it accepts, what it
refuses, and when it fetches the keys again."""

from __future__ import annotations

import asyncio
import base64
import json
import time
from collections.abc import Mapping
from typing import Any

import jwt
import pytest
from cryptography.hazmat.primitives.asymmetric import rsa

from kiwishop.identity.domain import Account, AccountRole
from kiwishop.identity.keys import SigningKeys, generate_private_pem, signing_keys
from kiwishop.identity.tokens import TokenIssuer
from kiwishop.platform.errors import AppError
from kiwishop.platform.identity import InvalidToken, Principal, Role, TokenVerifier

MEMBER = Account(101, "member1", "-", AccountRole.MEMBER, 1, None)
SELLER = Account(102, "seller1", "-", AccountRole.SELLER, None, 1)
OPS = Account(103, "ops", "-", AccountRole.OPS, None, None)


class FakeClock:
    def __init__(self) -> None:
        self.now = 1000.0

    def __call__(self) -> float:
        return self.now


class FakeJwks:
    """Serves whatever key set the test says; counts the fetches."""

    def __init__(self, *keys: SigningKeys) -> None:
        self.keys = list(keys)
        self.calls = 0
        self.fail = False

    async def __call__(self) -> Mapping[str, Any]:
        self.calls += 1
        if self.fail:
            raise OSError("identity is down")
        return {"keys": [jwk for k in self.keys for jwk in k.published]}


@pytest.fixture
def keys() -> SigningKeys:
    return signing_keys(generate_private_pem())


@pytest.fixture
def clock() -> FakeClock:
    return FakeClock()


def verifier(fetch: FakeJwks, clock: FakeClock) -> TokenVerifier:
    return TokenVerifier(fetch, clock=clock, ttl_s=300, min_refresh_s=10, leeway_s=5)


def token(keys: SigningKeys, account: Account = MEMBER, **overrides: Any) -> str:
    claims = TokenIssuer(keys, ttl_s=900).claims(account)
    claims.update(overrides)
    claims = {k: v for k, v in claims.items() if v is not None}
    return jwt.encode(claims, keys.private_key, algorithm=keys.algorithm, headers={"kid": keys.kid})


def _b64(data: dict[str, Any]) -> str:
    return base64.urlsafe_b64encode(json.dumps(data).encode()).rstrip(b"=").decode()


async def test_a_good_token_gives_its_principal(keys: SigningKeys, clock: FakeClock) -> None:
    check = verifier(FakeJwks(keys), clock)
    assert await check.verify(token(keys)) == Principal(Role.MEMBER, "101", member_no=1)
    assert await check.verify(token(keys, SELLER)) == Principal(Role.SELLER, "102", seller_no=1)
    assert await check.verify(token(keys, OPS)) == Principal(Role.OPS, "103")


async def test_the_keys_are_fetched_once_and_again_after_their_ttl(keys: SigningKeys, clock: FakeClock) -> None:
    fetch = FakeJwks(keys)
    check = verifier(fetch, clock)
    for _ in range(5):
        await check.verify(token(keys))
    assert fetch.calls == 1
    clock.now += 301
    await check.verify(token(keys))
    assert fetch.calls == 2


@pytest.mark.parametrize(
    "claims",
    [
        {"exp": 1},  # long expired
        {"aud": "another-shop"},
        {"iss": "someone-else"},
        {"exp": None},  # no expiry at all
        {"sub": None},
        {"role": "admin"},
        {"member_no": None},  # a member token must name its member
    ],
    ids=["expired", "wrong-aud", "wrong-iss", "no-exp", "no-sub", "unknown-role", "member-without-number"],
)
async def test_bad_claims_are_refused(keys: SigningKeys, clock: FakeClock, claims: dict[str, Any]) -> None:
    with pytest.raises(InvalidToken):
        await verifier(FakeJwks(keys), clock).verify(token(keys, **claims))


async def test_expiry_has_a_small_leeway(keys: SigningKeys, clock: FakeClock) -> None:
    import time

    now = int(time.time())
    check = verifier(FakeJwks(keys), clock)
    assert (await check.verify(token(keys, iat=now - 100, exp=now - 2))).member_no == 1  # within 5 s
    with pytest.raises(InvalidToken):
        await check.verify(token(keys, iat=now - 100, exp=now - 30))


async def test_an_unknown_kid_refreshes_the_keys_once_per_interval(keys: SigningKeys, clock: FakeClock) -> None:
    fetch = FakeJwks(keys)
    check = verifier(fetch, clock)
    await check.verify(token(keys))
    rotated = signing_keys(generate_private_pem())
    fetch.keys = [rotated, keys]
    clock.now += 11
    assert (await check.verify(token(rotated))).member_no == 1  # the new kid made it fetch again
    assert fetch.calls == 2
    stranger = signing_keys(generate_private_pem())
    for _ in range(3):  # made-up kids do not turn into a flood of fetches
        with pytest.raises(InvalidToken):
            await check.verify(token(stranger))
    assert fetch.calls == 2
    clock.now += 11
    with pytest.raises(InvalidToken):
        await check.verify(token(stranger))
    assert fetch.calls == 3


async def test_a_token_of_a_key_no_longer_published_is_refused_after_a_refresh(
    keys: SigningKeys, clock: FakeClock
) -> None:
    fetch = FakeJwks(keys)
    check = verifier(fetch, clock)
    old = token(keys)
    await check.verify(old)
    fetch.keys = [signing_keys(generate_private_pem())]
    clock.now += 301
    with pytest.raises(InvalidToken):
        await check.verify(old)


async def test_alg_none_and_hs256_are_refused(keys: SigningKeys, clock: FakeClock) -> None:
    check = verifier(FakeJwks(keys), clock)
    claims = TokenIssuer(keys, ttl_s=900).claims(MEMBER)
    unsigned = f"{_b64({'alg': 'none', 'kid': keys.kid, 'typ': 'JWT'})}.{_b64(claims)}."
    with pytest.raises(InvalidToken):
        await check.verify(unsigned)
    # HS256 "signed" with the public key's bytes: the classic algorithm confusion
    secret = keys.published[0]["x"].encode()
    hs256 = jwt.encode(claims, secret, algorithm="HS256", headers={"kid": keys.kid})
    with pytest.raises(InvalidToken):
        await check.verify(hs256)
    with pytest.raises(ValueError, match="never accepted"):
        TokenVerifier(FakeJwks(keys), algorithms=("EdDSA", "HS256"))


async def test_a_token_claiming_another_algorithm_than_its_key_is_refused(keys: SigningKeys, clock: FakeClock) -> None:
    rsa_key = rsa.generate_private_key(public_exponent=65537, key_size=2048)
    claims = TokenIssuer(keys, ttl_s=900).claims(MEMBER)
    forged = jwt.encode(claims, rsa_key, algorithm="RS256", headers={"kid": keys.kid})  # the Ed25519 key's kid
    with pytest.raises(InvalidToken):
        await verifier(FakeJwks(keys), clock).verify(forged)


async def test_a_tampered_token_is_refused(keys: SigningKeys, clock: FakeClock) -> None:
    header, payload, signature = token(keys).split(".")
    claims = json.loads(base64.urlsafe_b64decode(payload + "=="))
    claims["member_no"] = 2
    with pytest.raises(InvalidToken):
        await verifier(FakeJwks(keys), clock).verify(f"{header}.{_b64(claims)}.{signature}")
    with pytest.raises(InvalidToken):
        await verifier(FakeJwks(keys), clock).verify(f"{header}.{payload}.{signature[:-4]}AAAA")
    with pytest.raises(InvalidToken):
        await verifier(FakeJwks(keys), clock).verify("not-a-token")


async def test_another_keys_signature_under_a_known_kid_is_refused(keys: SigningKeys, clock: FakeClock) -> None:
    other = signing_keys(generate_private_pem())
    claims = TokenIssuer(keys, ttl_s=900).claims(MEMBER)
    forged = jwt.encode(claims, other.private_key, algorithm="EdDSA", headers={"kid": keys.kid})
    with pytest.raises(InvalidToken):
        await verifier(FakeJwks(keys), clock).verify(forged)


async def test_rsa_keys_work_too(clock: FakeClock) -> None:
    from cryptography.hazmat.primitives import serialization

    pem = (
        rsa.generate_private_key(public_exponent=65537, key_size=2048)
        .private_bytes(serialization.Encoding.PEM, serialization.PrivateFormat.PKCS8, serialization.NoEncryption())
        .decode()
    )
    keys = signing_keys(pem)
    assert keys.algorithm == "RS256"
    assert keys.published[0]["kty"] == "RSA"
    assert (await verifier(FakeJwks(keys), clock).verify(token(keys))).member_no == 1


async def test_without_any_key_the_answer_is_503_and_known_keys_outlive_an_outage(
    keys: SigningKeys, clock: FakeClock
) -> None:
    fetch = FakeJwks(keys)
    fetch.fail = True
    with pytest.raises(AppError) as raised:
        await verifier(fetch, clock).verify(token(keys))
    assert raised.value.status == 503
    fetch.fail = False
    check = verifier(fetch, clock)
    await check.verify(token(keys))
    fetch.fail = True
    clock.now += 301  # stale, and identity is down: the keys it had still verify
    assert (await check.verify(token(keys))).member_no == 1


async def test_a_verified_token_is_remembered_until_it_expires(
    keys: SigningKeys, clock: FakeClock, monkeypatch: pytest.MonkeyPatch
) -> None:
    wall = FakeClock()
    wall.now = 1_000_000.0
    check = TokenVerifier(FakeJwks(keys), clock=clock, wall_clock=wall, ttl_s=300, min_refresh_s=10, leeway_s=5)
    decoded: list[str] = []
    real_decode = jwt.decode

    def counted(t: str, *args: Any, **kwargs: Any) -> Any:
        decoded.append(t)
        return real_decode(t, *args, **kwargs)

    monkeypatch.setattr(jwt, "decode", counted)
    good = token(keys, iat=int(time.time()) - 10, exp=int(time.time()) + 900)
    wall.now = time.time()
    assert (await check.verify(good)).member_no == 1
    assert (await check.verify(good)).member_no == 1
    assert decoded == [good]  # the signature was checked once
    wall.now += 900 + 6  # past exp and the leeway: refused, though it was remembered
    with pytest.raises(InvalidToken, match="expired"):
        await check.verify(good)
    assert good not in check._verified


async def test_the_remembered_tokens_are_bounded(keys: SigningKeys, clock: FakeClock) -> None:
    check = TokenVerifier(FakeJwks(keys), clock=clock, cache_size=2)
    tokens = [token(keys, sub=f"account:{n}") for n in range(3)]
    for t in tokens:
        await check.verify(t)
    assert [t in check._verified for t in tokens] == [False, True, True]  # the oldest went first


async def test_two_requests_with_the_same_expired_token_are_both_refused(keys: SigningKeys, clock: FakeClock) -> None:
    class SlowJwks(FakeJwks):
        async def __call__(self) -> Mapping[str, Any]:
            await asyncio.sleep(0.01)  # identity answers after a moment: the other request runs meanwhile
            return await super().__call__()

    wall = FakeClock()
    wall.now = time.time()
    fetch = SlowJwks(keys)
    check = TokenVerifier(fetch, clock=clock, wall_clock=wall, ttl_s=300, min_refresh_s=10, leeway_s=5)
    old = token(keys, iat=int(time.time()) - 10, exp=int(time.time()) + 60)
    await check.verify(old)
    wall.now += 120
    clock.now += 301  # the keys are stale too: both requests await a refresh before they look at the expiry
    outcomes = await asyncio.gather(check.verify(old), check.verify(old), return_exceptions=True)
    assert all(isinstance(o, InvalidToken) for o in outcomes), outcomes
