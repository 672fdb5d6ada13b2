"""Every service's /openapi.json tells the truth about its error answers (platform/openapi.py): no 422 (a request
that fails validation is a 400), 400 wherever an operation takes input, no catch-all (``default``, ``4XX``) that
would let the fuzz tier's strict status check pass anything, and every JSON error documented as ``ErrorOut``,
the shape ``web.install_error_handlers`` really sends."""

from __future__ import annotations

from collections.abc import Iterator
from typing import Annotated, Any

import httpx
import pytest
from fastapi import APIRouter, Query

from kiwishop import services
from kiwishop.platform.deps import DatabaseDep
from kiwishop.platform.errors import AppError, CommonError
from kiwishop.platform.metrics import Metrics
from kiwishop.platform.openapi import UNAVAILABLE, ErrorOut
from kiwishop.platform.web import build_app

NAMES = [service.name for service in services.definitions()]
METHODS = ("get", "put", "post", "delete", "patch", "head", "options", "trace")
ERROR_OUT = {"$ref": "#/components/schemas/ErrorOut"}
O7 = "GET /api/orders/payment-events/{paymentEventNo}/members/{memberNo}"
LIKE = "/api/catalog-likes/products/{productNo}/members/{memberNo}"


def document(name: str) -> dict[str, Any]:
    service = services.definition(name)
    spec: dict[str, Any] = service.create_app(service.settings()).openapi()
    return spec


def operations(spec: dict[str, Any]) -> Iterator[tuple[str, dict[str, Any]]]:
    for path, item in spec["paths"].items():
        for method, operation in item.items():
            if method in METHODS:
                yield f"{method.upper()} {path}", operation


@pytest.fixture(scope="module", params=NAMES)
def spec(request: pytest.FixtureRequest) -> dict[str, Any]:
    return document(request.param)


def test_every_service_documents_operations(spec: dict[str, Any]) -> None:
    assert list(operations(spec))


def test_no_operation_documents_422_or_fastapis_validation_error(spec: dict[str, Any]) -> None:
    assert [label for label, op in operations(spec) if "422" in op["responses"]] == []
    assert "HTTPValidationError" not in spec["components"]["schemas"]
    assert "ValidationError" not in spec["components"]["schemas"]


def test_every_operation_that_takes_input_documents_400(spec: dict[str, Any]) -> None:
    takes_input = [(label, op) for label, op in operations(spec) if op.get("parameters") or "requestBody" in op]
    assert [label for label, op in takes_input if "400" not in op["responses"]] == []


def test_every_operation_that_takes_a_body_documents_413(spec: dict[str, Any]) -> None:
    takes_body = [(label, op) for label, op in operations(spec) if "requestBody" in op]
    assert [label for label, op in takes_body if "413" not in op["responses"]] == []


def test_every_documented_status_is_an_exact_code(spec: dict[str, Any]) -> None:
    """``default`` or a range (``4XX``) would make schemathesis' status_code_conformance accept anything."""
    loose = [(label, status) for label, op in operations(spec) for status in op["responses"] if not status.isdigit()]
    assert loose == []


def test_every_json_error_is_documented_as_error_out(spec: dict[str, Any]) -> None:
    wrong = []
    for label, op in operations(spec):
        for status, response in op["responses"].items():
            if int(status) < 400:
                continue
            json_body = response.get("content", {}).get("application/json")
            if "content" not in response or (json_body is not None and json_body.get("schema") != ERROR_OUT):
                wrong.append((label, status))
    assert wrong == []
    assert set(spec["components"]["schemas"]["ErrorOut"]["required"]) == {"code", "message"}


@pytest.mark.parametrize(
    ("name", "operation", "statuses"),
    [
        ("order", "POST /api/payments/confirm", {"200", "202", "400", "401", "403", "404", "409", "413", "429", "503"}),
        ("order", "POST /api/checkout", {"201", "400", "401", "403", "413", "429", "503"}),
        ("order", O7, {"200", "400", "401", "403", "404", "503"}),
        ("order", "GET /api/orders", {"200", "400", "401", "403", "404", "503"}),
        ("order", "POST /api/webhooks/toss", {"200", "400", "409", "413", "503"}),
        ("order-query", "GET /api/orders/members/{memberNo}", {"200", "400", "401", "403", "503"}),
        ("order-query", O7, {"200", "400", "401", "403", "404", "503"}),
        ("order-query", "GET /api/orders/sellers/{sellerNo}", {"200", "400", "401", "403", "503"}),
        ("catalog", "GET /products", {"200", "400", "503"}),
        ("catalog", "POST /api/products", {"201", "400", "401", "403", "409", "413", "503"}),
        ("catalog-like", "GET /api/catalog-likes/products/{productNo}", {"200", "400", "503"}),
        ("catalog-like", f"POST {LIKE}", {"204", "400", "401", "403", "404", "503"}),
        ("catalog-like", f"GET {LIKE}", {"200", "400", "401", "403", "503"}),
        ("catalog-review", "DELETE /api/product-reviews/{productReviewNo}", {"204", "400", "401", "403", "404", "503"}),
        ("catalog-review", "GET /api/product-reviews/products/{productNo}", {"200", "400", "503"}),
        ("wallet", "GET /api/wallets/sellers/{sellerNo}/transactions", {"200", "400", "401", "403", "404", "503"}),
        ("seller", "POST /api/sellers", {"202", "400", "409", "413", "429", "503"}),
        ("seller", "GET /api/sellers/registrations/{registrationId}", {"200", "400", "401", "403", "404", "503"}),
        ("hot-catalog", "GET /api/hot-products", {"200", "503"}),
        ("toss-emulator", "POST /emulator/window", {"303", "400", "413", "503"}),
        ("toss-emulator", "GET /emulator/stats", {"200", "401", "403"}),
        ("identity", "POST /api/auth/token", {"200", "400", "401", "413", "503"}),
        ("identity", "GET /.well-known/jwks.json", {"200"}),
        ("identity", "GET /api/auth/me", {"200", "401"}),
    ],
)
def test_operations_document_what_they_answer(name: str, operation: str, statuses: set[str]) -> None:
    found = dict(operations(document(name)))
    assert set(found[operation]["responses"]) == statuses


router = APIRouter()


@router.get("/plain")
async def plain(n: Annotated[int, Query(ge=1)]) -> dict[str, int]:
    return {"n": n}


@router.get("/stored", responses={**UNAVAILABLE, 404: {"description": "nothing stored"}})
async def stored(db: DatabaseDep) -> None:
    raise AppError(CommonError.NOT_FOUND)


@router.get("/constant")
async def constant() -> dict[str, int]:
    return {"n": 1}


def small_app() -> Any:
    app = build_app(title="t", metrics=Metrics("t"))
    app.include_router(router)
    return app


def test_a_route_on_the_database_documents_503_and_others_do_not() -> None:
    found = dict(operations(small_app().openapi()))
    assert set(found["GET /plain"]["responses"]) == {"200", "400"}
    assert set(found["GET /stored"]["responses"]) == {"200", "404", "503"}
    assert set(found["GET /constant"]["responses"]) == {"200"}


async def test_the_validation_error_the_app_sends_is_an_error_out() -> None:
    async with httpx.AsyncClient(transport=httpx.ASGITransport(app=small_app()), base_url="http://t") as client:
        response = await client.get("/plain", params={"n": "zero"})
    assert response.status_code == 400
    body = response.json()
    assert set(body) <= set(ErrorOut.model_fields)
    parsed = ErrorOut.model_validate(body)
    assert parsed.code == CommonError.INVALID_REQUEST.code
    assert [detail.field for detail in parsed.details] == ["query.n"]


def test_the_document_is_built_once_and_served_as_built() -> None:
    app = small_app()
    first = app.openapi()
    assert app.openapi() is first
    assert "422" not in first["paths"]["/plain"]["get"]["responses"]
