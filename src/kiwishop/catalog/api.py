from __future__ import annotations

from typing import Annotated

from fastapi import APIRouter, Depends, Path, Query, Request

from kiwishop.catalog import handlers, queries
from kiwishop.catalog.domain import CatalogError
from kiwishop.catalog.schemas import ProductListOut, ProductOut, ProductPageOut, RegisterProductIn
from kiwishop.catalog.settings import CatalogSettings
from kiwishop.platform.auth import AUTH_RESPONSES, SellerPrincipal, require_seller
from kiwishop.platform.deps import DatabaseDep, IdsDep, PageLimit, app_state
from kiwishop.platform.errors import AppError
from kiwishop.platform.params import MAX_ID, next_cursor, parse_id_list
from kiwishop.platform.web import JSONResponse, model_response

router = APIRouter()
ProductNo = Annotated[int, Path(ge=1, le=MAX_ID)]
SettingsDep = Annotated[CatalogSettings, Depends(app_state("settings", CatalogSettings))]
# Read by hand (two forms, CTG0003 for a bad one), so documented here for clients and the fuzz tests.
PRODUCT_NO_LIST = {
    "name": "productNoList",
    "in": "query",
    "required": True,
    "description": "product numbers, repeated (?productNoList=1&productNoList=3) or comma-separated (1,3)",
    "schema": {"type": "array", "items": {"type": "string"}},
    "style": "form",
    "explode": True,
}


@router.get(
    "/products",
    response_model=ProductListOut,
    summary="Products by id list (repeated or comma-separated productNoList), ascending productNo",
    responses={
        400: {
            "description": "productNoList missing or not positive numbers (CTG0003), or more of them than one "
            "lookup takes (CTG0004)"
        }
    },
    openapi_extra={"parameters": [PRODUCT_NO_LIST]},
)
async def list_products(request: Request, db: DatabaseDep, settings: SettingsDep) -> JSONResponse:
    values = request.query_params.getlist("productNoList")
    if not values:
        raise AppError(CatalogError.INVALID_PRODUCT_NO_LIST, value="(missing)")
    parsed = parse_id_list(values)
    if isinstance(parsed, str):
        raise AppError(CatalogError.INVALID_PRODUCT_NO_LIST, value=parsed[:40])
    limit = settings.max_products_per_lookup
    if len(parsed) > limit:
        raise AppError(CatalogError.TOO_MANY_PRODUCTS, limit=limit)
    found = await queries.find_products(db, parsed)
    return model_response(ProductListOut(productList=[ProductOut.of(p) for p in found]))


@router.get(
    "/api/products",
    response_model=ProductPageOut,
    summary="Every product, a page at a time, ascending productNo (cursor: the last productNo seen)",
)
async def browse_products(
    db: DatabaseDep,
    after: Annotated[int, Query(ge=0, le=MAX_ID)] = 0,
    limit: PageLimit = 20,
) -> JSONResponse:
    found, last = await queries.list_products(db, after=after, limit=limit)
    return model_response(ProductPageOut(productList=[ProductOut.of(p) for p in found], nextCursor=next_cursor(last)))


@router.get(
    "/products/{productNo}", response_model=ProductOut, responses={404: {"description": "unknown product (CTG0001)"}}
)
async def get_product(productNo: ProductNo, db: DatabaseDep) -> JSONResponse:
    return model_response(ProductOut.of(await queries.get_product(db, productNo)))


@router.post(
    "/api/products",
    status_code=201,
    response_model=ProductOut,
    summary="Register a product for a seller catalog knows as registered and live (that seller's token only)",
    responses={
        **AUTH_RESPONSES,
        409: {
            "description": "the seller already used this productId (CTG0002), or the seller is not registered "
            "(yet) as far as catalog knows (CTG0005)"
        },
    },
)
async def register_product(
    body: RegisterProductIn, principal: SellerPrincipal, db: DatabaseDep, ids: IdsDep
) -> JSONResponse:
    require_seller(principal, body.sellerNo)  # only for itself: another seller's sellerNo is 403, nothing written
    product = await handlers.register_product(
        db,
        ids,
        seller_no=body.sellerNo,
        product_id=body.productId,
        name=body.name,
        price=body.price,
    )
    return model_response(ProductOut.of(product), status_code=201)
