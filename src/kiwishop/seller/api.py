from __future__ import annotations

from typing import Annotated

from fastapi import APIRouter, Path, Request

from kiwishop.platform.errors import AppError
from kiwishop.platform.runtime import Runtime
from kiwishop.platform.web import JSONResponse, model_response
from kiwishop.seller import handlers
from kiwishop.seller.domain import MAX_ID, SellerError, is_valid_seller_id
from kiwishop.seller.schemas import RegisterSellerIn, RegistrationAcceptedOut, RegistrationOut, SellerOut
from kiwishop.seller.settings import SellerSettings

router = APIRouter()
Id = Annotated[int, Path(ge=1, le=MAX_ID)]


def _runtime(request: Request) -> Runtime:
    runtime: Runtime = request.app.state.runtime
    return runtime


@router.post(
    "/api/sellers",
    status_code=202,
    response_model=RegistrationAcceptedOut,
    summary="Register a seller; its wallet is created asynchronously (follow the Location header)",
    responses={400: {"description": "invalid sellerId"}, 409: {"description": "sellerId already registered"}},
)
async def register_seller(request: Request, body: RegisterSellerIn) -> JSONResponse:
    if not is_valid_seller_id(body.sellerId):
        raise AppError(SellerError.INVALID_SELLER_ID)
    runtime = _runtime(request)
    settings: SellerSettings = request.app.state.settings
    registration = await handlers.register_seller(
        runtime.db,
        runtime.outbox,
        runtime.ids,
        seller_id=body.sellerId,
        timeout_s=settings.registration_timeout_s,
    )
    location = f"/api/sellers/registrations/{registration.registration_id}"
    return model_response(RegistrationAcceptedOut.of(registration), status_code=202, headers={"Location": location})


@router.get(
    "/api/sellers/registrations/{registrationId}",
    response_model=RegistrationOut,
    responses={404: {"description": "unknown registration"}},
)
async def get_registration(request: Request, registrationId: Id) -> JSONResponse:
    return model_response(RegistrationOut.of(await handlers.get_registration(_runtime(request).db, registrationId)))


@router.get("/api/sellers/{sellerNo}", response_model=SellerOut, responses={404: {"description": "unknown seller"}})
async def get_seller(request: Request, sellerNo: Id) -> JSONResponse:
    return model_response(SellerOut.of(await handlers.get_seller(_runtime(request).db, sellerNo)))
