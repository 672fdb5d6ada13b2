"""The request middleware's server span (platform/web.py): an incoming traceparent continued, an invalid one
replaced by a new trace (never an error), the span named by method and route template, ids in the logs."""

from __future__ import annotations

from collections.abc import Iterator
from typing import Any

import httpx
import pytest
import structlog
from fastapi import APIRouter, FastAPI
from opentelemetry.sdk.trace import TracerProvider
from opentelemetry.sdk.trace.export import SimpleSpanProcessor
from opentelemetry.sdk.trace.export.in_memory_span_exporter import InMemorySpanExporter
from opentelemetry.trace import SpanKind, StatusCode

from kiwishop.platform import tracing
from kiwishop.platform.metrics import Metrics
from kiwishop.platform.web import build_app
from tests.support import running_app

TRACE = "0af7651916cd43dd8448eb211c80319c"
CALLER_SPAN = "b7ad6b7169203331"

router = APIRouter()


@router.get("/items/{item_id}")
async def item(item_id: int) -> dict[str, Any]:
    """What a log line written here would carry, and what an outbound call would send."""
    sent: dict[str, str] = {}
    tracing.inject(sent)
    return {"bound": dict(structlog.contextvars.get_contextvars()), "sent": sent}


@router.get("/boom")
async def boom() -> None:
    raise ZeroDivisionError("internals")


@pytest.fixture
def spans() -> Iterator[InMemorySpanExporter]:
    exporter = InMemorySpanExporter()
    yield exporter
    exporter.clear()


def make_app(exporter: InMemorySpanExporter) -> FastAPI:
    provider = TracerProvider()
    provider.add_span_processor(SimpleSpanProcessor(exporter))
    app = build_app(title="t", metrics=Metrics("trace-test"), tracer=provider.get_tracer("test"))
    app.include_router(router)
    return app


async def test_a_request_with_a_traceparent_continues_that_trace(spans: InMemorySpanExporter) -> None:
    async with running_app(make_app(spans)) as client:
        response = await client.get(
            "/items/7", headers={"traceparent": f"00-{TRACE}-{CALLER_SPAN}-01", "x-request-id": "req-7"}
        )
    assert response.status_code == 200
    body = response.json()
    assert body["bound"]["trace_id"] == TRACE
    assert body["bound"]["request_id"] == response.headers["x-request-id"] == "req-7"
    assert body["sent"]["traceparent"] == f"00-{TRACE}-{body['bound']['span_id']}-01"
    (span,) = spans.get_finished_spans()
    assert (span.name, span.kind) == ("GET /items/{item_id}", SpanKind.SERVER)
    assert span.parent is not None
    assert (span.parent.trace_id, span.parent.span_id) == (
        int(TRACE, 16),
        int(CALLER_SPAN, 16),
    )
    assert span.attributes is not None
    assert span.attributes["http.response.status_code"] == 200
    assert structlog.contextvars.get_contextvars() == {}  # nothing left bound after the request


@pytest.mark.parametrize("header", ["nonsense", f"00-{TRACE}-{'0' * 16}-01", f"zz-{TRACE}-{CALLER_SPAN}-01"])
async def test_an_invalid_traceparent_gets_a_new_trace_and_the_request_is_answered(
    spans: InMemorySpanExporter, header: str
) -> None:
    async with running_app(make_app(spans)) as client:
        response = await client.get("/items/7", headers={"traceparent": header})
    assert response.status_code == 200
    bound = response.json()["bound"]
    assert len(bound["trace_id"]) == 32
    assert bound["trace_id"] != TRACE
    assert len(bound["request_id"]) == 32  # a request id is made when the caller sends none
    (span,) = spans.get_finished_spans()
    assert span.parent is None


async def test_unmatched_and_failing_requests_are_spans_too(spans: InMemorySpanExporter) -> None:
    transport = httpx.ASGITransport(app=make_app(spans), raise_app_exceptions=False)
    async with httpx.AsyncClient(transport=transport, base_url="http://t") as client:
        assert (await client.get("/nowhere")).status_code == 404
        assert (await client.get("/boom")).status_code == 500
    unmatched, failed = spans.get_finished_spans()
    assert unmatched.name == "GET unmatched"
    assert failed.name == "GET /boom"
    assert failed.status.status_code == StatusCode.ERROR


async def test_without_a_tracer_the_app_still_binds_ids() -> None:
    app = build_app(title="t", metrics=Metrics("trace-test-default"))
    app.include_router(router)
    async with running_app(app) as client:
        body = (await client.get("/items/1", headers={"traceparent": f"00-{TRACE}-{CALLER_SPAN}-01"})).json()
    assert body["bound"]["trace_id"] == TRACE
    assert body["sent"]["traceparent"].startswith(f"00-{TRACE}-")
