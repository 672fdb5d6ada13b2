from __future__ import annotations

import base64
from decimal import Decimal

import pytest
from fastapi import FastAPI, Request

from kiwishop.platform import logs
from kiwishop.platform.httpclient import HttpClient, HttpError, HttpTimeout
from kiwishop.platform.jsonutil import dumps
from tests.support import served_app

echo = FastAPI()


@echo.api_route("/echo", methods=["GET", "POST"])
async def echo_route(request: Request) -> dict[str, object]:
    return {
        "auth": request.headers.get("authorization"),
        "requestId": request.headers.get("x-request-id"),
        "params": request.query_params.getlist("p"),
        "body": (await request.body()).decode(),
        "price": Decimal("1000.10"),
    }


@echo.get("/slow")
async def slow() -> None:
    import asyncio

    await asyncio.sleep(2)


async def test_basic_auth_repeated_params_exact_json_and_the_request_id_travel() -> None:
    async with served_app(echo) as url:
        client = HttpClient(url, basic_auth=("test_sk_x", ""))
        try:
            logs.bind(request_id="req-123")
            response = await client.post("/echo", json={"amount": Decimal("6000.00")})
            got = await client.get("/echo", params=[("p", "1"), ("p", "2")])
        finally:
            logs.unbind("request_id")
            await client.aclose()
    body = response.json()
    assert body["auth"] == "Basic " + base64.b64encode(b"test_sk_x:").decode()
    assert body["requestId"] == "req-123"
    assert body["body"] == dumps({"amount": Decimal("6000.00")}).decode()
    assert got.json()["params"] == ["1", "2"]
    assert response.status_code == 200


async def test_a_refused_connection_and_a_timeout_are_distinct_errors() -> None:
    dead = HttpClient("http://127.0.0.1:9", connect_timeout_s=0.5)
    with pytest.raises(HttpError) as refused:
        await dead.get("/x")
    assert not isinstance(refused.value, HttpTimeout)
    await dead.aclose()
    async with served_app(echo) as url:
        slow_client = HttpClient(url, read_timeout_s=0.2)
        with pytest.raises(HttpTimeout):
            await slow_client.get("/slow")
        await slow_client.aclose()
