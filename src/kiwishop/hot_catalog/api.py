from __future__ import annotations

from typing import Annotated

from fastapi import APIRouter, Depends, Response
from redis.exceptions import RedisError

from kiwishop.hot_catalog.domain import HotError
from kiwishop.hot_catalog.queries import HotList
from kiwishop.hot_catalog.schemas import HotProductListOut
from kiwishop.platform.deps import app_state
from kiwishop.platform.errors import AppError

router = APIRouter()
HotListDep = Annotated[HotList, Depends(app_state("hot_list", HotList))]


@router.get(
    "/api/hot-products",
    response_model=HotProductListOut,
    summary="At most 10 hot products in rank order (catalog's fields plus score and rank)",
    responses={503: {"description": "catalog (HOT0001) or Redis (HOT0002) cannot be reached right now; retry"}},
)
async def hot_products(hot_list: HotListDep) -> Response:
    try:
        body = await hot_list.render()
    except RedisError as exc:
        raise AppError(HotError.RANKING_UNAVAILABLE) from exc
    return Response(body, media_type="application/json")
