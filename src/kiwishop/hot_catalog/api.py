from __future__ import annotations

from fastapi import APIRouter, Request, Response

from kiwishop.hot_catalog.hot_list import HotList
from kiwishop.hot_catalog.schemas import HotProductListOut

router = APIRouter()


@router.get(
    "/api/hot-products",
    response_model=HotProductListOut,
    summary="At most 10 hot products in rank order (catalog's fields plus score and rank)",
    responses={503: {"description": "catalog cannot be reached"}},
)
async def hot_products(request: Request) -> Response:
    hot_list: HotList = request.app.state.hot_list
    return Response(await hot_list.render(), media_type="application/json")
