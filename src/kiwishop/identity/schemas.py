from __future__ import annotations

from typing import Annotated, Any

from pydantic import BaseModel, ConfigDict, Field, StringConstraints

from kiwishop.contracts.identity import LOGIN_ID_MAX_LENGTH, PASSWORD_MAX_LENGTH
from kiwishop.identity.tokens import IssuedToken
from kiwishop.platform.identity import Principal


class TokenIn(BaseModel):
    model_config = ConfigDict(extra="forbid")

    loginId: Annotated[str, StringConstraints(min_length=1, max_length=LOGIN_ID_MAX_LENGTH)]
    password: Annotated[str, StringConstraints(min_length=1, max_length=PASSWORD_MAX_LENGTH)]


class TokenOut(BaseModel):
    """A bearer token; ``memberNo`` is set for a member, ``sellerNo`` for a seller (null otherwise)."""

    accessToken: str
    tokenType: str = "Bearer"
    expiresIn: int = Field(description="seconds until the token expires")
    role: str
    memberNo: int | None
    sellerNo: int | None

    @classmethod
    def of(cls, issued: IssuedToken) -> TokenOut:
        account = issued.account
        return cls(
            accessToken=issued.access_token,
            expiresIn=issued.expires_in,
            role=account.role.value,
            memberNo=account.member_no,
            sellerNo=account.seller_no,
        )


class MeOut(BaseModel):
    subject: str
    role: str
    memberNo: int | None
    sellerNo: int | None

    @classmethod
    def of(cls, principal: Principal) -> MeOut:
        return cls(
            subject=principal.subject,
            role=principal.role.value,
            memberNo=principal.member_no,
            sellerNo=principal.seller_no,
        )


class JwksOut(BaseModel):
    """The public keys tokens are signed with (RFC 7517), each with its ``kid``."""

    keys: list[dict[str, Any]]
