from __future__ import annotations

from typing import Annotated

from fastapi import APIRouter, Depends, Path, Request

from kiwishop.platform.auth import AUTH_RESPONSES, AnyPrincipal, require_seller
from kiwishop.platform.deps import DatabaseDep, app_state
from kiwishop.platform.params import MAX_ID, PAGE_LIMIT_MAX, next_cursor
from kiwishop.platform.web import JSONResponse, model_response
from kiwishop.wallet import queries
from kiwishop.wallet.domain import parse_page
from kiwishop.wallet.schemas import WalletOut, WalletTransactionOut, WalletTransactionPageOut
from kiwishop.wallet.settings import WalletSettings

router = APIRouter()
SellerNo = Annotated[int, Path(ge=1, le=MAX_ID)]
SettingsDep = Annotated[WalletSettings, Depends(app_state("settings", WalletSettings))]
# Read by hand (parse_page: WLT0002/WLT0003 for bad ones), so documented here for clients and the fuzz tests.
PAGE_PARAMETERS = [
    {"name": "cursor", "in": "query", "required": False, "description": "nextCursor of the previous page",
     "schema": {"type": "string"}},
    {"name": "limit", "in": "query", "required": False, "description": "page size (default 20, at most 100)",
     "schema": {"type": "integer", "minimum": 1}},
]  # fmt: skip


@router.get(
    "/api/wallets/sellers/{sellerNo}",
    response_model=WalletOut,
    summary="A seller's wallet: balance and version (that seller, or ops)",
    responses={**AUTH_RESPONSES, 404: {"description": "the seller has no wallet (WLT0001)"}},
)
async def get_wallet(sellerNo: SellerNo, principal: AnyPrincipal, db: DatabaseDep) -> JSONResponse:
    require_seller(principal, sellerNo)  # before the lookup: nobody else learns whether the seller has a wallet
    return model_response(WalletOut.of(await queries.get_wallet(db, sellerNo)))


@router.get(
    "/api/wallets/sellers/{sellerNo}/transactions",
    response_model=WalletTransactionPageOut,
    summary="A seller's wallet transactions, newest first; pass nextCursor as cursor for the next page (that "
    "seller, or ops)",
    responses={
        **AUTH_RESPONSES,
        400: {"description": "bad limit (WLT0002) or cursor (WLT0003), or an invalid sellerNo"},
        404: {"description": "the seller has no wallet (WLT0001)"},
    },
    openapi_extra={"parameters": PAGE_PARAMETERS},
)
async def list_transactions(
    request: Request, sellerNo: SellerNo, principal: AnyPrincipal, db: DatabaseDep, settings: SettingsDep
) -> JSONResponse:
    require_seller(principal, sellerNo)
    page = parse_page(
        request.query_params.get("cursor"),
        request.query_params.get("limit"),
        default=settings.transactions_page_default,
        maximum=PAGE_LIMIT_MAX,
    )
    items, last = await queries.list_transactions(db, sellerNo, page)
    body = WalletTransactionPageOut(
        transactions=[WalletTransactionOut.of(t) for t in items], nextCursor=next_cursor(last)
    )
    return model_response(body)
