from __future__ import annotations

from typing import Annotated

from fastapi import APIRouter, Path, Query, Request, Response

from kiwishop.catalog_review import handlers
from kiwishop.catalog_review.domain import MAX_ID, ReviewError, StarRating, average_star_rating, parse_cursor
from kiwishop.catalog_review.schemas import CreateReviewIn, ReviewOut, ReviewPageOut, ReviewSummaryOut
from kiwishop.catalog_review.settings import CatalogReviewSettings
from kiwishop.contracts.catalog import KnownProducts
from kiwishop.platform.errors import AppError
from kiwishop.platform.runtime import Runtime
from kiwishop.platform.web import JSONResponse, model_response

router = APIRouter(prefix="/api/product-reviews")
PositiveId = Annotated[int, Path(ge=1, le=MAX_ID)]


def _runtime(request: Request) -> Runtime:
    runtime: Runtime = request.app.state.runtime
    return runtime


def _settings(request: Request) -> CatalogReviewSettings:
    settings: CatalogReviewSettings = request.app.state.settings
    return settings


@router.post(
    "",
    status_code=201,
    response_model=ReviewOut,
    summary="Review a product",
    responses={404: {"description": "catalog does not know the product"}, 503: {"description": "catalog down"}},
)
async def create_review(request: Request, body: CreateReviewIn) -> JSONResponse:
    products: KnownProducts = request.app.state.known_products
    await products.require(body.productNo)
    runtime = _runtime(request)
    new = handlers.NewReview(body.productNo, body.memberNo, body.title, body.content, StarRating[body.starRatingType])
    settings = _settings(request)
    review = await handlers.create_review(
        runtime.db, runtime.ids, runtime.outbox, new, attempts=settings.conflict_attempts, topic=settings.topic
    )
    return model_response(ReviewOut.of(review), status_code=201)


@router.delete(
    "/{productReviewNo}",
    status_code=204,
    summary="Delete a review (deleting it again changes nothing)",
    responses={404: {"description": "unknown review"}},
)
async def delete_review(request: Request, productReviewNo: PositiveId) -> Response:
    runtime = _runtime(request)
    settings = _settings(request)
    await handlers.delete_review(
        runtime.db, runtime.outbox, productReviewNo, attempts=settings.conflict_attempts, topic=settings.topic
    )
    return Response(status_code=204)


@router.get("/products/{productNo}", response_model=ReviewPageOut, summary="A product's reviews, newest first")
async def list_reviews(
    request: Request,
    productNo: PositiveId,
    cursor: Annotated[str | None, Query(description="nextCursor of the previous page")] = None,
    limit: Annotated[int | None, Query(ge=1)] = None,
) -> JSONResponse:
    settings = _settings(request)
    try:
        before = parse_cursor(cursor)
    except ValueError as exc:
        raise AppError(ReviewError.INVALID_CURSOR) from exc
    size = min(limit or settings.default_page_size, settings.max_page_size)
    reviews, next_no = await handlers.list_reviews(_runtime(request).db, productNo, before, size)
    page = ReviewPageOut(
        productReviewList=[ReviewOut.of(r) for r in reviews], nextCursor=str(next_no) if next_no else None
    )
    return model_response(page)


@router.get("/products/{productNo}/summary", response_model=ReviewSummaryOut, summary="Review count and mean stars")
async def summary(request: Request, productNo: PositiveId) -> JSONResponse:
    totals = await handlers.totals(_runtime(request).db, productNo)
    average = average_star_rating(totals.review_count, totals.star_rating_sum)
    return model_response(
        ReviewSummaryOut(productNo=productNo, reviewCount=totals.review_count, averageStarRating=average)
    )
