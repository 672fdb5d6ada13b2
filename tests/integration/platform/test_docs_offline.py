"""/docs (Swagger UI) and /redoc work without the internet: every script, style and icon their pages load is
served by the service itself (platform/openapi.py, from the fastapi-offline distribution), and nothing on the
pages points to another host."""

from __future__ import annotations

import re

import httpx
import pytest

from kiwishop import services
from kiwishop.toss_emulator.app import create_app as create_emulator
from kiwishop.toss_emulator.settings import TossEmulatorSettings
from tests.support import served_app

NAMES = [service.name for service in services.definitions()]
ASSET_REFERENCE = re.compile(r"""(?:src|href)\s*=\s*["']([^"']+)["']""")
PAGES = {"/docs": ("swagger-ui-bundle.js", "swagger-ui.css"), "/redoc": ("redoc.standalone.js",)}
CONTENT_TYPES = {".js": "javascript", ".css": "text/css", ".png": "image/png"}


async def check_pages(client: httpx.AsyncClient) -> None:
    for page, expected in PAGES.items():
        response = await client.get(page)
        assert response.status_code == 200, page
        assert response.headers["content-type"].startswith("text/html")
        html = response.text
        assert "://" not in html, f"{page} names another host"
        assert "fonts.googleapis" not in html
        assets = ASSET_REFERENCE.findall(html)
        assert {url.rsplit("/", 1)[-1] for url in assets} >= {*expected, "favicon.png"}
        for url in assets:
            assert url.startswith("/"), url
            assert not url.startswith("//"), url
            asset = await client.get(url)
            assert asset.status_code == 200, url
            assert len(asset.content) > 1000, url
            suffix = url[url.rfind(".") :]
            assert CONTENT_TYPES[suffix] in asset.headers["content-type"], url
        assert "/openapi.json" in html
    spec = await client.get("/openapi.json")
    assert spec.status_code == 200
    assert spec.json()["paths"]


@pytest.mark.parametrize("name", NAMES)
async def test_the_docs_pages_load_only_the_services_own_assets(name: str) -> None:
    """In process, without the lifespan: the pages need neither the database nor the broker."""
    service = services.definition(name)
    app = service.create_app(service.settings())
    async with httpx.AsyncClient(transport=httpx.ASGITransport(app=app), base_url="http://docs.test") as client:
        await check_pages(client)


async def test_the_docs_pages_over_real_http() -> None:
    async with (
        served_app(create_emulator(TossEmulatorSettings(node_id=901))) as url,
        httpx.AsyncClient(base_url=url, timeout=30) as client,
    ):
        await check_pages(client)


async def test_an_unknown_asset_is_a_404_in_the_shops_error_shape() -> None:
    service = services.definition("catalog")
    app = service.create_app(service.settings())
    async with httpx.AsyncClient(transport=httpx.ASGITransport(app=app), base_url="http://docs.test") as client:
        response = await client.get("/docs/assets/nothing-here.js")
    assert response.status_code == 404
    assert response.json()["code"] == "NOT_FOUND"
