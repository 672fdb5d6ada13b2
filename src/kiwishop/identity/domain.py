"""Identity's rules: who an account is, and the error a failed login gets (the same for an unknown login id
and a wrong password). Standard library (and the platform's error type) only."""

from __future__ import annotations

import enum
from dataclasses import dataclass

from kiwishop.platform.errors import ErrorCode


class IdentityError(ErrorCode):
    BAD_CREDENTIALS = (
        "IDN0001",
        401,
        "아이디 또는 비밀번호가 올바르지 않습니다.",
        "The login id or the password is wrong.",
    )
    DUPLICATE_LOGIN_ID = ("IDN0002", 409, "이미 사용 중인 아이디입니다.", "This login id is taken.")


class AccountRole(enum.StrEnum):
    MEMBER = "member"
    SELLER = "seller"
    OPS = "ops"


@dataclass(frozen=True)
class Account:
    account_no: int
    login_id: str
    password_hash: str
    role: AccountRole
    member_no: int | None
    seller_no: int | None


def check_role_numbers(role: AccountRole, member_no: int | None, seller_no: int | None) -> None:
    """A member account names its member, a seller account its seller, ops neither."""
    expected = {
        AccountRole.MEMBER: (member_no is not None, seller_no is None),
        AccountRole.SELLER: (member_no is None, seller_no is not None),
        AccountRole.OPS: (member_no is None, seller_no is None),
    }[role]
    if not all(expected):
        raise ValueError(f"a {role} account with member_no={member_no}, seller_no={seller_no}")
