from __future__ import annotations

from fastapi import FastAPI

from kiwishop.catalog_review.api import router
from kiwishop.catalog_review.domain import ReviewError
from kiwishop.catalog_review.migrations import MIGRATIONS, SEED
from kiwishop.catalog_review.settings import CatalogReviewSettings
from kiwishop.contracts.catalog import KnownProducts
from kiwishop.platform import ops_api
from kiwishop.platform.httpclient import create_http_client
from kiwishop.platform.runtime import Runtime
from kiwishop.platform.service import ServiceDefinition


def create_app(settings: CatalogReviewSettings) -> FastAPI:
    runtime = Runtime("catalog-review", settings)
    runtime.produces(settings.topic)
    runtime.outbox()  # its relay runs in this process; the routes write through it
    catalog = create_http_client(
        settings.catalog_url, connect_timeout_s=settings.catalog_timeout_s, read_timeout_s=settings.catalog_timeout_s
    )
    runtime.on_shutdown(catalog.aclose)
    app = runtime.build_app(title="kiwi-shop catalog-review", routers=[router, ops_api.router])
    app.state.settings = settings
    app.state.known_products = KnownProducts(
        catalog,
        not_found=ReviewError.PRODUCT_NOT_FOUND,
        unavailable=ReviewError.CATALOG_UNAVAILABLE,
        cache_size=settings.known_products_cache_size,
    )
    return app


SERVICE = ServiceDefinition(
    name="catalog-review",
    settings_class=CatalogReviewSettings,
    create_app=create_app,  # type: ignore[arg-type]
    migrations=MIGRATIONS,
    seed=SEED,
)
