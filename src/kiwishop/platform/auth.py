"""Route dependencies for the caller's identity (the identity service's bearer tokens, ``platform.identity``)::

    async def my_orders(memberNo: Id, principal: AnyPrincipal) -> JSONResponse:
        require_member(principal, memberNo)  # that member, or ops (who may read anything)
        ...

    async def checkout(body: CheckoutIn, principal: MemberPrincipal) -> JSONResponse: ...  # members only

``AnyPrincipal``: a valid token of any role, else 401. ``OptionalPrincipal``: None without an
``Authorization`` header, a principal with a valid token, 401 with an invalid one. ``MemberPrincipal``,
``SellerPrincipal``, ``OpsPrincipal``: 401 without a valid token, 403 for another role. ``require_member`` /
``require_seller``: 403 unless the principal is that member (seller), or ops (which may read anything).
Errors are the shop's ``{code, message}`` (``AUTH0001`` 401, ``AUTH0002`` 403).

The verifier is the runtime's (``Runtime.token_verifier()``, made on the first request that needs it), or one
a test put on ``app.state.token_verifier``. A route using these documents 401/403 itself (``AUTH_RESPONSES``).
"""

from __future__ import annotations

from typing import Annotated, Any

from fastapi import Depends, Request
from fastapi.security import HTTPAuthorizationCredentials, HTTPBearer

from kiwishop.platform.errors import AppError
from kiwishop.platform.identity import AuthError, InvalidToken, Principal, Role, TokenVerifier

_bearer = HTTPBearer(auto_error=False, description="an access token from the identity service (POST /api/auth/token)")
Credentials = Annotated[HTTPAuthorizationCredentials | None, Depends(_bearer)]

AUTH_RESPONSES: dict[int | str, dict[str, Any]] = {
    401: {"description": "no bearer token, or one that is invalid or expired (AUTH0001)"},
    403: {"description": "the token's holder may not do this (AUTH0002)"},
}


def verifier_of(request: Request) -> TokenVerifier:
    verifier = getattr(request.app.state, "token_verifier", None)
    if isinstance(verifier, TokenVerifier):
        return verifier
    made: TokenVerifier = request.app.state.runtime.token_verifier()
    return made


async def _verified(request: Request, credentials: HTTPAuthorizationCredentials) -> Principal:
    try:
        return await verifier_of(request).verify(credentials.credentials)
    except InvalidToken as exc:
        request.state.auth_failure = str(exc)  # for the logs; the caller learns only that it is invalid
        raise AppError(AuthError.UNAUTHENTICATED) from exc


async def optional_principal(request: Request, credentials: Credentials) -> Principal | None:
    if credentials is None:
        if request.headers.get("authorization"):
            raise AppError(AuthError.UNAUTHENTICATED)  # a header, but not "Bearer <token>"
        return None
    return await _verified(request, credentials)


async def any_principal(request: Request, credentials: Credentials) -> Principal:
    principal = await optional_principal(request, credentials)
    if principal is None:
        raise AppError(AuthError.UNAUTHENTICATED)
    return principal


def _of_role(role: Role) -> Any:
    async def dependency(principal: Annotated[Principal, Depends(any_principal)]) -> Principal:
        if principal.role is not role:
            raise AppError(AuthError.FORBIDDEN)
        return principal

    dependency.__name__ = f"{role.value}_principal"
    return dependency


OptionalPrincipal = Annotated[Principal | None, Depends(optional_principal)]
AnyPrincipal = Annotated[Principal, Depends(any_principal)]
MemberPrincipal = Annotated[Principal, Depends(_of_role(Role.MEMBER))]
SellerPrincipal = Annotated[Principal, Depends(_of_role(Role.SELLER))]
OpsPrincipal = Annotated[Principal, Depends(_of_role(Role.OPS))]


def require_member(principal: Principal, member_no: int) -> None:
    """403 unless the principal is member ``member_no`` or ops."""
    if principal.role is Role.OPS:
        return
    if principal.role is not Role.MEMBER or principal.member_no != member_no:
        raise AppError(AuthError.FORBIDDEN)


def require_seller(principal: Principal, seller_no: int) -> None:
    """403 unless the principal is seller ``seller_no`` or ops."""
    if principal.role is Role.OPS:
        return
    if principal.role is not Role.SELLER or principal.seller_no != seller_no:
        raise AppError(AuthError.FORBIDDEN)
