from __future__ import annotations

from typing import Annotated

from fastapi import APIRouter, Depends, Path

from kiwishop.platform.deps import DatabaseDep, IdsDep, OutboxDep, app_state
from kiwishop.platform.errors import AppError
from kiwishop.platform.params import MAX_ID
from kiwishop.platform.web import JSONResponse, model_response
from kiwishop.seller import handlers, queries
from kiwishop.seller.domain import SellerError, is_valid_seller_id
from kiwishop.seller.schemas import RegisterSellerIn, RegistrationAcceptedOut, RegistrationOut, SellerOut
from kiwishop.seller.settings import SellerSettings

router = APIRouter()
Id = Annotated[int, Path(ge=1, le=MAX_ID)]
SettingsDep = Annotated[SellerSettings, Depends(app_state("settings", SellerSettings))]


@router.post(
    "/api/sellers",
    status_code=202,
    response_model=RegistrationAcceptedOut,
    summary="Register a seller; its wallet is created asynchronously (follow the Location header)",
    responses={
        400: {"description": "invalid sellerId (SLR0001) or body"},
        409: {"description": "sellerId already registered (SLR0002)"},
    },
)
async def register_seller(
    body: RegisterSellerIn, db: DatabaseDep, outbox: OutboxDep, ids: IdsDep, settings: SettingsDep
) -> JSONResponse:
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
    responses={404: {"description": "unknown registration (SLR0004)"}},
)
async def get_registration(registrationId: Id, db: DatabaseDep) -> JSONResponse:
    return model_response(RegistrationOut.of(await queries.get_registration(db, registrationId)))


@router.get(
    "/api/sellers/{sellerNo}", response_model=SellerOut, responses={404: {"description": "unknown seller (SLR0003)"}}
)
async def get_seller(sellerNo: Id, db: DatabaseDep) -> JSONResponse:
    return model_response(SellerOut.of(await queries.get_seller(db, sellerNo)))
