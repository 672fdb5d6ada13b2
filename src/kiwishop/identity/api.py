from __future__ import annotations

from typing import Annotated

from fastapi import APIRouter, Depends

from kiwishop.identity import handlers
from kiwishop.identity.schemas import JwksOut, MeOut, TokenIn, TokenOut
from kiwishop.identity.tokens import TokenIssuer
from kiwishop.platform.auth import AUTH_RESPONSES, AnyPrincipal
from kiwishop.platform.deps import DatabaseDep, app_state
from kiwishop.platform.web import JSONResponse, model_response

router = APIRouter()
IssuerDep = Annotated[TokenIssuer, Depends(app_state("issuer", TokenIssuer))]
JWKS_MAX_AGE_S = 300


@router.post(
    "/api/auth/token",
    response_model=TokenOut,
    summary="Log in: a login id and password → a short-lived bearer token",
    responses={401: {"description": "unknown login id or wrong password, the same answer for both (IDN0001)"}},
)
async def issue_token(body: TokenIn, db: DatabaseDep, issuer: IssuerDep) -> JSONResponse:
    issued = await handlers.issue_token(db, issuer, login_id=body.loginId, password=body.password)
    return model_response(TokenOut.of(issued), headers={"Cache-Control": "no-store"})


@router.get(
    "/.well-known/jwks.json",
    response_model=JwksOut,
    summary="The public keys tokens are signed with: the current one first, then earlier ones not yet retired",
)
async def jwks(issuer: IssuerDep) -> JSONResponse:
    return model_response(
        JwksOut.model_validate(issuer.keys.jwks()), headers={"Cache-Control": f"public, max-age={JWKS_MAX_AGE_S}"}
    )


@router.get(
    "/api/auth/me",
    response_model=MeOut,
    summary="Who the bearer token says the caller is",
    responses={401: AUTH_RESPONSES[401]},
)
async def me(principal: AnyPrincipal) -> JSONResponse:
    return model_response(MeOut.of(principal))
