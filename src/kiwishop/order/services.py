"""The order process's collaborators, built once by create_app and shared by routes (``OrderServicesDep``):
the adapters the handlers are called with, and the handlers that hold state of their own."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Annotated, Literal

from fastapi import Depends

from kiwishop.order.catalog_client import CatalogClient
from kiwishop.order.handlers.cancel import CancelPayment
from kiwishop.order.handlers.confirm import ConfirmPayment
from kiwishop.order.handlers.ops import OpsActions
from kiwishop.order.handlers.webhook import SyncFromPsp
from kiwishop.order.seller_reads import SellerReads
from kiwishop.order.settings import OrderSettings
from kiwishop.order.store import SqlPaymentStore
from kiwishop.platform.db import Database
from kiwishop.platform.deps import app_state
from kiwishop.platform.httpclient import HttpClient
from kiwishop.platform.ids import Snowflake
from kiwishop.platform.ratelimit import RateLimiter

Action = Literal["checkout", "confirm", "cancel"]


@dataclass
class OrderServices:
    settings: OrderSettings
    db: Database
    ids: Snowflake
    store: SqlPaymentStore
    catalog: CatalogClient
    confirm_payment: ConfirmPayment
    catalog_http: HttpClient
    hot_catalog_http: HttpClient
    cancel_payment: CancelPayment
    sync_from_psp: SyncFromPsp
    seller_reads: SellerReads  # the seller page's reads from wallet and order-query
    limits: RateLimiter
    ops: OpsActions  # an operator's actions on orders in doubt (api_ops.py)

    async def count(self, action: Action, caller: int | str) -> None:
        """One more ``action`` (checkout, confirm, cancel) by ``caller`` (a member number, or an ops subject):
        ``AppError`` 429 with ``Retry-After`` past the member's limit (settings.rate_limit_*)."""
        s = self.settings
        limit = {"checkout": s.rate_limit_checkouts, "confirm": s.rate_limit_confirms, "cancel": s.rate_limit_cancels}
        await self.limits.check(action, caller, limit=limit[action], window_s=s.rate_limit_window_s)


OrderServicesDep = Annotated[OrderServices, Depends(app_state("services", OrderServices))]
