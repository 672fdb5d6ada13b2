from __future__ import annotations

from typing import Annotated

from fastapi import APIRouter, Depends, Path, Query, Response

from kiwishop.catalog_review import handlers, queries
from kiwishop.catalog_review.domain import ReviewError, StarRating, average_star_rating, parse_cursor
from kiwishop.catalog_review.schemas import CreateReviewIn, ReviewOut, ReviewPageOut, ReviewSummaryOut
from kiwishop.catalog_review.settings import CatalogReviewSettings
from kiwishop.contracts.catalog import KnownProducts
from kiwishop.platform.auth import AUTH_RESPONSES, AnyPrincipal, MemberPrincipal, require_member
from kiwishop.platform.deps import DatabaseDep, IdsDep, OutboxDep, PageLimit, app_state
from kiwishop.platform.errors import AppError
from kiwishop.platform.identity import AuthError, Principal, Role
from kiwishop.platform.params import MAX_ID, next_cursor
from kiwishop.platform.web import JSONResponse, model_response

router = APIRouter(prefix="/api/product-reviews")
PositiveId = Annotated[int, Path(ge=1, le=MAX_ID)]
SettingsDep = Annotated[CatalogReviewSettings, Depends(app_state("settings", CatalogReviewSettings))]
KnownProductsDep = Annotated[KnownProducts, Depends(app_state("known_products", KnownProducts))]


@router.post(
    "",
    status_code=201,
    response_model=ReviewOut,
    summary="Review a product (as the member the token names)",
    responses={
        **AUTH_RESPONSES,
        404: {"description": "catalog does not know the product (REV0001)"},
        503: {"description": "catalog (REV0002) or the database cannot be reached right now; retry"},
    },
)
async def create_review(
    body: CreateReviewIn,
    principal: MemberPrincipal,
    products: KnownProductsDep,
    db: DatabaseDep,
    ids: IdsDep,
    outbox: OutboxDep,
    settings: SettingsDep,
) -> JSONResponse:
    require_member(principal, body.memberNo)  # only as itself: before catalog is asked, nothing written
    await products.require(body.productNo)
    new = handlers.NewReview(body.productNo, body.memberNo, body.title, body.content, StarRating[body.starRatingType])
    review = await handlers.create_review(
        db, ids, outbox, new, attempts=settings.conflict_attempts, topic=settings.topic
    )
    return model_response(ReviewOut.of(review), status_code=201)


@router.delete(
    "/{productReviewNo}",
    status_code=204,
    summary="Delete a review (deleting it again changes nothing): its author, or ops",
    responses={
        401: AUTH_RESPONSES[401],
        403: {"description": "the review is another member's, or the token is a seller's (AUTH0002)"},
        404: {"description": "unknown review (REV0003)"},
    },
)
async def delete_review(
    productReviewNo: PositiveId, principal: AnyPrincipal, db: DatabaseDep, outbox: OutboxDep, settings: SettingsDep
) -> Response:
    await handlers.delete_review(
        db,
        outbox,
        productReviewNo,
        author=_author_of_deletable(principal),
        attempts=settings.conflict_attempts,
        topic=settings.topic,
    )
    return Response(status_code=204)


def _author_of_deletable(principal: Principal) -> int | None:
    """Whose reviews the caller may delete: a member its own, ops any (None). A seller none: 403 before the
    review is looked up, so a seller cannot even tell a review number exists."""
    if principal.role is Role.OPS:
        return None
    if principal.role is not Role.MEMBER or principal.member_no is None:
        raise AppError(AuthError.FORBIDDEN)
    return principal.member_no


@router.get("/products/{productNo}", response_model=ReviewPageOut, summary="A product's reviews, newest first")
async def list_reviews(
    productNo: PositiveId,
    db: DatabaseDep,
    cursor: Annotated[str | None, Query(description="nextCursor of the previous page")] = None,
    limit: PageLimit = 20,
) -> JSONResponse:
    try:
        before = parse_cursor(cursor)
    except ValueError as exc:
        raise AppError(ReviewError.INVALID_CURSOR) from exc
    reviews, next_no = await queries.list_reviews(db, productNo, before, limit)
    page = ReviewPageOut(productReviewList=[ReviewOut.of(r) for r in reviews], nextCursor=next_cursor(next_no))
    return model_response(page)


@router.get("/products/{productNo}/summary", response_model=ReviewSummaryOut, summary="Review count and mean stars")
async def summary(productNo: PositiveId, db: DatabaseDep) -> JSONResponse:
    totals = await queries.totals(db, productNo)
    average = average_star_rating(totals.review_count, totals.star_rating_sum)
    return model_response(
        ReviewSummaryOut(productNo=productNo, reviewCount=totals.review_count, averageStarRating=average)
    )
