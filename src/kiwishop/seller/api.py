from __future__ import annotations

from typing import Annotated

from fastapi import APIRouter, Depends, Path, Request

from kiwishop.platform.auth import AUTH_RESPONSES, AnyPrincipal, require_seller
from kiwishop.platform.deps import DatabaseDep, IdsDep, OutboxDep, app_state
from kiwishop.platform.errors import AppError
from kiwishop.platform.identity import AuthError, Role
from kiwishop.platform.params import MAX_ID
from kiwishop.platform.ratelimit import RateLimiter
from kiwishop.platform.web import JSONResponse, model_response
from kiwishop.seller import handlers, queries
from kiwishop.seller.domain import SellerError, is_valid_seller_id
from kiwishop.seller.schemas import RegisterSellerIn, RegistrationAcceptedOut, RegistrationOut, SellerOut
from kiwishop.seller.settings import SellerSettings

router = APIRouter()
Id = Annotated[int, Path(ge=1, le=MAX_ID)]
SettingsDep = Annotated[SellerSettings, Depends(app_state("settings", SellerSettings))]
LimitsDep = Annotated[RateLimiter, Depends(app_state("limits", RateLimiter))]


@router.post(
    "/api/sellers",
    status_code=202,
    response_model=RegistrationAcceptedOut,
    summary="Register a seller; its wallet is created asynchronously (the Location header: for that seller or ops)",
    responses={
        400: {"description": "invalid sellerId (SLR0001) or body"},
        409: {"description": "sellerId already registered (SLR0002)"},
        429: {"description": "too many registrations from this address in a window (TOO_MANY_REQUESTS; "
              "Retry-After); nothing registered"},
    },
)  # fmt: skip
async def register_seller(
    body: RegisterSellerIn, request: Request, db: DatabaseDep, outbox: OutboxDep, ids: IdsDep, settings: SettingsDep,
    limits: LimitsDep,
) -> JSONResponse:  # fmt: skip
    client = request.client.host if request.client else "unknown"
    await limits.check(
        "register", client, limit=settings.rate_limit_registrations, window_s=settings.rate_limit_window_s
    )
    if not is_valid_seller_id(body.sellerId):
        raise AppError(SellerError.INVALID_SELLER_ID)
    registration = await handlers.register_seller(
        db,
        outbox,
        ids,
        seller_id=body.sellerId,
        timeout_s=settings.registration_timeout_s,
    )
    location = f"/api/sellers/registrations/{registration.registration_id}"
    return model_response(RegistrationAcceptedOut.of(registration), status_code=202, headers={"Location": location})


@router.get(
    "/api/sellers/registrations/{registrationId}",
    response_model=RegistrationOut,
    summary="A registration saga's state: the seller it registered, or ops",
    responses={
        401: AUTH_RESPONSES[401],
        403: {"description": "another seller's registration, or a member's token (AUTH0002)"},
        404: {"description": "unknown registration (SLR0004)"},
    },
)
async def get_registration(registrationId: Id, principal: AnyPrincipal, db: DatabaseDep) -> JSONResponse:
    """A registration id is a Snowflake (a timestamp, a node, a sequence), easy to guess, so the id alone grants
    nothing. A member is refused before the lookup; a seller learns whether another's id exists, nothing more."""
    if principal.role is Role.MEMBER:
        raise AppError(AuthError.FORBIDDEN)
    registration = await queries.get_registration(db, registrationId)
    require_seller(principal, registration.seller_no)
    return model_response(RegistrationOut.of(registration))


@router.get(
    "/api/sellers/{sellerNo}",
    response_model=SellerOut,
    summary="A seller: that seller, or ops",
    responses={**AUTH_RESPONSES, 404: {"description": "unknown seller (SLR0003)"}},
)
async def get_seller(sellerNo: Id, principal: AnyPrincipal, db: DatabaseDep) -> JSONResponse:
    require_seller(principal, sellerNo)  # before the lookup: nobody else learns whether the seller exists
    return model_response(SellerOut.of(await queries.get_seller(db, sellerNo)))
