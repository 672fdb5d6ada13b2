from __future__ import annotations

from decimal import Decimal

import httpx
from fastapi import APIRouter, FastAPI
from pydantic import BaseModel

from kiwishop.platform.errors import AppError, CommonError
from kiwishop.platform.metrics import Metrics
from kiwishop.platform.web import JSONResponse, build_app, model_response
from tests.support import running_app

router = APIRouter()


class Item(BaseModel):
    name: str
    qty: int


@router.post("/items")
async def create_item(item: Item) -> dict[str, str]:
    return {"name": item.name}


@router.get("/boom")
async def boom() -> None:
    raise ZeroDivisionError("secret internals")


@router.get("/conflict")
async def conflict() -> None:
    raise AppError(CommonError.CONFLICT)


class Priced(BaseModel):
    price: Decimal


@router.get("/priced", response_model=Priced)
async def priced() -> JSONResponse:
    return model_response(Priced(price=Decimal("1000.00")))


def make_app(ready: bool = True) -> tuple[FastAPI, Metrics]:
    async def check() -> None:
        if not ready:
            raise ConnectionError("down")

    metrics = Metrics("test")
    app = build_app(title="t", metrics=metrics, readiness={"database": check})
    app.include_router(router)
    return app, metrics


async def test_unknown_routes_get_the_json_error_shape() -> None:
    app, _ = make_app()
    async with running_app(app) as client:
        response = await client.get("/nope", headers={"Accept-Language": "en"})
    assert response.status_code == 404
    assert response.json() == {"code": "NOT_FOUND", "message": "No such resource."}


async def test_wrong_method_is_405_with_the_json_error_shape() -> None:
    app, _ = make_app()
    async with running_app(app) as client:
        response = await client.delete("/items")
    assert response.status_code == 405
    assert response.json()["code"] == "METHOD_NOT_ALLOWED"


async def test_validation_errors_are_400_with_field_details_in_korean_by_default() -> None:
    app, _ = make_app()
    async with running_app(app) as client:
        response = await client.post("/items", json={"name": "a", "qty": "many"})
    assert response.status_code == 400
    body = response.json()
    assert body["code"] == "INVALID_REQUEST"
    assert body["message"] == "요청 값이 올바르지 않습니다."
    assert body["details"][0]["field"] == "qty"


async def test_unexpected_errors_are_500_without_a_stack_trace() -> None:
    app, _ = make_app()
    transport = httpx.ASGITransport(app=app, raise_app_exceptions=False)
    async with httpx.AsyncClient(transport=transport, base_url="http://t") as client:
        response = await client.get("/boom")
    assert response.status_code == 500
    assert response.json() == {"code": "INTERNAL_ERROR", "message": "서버 내부 오류가 발생했습니다."}
    assert "secret internals" not in response.text


async def test_business_errors_keep_their_status() -> None:
    app, _ = make_app()
    async with running_app(app) as client:
        response = await client.get("/conflict")
    assert response.status_code == 409
    assert response.json()["code"] == "CONFLICT"


async def test_request_id_is_echoed_and_latency_recorded_per_route_template() -> None:
    app, _metrics = make_app()
    async with running_app(app) as client:
        response = await client.post("/items", json={"name": "a", "qty": 1}, headers={"X-Request-Id": "abc-123"})
        generated = await client.get("/health/live")
        exposition = (await client.get("/metrics")).text
    assert response.headers["x-request-id"] == "abc-123"
    assert len(generated.headers["x-request-id"]) == 32
    assert 'kiwi_http_request_duration_seconds_count{method="POST",route="/items",status="200"} 1.0' in exposition


async def test_readiness_reports_each_dependency() -> None:
    up, _ = make_app(ready=True)
    down, _ = make_app(ready=False)
    async with running_app(up) as client:
        ok = await client.get("/health/ready")
    async with running_app(down) as client:
        bad = await client.get("/health/ready")
    assert ok.status_code == 200
    assert ok.json() == {"status": "UP", "checks": {"database": "UP"}}
    assert bad.status_code == 503
    assert bad.json() == {"status": "DOWN", "checks": {"database": "DOWN: ConnectionError"}}
    assert "retry-after" not in ok.headers
    assert int(bad.headers["retry-after"]) >= 1  # a 503 like every other: a load balancer knows when to look again


async def test_the_documented_response_schema_allows_the_decimal_json_numbers_the_app_sends() -> None:
    """pydantic's serialization schema documents a Decimal as a string; model_response sends a number."""
    app, _ = make_app()
    price_schema = app.openapi()["components"]["schemas"]["Priced"]["properties"]["price"]
    assert {"type": "number"} in price_schema["anyOf"]
    async with running_app(app) as client:
        response = await client.get("/priced")
    assert response.content == b'{"price":1000.00}'
