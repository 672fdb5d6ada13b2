from __future__ import annotations

from typing import Annotated

from fastapi import APIRouter, Depends, Path, Query, Response

from kiwishop.catalog_review import handlers, queries
from kiwishop.catalog_review.domain import ReviewError, StarRating, average_star_rating, parse_cursor
from kiwishop.catalog_review.schemas import CreateReviewIn, ReviewOut, ReviewPageOut, ReviewSummaryOut
from kiwishop.catalog_review.settings import CatalogReviewSettings
from kiwishop.contracts.catalog import KnownProducts
from kiwishop.platform.deps import DatabaseDep, IdsDep, OutboxDep, app_state
from kiwishop.platform.errors import AppError
from kiwishop.platform.params import MAX_ID
from kiwishop.platform.web import JSONResponse, model_response

router = APIRouter(prefix="/api/product-reviews")
PositiveId = Annotated[int, Path(ge=1, le=MAX_ID)]
SettingsDep = Annotated[CatalogReviewSettings, Depends(app_state("settings", CatalogReviewSettings))]
KnownProductsDep = Annotated[KnownProducts, Depends(app_state("known_products", KnownProducts))]


@router.post(
    "",
    status_code=201,
    response_model=ReviewOut,
    summary="Review a product",
    responses={404: {"description": "catalog does not know the product"}, 503: {"description": "catalog down"}},
)
async def create_review(
    body: CreateReviewIn,
    products: KnownProductsDep,
    db: DatabaseDep,
    ids: IdsDep,
    outbox: OutboxDep,
    settings: SettingsDep,
) -> JSONResponse:
    await products.require(body.productNo)
    new = handlers.NewReview(body.productNo, body.memberNo, body.title, body.content, StarRating[body.starRatingType])
    review = await handlers.create_review(
        db, ids, outbox, new, attempts=settings.conflict_attempts, topic=settings.topic
    )
    return model_response(ReviewOut.of(review), status_code=201)


@router.delete(
    "/{productReviewNo}",
    status_code=204,
    summary="Delete a review (deleting it again changes nothing)",
    responses={404: {"description": "unknown review"}},
)
async def delete_review(
    productReviewNo: PositiveId, db: DatabaseDep, outbox: OutboxDep, settings: SettingsDep
) -> Response:
    await handlers.delete_review(db, outbox, productReviewNo, attempts=settings.conflict_attempts, topic=settings.topic)
    return Response(status_code=204)


@router.get("/products/{productNo}", response_model=ReviewPageOut, summary="A product's reviews, newest first")
async def list_reviews(
    productNo: PositiveId,
    db: DatabaseDep,
    settings: SettingsDep,
    cursor: Annotated[str | None, Query(description="nextCursor of the previous page")] = None,
    limit: Annotated[int | None, Query(ge=1)] = None,
) -> JSONResponse:
    try:
        before = parse_cursor(cursor)
    except ValueError as exc:
        raise AppError(ReviewError.INVALID_CURSOR) from exc
    size = min(limit or settings.default_page_size, settings.max_page_size)
    reviews, next_no = await queries.list_reviews(db, productNo, before, size)
    page = ReviewPageOut(
        productReviewList=[ReviewOut.of(r) for r in reviews], nextCursor=str(next_no) if next_no else None
    )
    return model_response(page)


@router.get("/products/{productNo}/summary", response_model=ReviewSummaryOut, summary="Review count and mean stars")
async def summary(productNo: PositiveId, db: DatabaseDep) -> JSONResponse:
    totals = await queries.totals(db, productNo)
    average = average_star_rating(totals.review_count, totals.star_rating_sum)
    return model_response(
        ReviewSummaryOut(productNo=productNo, reviewCount=totals.review_count, averageStarRating=average)
    )
