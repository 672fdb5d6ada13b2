from __future__ import annotations

from fastapi import APIRouter, Request, Response
from redis.exceptions import RedisError

from kiwishop.hot_catalog.domain import HotError
from kiwishop.hot_catalog.hot_list import HotList
from kiwishop.hot_catalog.schemas import HotProductListOut
from kiwishop.platform.errors import AppError

router = APIRouter()


@router.get(
    "/api/hot-products",
    response_model=HotProductListOut,
    summary="At most 10 hot products in rank order (catalog's fields plus score and rank)",
    responses={503: {"description": "catalog or Redis cannot be reached"}},
)
async def hot_products(request: Request) -> Response:
    hot_list: HotList = request.app.state.hot_list
    try:
        body = await hot_list.render()
    except RedisError as exc:
        raise AppError(HotError.RANKING_UNAVAILABLE) from exc
    return Response(body, media_type="application/json")
