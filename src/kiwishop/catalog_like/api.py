from __future__ import annotations

from typing import Annotated

from fastapi import APIRouter, Path, Request, Response

from kiwishop.catalog_like import handlers
from kiwishop.catalog_like.domain import MAX_ID
from kiwishop.catalog_like.schemas import LikeCountOut, LikedOut
from kiwishop.catalog_like.settings import CatalogLikeSettings
from kiwishop.contracts.catalog import KnownProducts
from kiwishop.platform.runtime import Runtime
from kiwishop.platform.web import JSONResponse, model_response

router = APIRouter(prefix="/api/catalog-likes")
ProductNo = Annotated[int, Path(ge=1, le=MAX_ID)]
MemberNo = Annotated[int, Path(ge=1, le=MAX_ID)]
MEMBER_PATH = "/products/{productNo}/members/{memberNo}"
ERRORS: dict[int | str, dict[str, str]] = {
    404: {"description": "catalog does not know the product"},
    503: {"description": "catalog cannot be reached"},
}


def _runtime(request: Request) -> Runtime:
    runtime: Runtime = request.app.state.runtime
    return runtime


def _settings(request: Request) -> CatalogLikeSettings:
    settings: CatalogLikeSettings = request.app.state.settings
    return settings


@router.post(MEMBER_PATH, status_code=204, summary="Like a product (a repeated like changes nothing)", responses=ERRORS)
async def like(request: Request, productNo: ProductNo, memberNo: MemberNo) -> Response:
    products: KnownProducts = request.app.state.known_products
    await products.require(productNo)
    runtime = _runtime(request)
    settings = _settings(request)
    await handlers.like(
        runtime.db,
        runtime.ids,
        runtime.outbox,
        productNo,
        memberNo,
        attempts=settings.conflict_attempts,
        topic=settings.topic,
    )
    return Response(status_code=204)


@router.delete(MEMBER_PATH, status_code=204, summary="Remove a like (no like: nothing happens)")
async def unlike(request: Request, productNo: ProductNo, memberNo: MemberNo) -> Response:
    runtime, settings = _runtime(request), _settings(request)
    await handlers.unlike(
        runtime.db, runtime.outbox, productNo, memberNo, attempts=settings.conflict_attempts, topic=settings.topic
    )
    return Response(status_code=204)


@router.get("/products/{productNo}", response_model=LikeCountOut, summary="How many members like the product")
async def like_count(request: Request, productNo: ProductNo) -> JSONResponse:
    count = await handlers.like_count(_runtime(request).db, productNo)
    return model_response(LikeCountOut(productNo=productNo, likeCount=count))


@router.get(MEMBER_PATH, response_model=LikedOut, summary="Whether the member likes the product")
async def liked(request: Request, productNo: ProductNo, memberNo: MemberNo) -> JSONResponse:
    return model_response(LikedOut(liked=await handlers.has_liked(_runtime(request).db, productNo, memberNo)))
