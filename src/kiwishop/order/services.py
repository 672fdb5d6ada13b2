"""The order process's collaborators, built once by create_app and shared by routes and workers."""

from __future__ import annotations

from dataclasses import dataclass

from kiwishop.order.catalog_client import CatalogClient
from kiwishop.order.confirm import PaymentConfirmation
from kiwishop.order.settings import OrderSettings
from kiwishop.platform.db import Database
from kiwishop.platform.httpclient import HttpClient
from kiwishop.platform.ids import Snowflake


@dataclass
class OrderServices:
    settings: OrderSettings
    db: Database
    ids: Snowflake
    catalog: CatalogClient
    confirmation: PaymentConfirmation
    catalog_http: HttpClient
    hot_catalog_http: HttpClient
