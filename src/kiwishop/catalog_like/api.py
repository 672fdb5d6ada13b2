from __future__ import annotations

from typing import Annotated

from fastapi import APIRouter, Depends, Path, Response

from kiwishop.catalog_like import handlers, queries
from kiwishop.catalog_like.schemas import LikeCountOut, LikedOut
from kiwishop.catalog_like.settings import CatalogLikeSettings
from kiwishop.contracts.catalog import KnownProducts
from kiwishop.platform.auth import AUTH_RESPONSES, AnyPrincipal, MemberPrincipal, require_member
from kiwishop.platform.deps import DatabaseDep, IdsDep, OutboxDep, app_state
from kiwishop.platform.params import MAX_ID
from kiwishop.platform.web import JSONResponse, model_response

router = APIRouter(prefix="/api/catalog-likes")
ProductNo = Annotated[int, Path(ge=1, le=MAX_ID)]
MemberNo = Annotated[int, Path(ge=1, le=MAX_ID)]
SettingsDep = Annotated[CatalogLikeSettings, Depends(app_state("settings", CatalogLikeSettings))]
KnownProductsDep = Annotated[KnownProducts, Depends(app_state("known_products", KnownProducts))]
MEMBER_PATH = "/products/{productNo}/members/{memberNo}"
ERRORS: dict[int | str, dict[str, str]] = {
    **AUTH_RESPONSES,
    404: {"description": "catalog does not know the product (LIK0001)"},
    503: {"description": "catalog (LIK0002) or the database cannot be reached right now; retry"},
}


@router.post(
    MEMBER_PATH,
    status_code=204,
    summary="Like a product (a repeated like changes nothing); that member's token only",
    responses=ERRORS,
)
async def like(
    productNo: ProductNo,
    memberNo: MemberNo,
    principal: MemberPrincipal,
    products: KnownProductsDep,
    db: DatabaseDep,
    ids: IdsDep,
    outbox: OutboxDep,
    settings: SettingsDep,
) -> Response:
    require_member(principal, memberNo)  # a member likes only as itself (before catalog is asked, nothing written)
    await products.require(productNo)
    await handlers.like(db, ids, outbox, productNo, memberNo, attempts=settings.conflict_attempts, topic=settings.topic)
    return Response(status_code=204)


@router.delete(
    MEMBER_PATH,
    status_code=204,
    summary="Remove a like (no like: nothing happens); that member's token only",
    responses=AUTH_RESPONSES,
)
async def unlike(
    productNo: ProductNo,
    memberNo: MemberNo,
    principal: MemberPrincipal,
    db: DatabaseDep,
    outbox: OutboxDep,
    settings: SettingsDep,
) -> Response:
    require_member(principal, memberNo)
    await handlers.unlike(db, outbox, productNo, memberNo, attempts=settings.conflict_attempts, topic=settings.topic)
    return Response(status_code=204)


@router.get("/products/{productNo}", response_model=LikeCountOut, summary="How many members like the product")
async def like_count(productNo: ProductNo, db: DatabaseDep) -> JSONResponse:
    count = await queries.like_count(db, productNo)
    return model_response(LikeCountOut(productNo=productNo, likeCount=count))


@router.get(
    MEMBER_PATH,
    response_model=LikedOut,
    summary="Whether the member likes the product (that member, or ops)",
    responses=AUTH_RESPONSES,
)
async def liked(productNo: ProductNo, memberNo: MemberNo, principal: AnyPrincipal, db: DatabaseDep) -> JSONResponse:
    require_member(principal, memberNo)  # what a member likes is its own business
    return model_response(LikedOut(liked=await queries.has_liked(db, productNo, memberNo)))
