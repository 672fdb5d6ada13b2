"""Identity's keys (kid = RFC 7638 thumbprint, rotation), the role rules and the routes' auth helpers."""

from __future__ import annotations

import pytest

from kiwishop.identity.domain import AccountRole, check_role_numbers
from kiwishop.identity.keys import generate_private_pem, public_pem, signing_keys
from kiwishop.platform.auth import require_member, require_seller
from kiwishop.platform.errors import AppError
from kiwishop.platform.identity import Principal, Role


def test_the_kid_is_the_keys_thumbprint_and_stable() -> None:
    pem = generate_private_pem()
    assert signing_keys(pem).kid == signing_keys(pem).kid
    assert signing_keys(pem).kid != signing_keys(generate_private_pem()).kid
    jwk = signing_keys(pem).published[0]
    assert jwk["kty"] == "OKP"
    assert jwk["crv"] == "Ed25519"
    assert jwk["alg"] == "EdDSA"
    assert "d" not in jwk  # never the private part


def test_previous_public_keys_are_published_after_the_current_one() -> None:
    old, older, current = generate_private_pem(), generate_private_pem(), generate_private_pem()
    keys = signing_keys(current, public_pem(old) + "\n" + public_pem(older) + public_pem(current))
    kids = [jwk["kid"] for jwk in keys.jwks()["keys"]]
    assert kids == [signing_keys(current).kid, signing_keys(old).kid, signing_keys(older).kid]


def test_a_key_that_is_not_a_private_key_is_refused() -> None:
    with pytest.raises(ValueError):
        signing_keys("-----BEGIN PRIVATE KEY-----\nnope\n-----END PRIVATE KEY-----\n")


def test_each_role_names_its_own_number() -> None:
    check_role_numbers(AccountRole.MEMBER, 1, None)
    check_role_numbers(AccountRole.SELLER, None, 1)
    check_role_numbers(AccountRole.OPS, None, None)
    for role, member_no, seller_no in [
        (AccountRole.MEMBER, None, None),
        (AccountRole.MEMBER, 1, 1),
        (AccountRole.SELLER, 1, None),
        (AccountRole.OPS, 1, None),
    ]:
        with pytest.raises(ValueError, match="account with"):
            check_role_numbers(role, member_no, seller_no)


MEMBER_1 = Principal(Role.MEMBER, "1", member_no=1)
SELLER_1 = Principal(Role.SELLER, "4", seller_no=1)
OPS = Principal(Role.OPS, "5")


def forbidden(call: object) -> bool:
    try:
        call() if callable(call) else None
    except AppError as exc:
        return exc.status == 403 and exc.code.code == "AUTH0002"
    return False


def test_require_member_lets_the_member_and_ops_through() -> None:
    require_member(MEMBER_1, 1)
    require_member(OPS, 1)
    assert forbidden(lambda: require_member(MEMBER_1, 2))
    assert forbidden(lambda: require_member(SELLER_1, 1))


def test_require_seller_lets_the_seller_and_ops_through() -> None:
    require_seller(SELLER_1, 1)
    require_seller(OPS, 1)
    assert forbidden(lambda: require_seller(SELLER_1, 2))
    assert forbidden(lambda: require_seller(MEMBER_1, 1))
