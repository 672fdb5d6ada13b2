"""Real catalog over real HTTP for the like, review and hot-catalog tests (shared by their conftests).

The services under test call catalog with their own httpx client and ``catalog_url``, exactly as in
production, so catalog must listen on a real port. The simplest robust way: run the catalog app with
uvicorn as a background task in the session's event loop, on a socket the test binds itself (port 0,
so no race for a "free" port). ``serve(app)`` yields the base URL and stops the server on exit;
``dead_url()`` is a loopback address nobody listens on (catalog down).
"""

from __future__ import annotations

import asyncio
import contextlib
import socket
from collections.abc import AsyncIterator
from decimal import Decimal

import httpx
import uvicorn
from fastapi import FastAPI

from kiwishop.catalog.app import SERVICE as CATALOG
from kiwishop.catalog.app import create_app as create_catalog
from kiwishop.catalog.settings import CatalogSettings
from kiwishop.platform.migrations import migrate
from kiwishop.platform.settings import InfraSettings
from tests.support import unique


@contextlib.asynccontextmanager
async def serve(app: FastAPI) -> AsyncIterator[str]:
    sock = socket.socket(socket.AF_INET, socket.SOCK_STREAM)
    sock.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
    sock.bind(("127.0.0.1", 0))
    port = sock.getsockname()[1]
    server = uvicorn.Server(uvicorn.Config(app, log_config=None, access_log=False, lifespan="on"))
    server.capture_signals = contextlib.nullcontext  # type: ignore[method-assign]  # pytest owns the signals
    task = asyncio.create_task(server.serve(sockets=[sock]))
    try:
        while not server.started:
            if task.done():
                task.result()
                raise RuntimeError("uvicorn stopped before it started")
            await asyncio.sleep(0.01)
        yield f"http://127.0.0.1:{port}"
    finally:
        server.should_exit = True
        await task
        sock.close()


@contextlib.asynccontextmanager
async def catalog_server(infra: InfraSettings, db_name: str = "it_social_catalog") -> AsyncIterator[str]:
    settings = CatalogSettings(infra=infra, db_name=db_name, node_id=111)
    await migrate(infra, db_name, CATALOG.migrations, CATALOG.seed)
    async with serve(create_catalog(settings)) as url:
        yield url


def dead_url() -> str:
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as sock:
        sock.bind(("127.0.0.1", 0))
        return f"http://127.0.0.1:{sock.getsockname()[1]}"


async def register_product(catalog_url: str, price: str = "1000.00") -> int:
    """A fresh product in catalog (tests isolate by product number)."""
    async with httpx.AsyncClient(base_url=catalog_url) as client:
        response = await client.post(
            "/api/products",
            json={"sellerNo": 1, "productId": unique("sku"), "name": unique("p")[:20], "price": str(Decimal(price))},
        )
    assert response.status_code == 201, response.text
    product_no: int = response.json()["productNo"]
    return product_no
