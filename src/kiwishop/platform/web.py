"""FastAPI app factory helpers: one error shape, request ids and traces, access metrics, health and /metrics."""

from __future__ import annotations

import logging
import time
import uuid
from collections.abc import AsyncIterator, Awaitable, Callable, Mapping, Sequence
from contextlib import asynccontextmanager
from typing import Any

from fastapi import FastAPI, Request
from fastapi.exceptions import RequestValidationError
from fastapi.responses import Response
from opentelemetry.trace import Span, StatusCode, Tracer
from pydantic import BaseModel
from starlette.exceptions import HTTPException as StarletteHTTPException
from starlette.responses import JSONResponse as StarletteJSONResponse
from starlette.types import ASGIApp, Message, Receive, Scope, Send

from kiwishop.platform import openapi, outages, tracing
from kiwishop.platform.errors import AppError, CommonError, ErrorCode, language
from kiwishop.platform.jsonutil import dumps
from kiwishop.platform.limits import DEFAULT_MAX_BODY_BYTES, BodyLimitMiddleware
from kiwishop.platform.metrics import CONTENT_TYPE_LATEST, Metrics
from kiwishop.platform.validation import validation_message

log = logging.getLogger("kiwishop.web")

Hook = Callable[[], Awaitable[None]]
Check = Callable[[], Awaitable[None]]


class JSONResponse(StarletteJSONResponse):
    """JSON with Decimals rendered as exact numbers (1000.00)."""

    def render(self, content: Any) -> bytes:
        return dumps(content)


def model_response(model: BaseModel, status_code: int = 200, headers: Mapping[str, str] | None = None) -> JSONResponse:
    """Render a response model keeping Decimals as exact JSON numbers (pydantic's JSON mode would quote them)."""
    return JSONResponse(model.model_dump(), status_code=status_code, headers=dict(headers) if headers else None)


def error_response(request: Request, code: ErrorCode, *, details: Any = None, **params: Any) -> JSONResponse:
    err = AppError(code, details=details, **params)
    body = err.body(language(request.headers.get("accept-language")))
    return JSONResponse(body, status_code=err.status, headers=outages.retry_after(err.status))


_STATUS_CODES = {
    404: CommonError.NOT_FOUND,
    405: CommonError.METHOD_NOT_ALLOWED,
    406: CommonError.NOT_ACCEPTABLE,
    413: CommonError.PAYLOAD_TOO_LARGE,
    415: CommonError.UNSUPPORTED_MEDIA_TYPE,
    503: CommonError.SERVICE_UNAVAILABLE,
}


def _validation_details(exc: RequestValidationError, lang: str) -> tuple[ErrorCode, list[dict[str, Any]]]:
    details: list[dict[str, Any]] = []
    code: ErrorCode = CommonError.INVALID_REQUEST
    for error in exc.errors():
        if error.get("type") == "json_invalid":
            code = CommonError.MALFORMED_JSON
            details.append({"field": "body", "message": validation_message(error, lang)})
            continue
        loc = [str(part) for part in error.get("loc", ()) if part not in ("body",)]
        details.append({"field": ".".join(loc) or "body", "message": validation_message(error, lang)})
    return code, details


def install_error_handlers(app: FastAPI) -> None:
    async def on_app_error(request: Request, exc: Exception) -> Response:
        assert isinstance(exc, AppError)
        body = exc.body(language(request.headers.get("accept-language")))
        headers = {**(outages.retry_after(exc.status) or {}), **exc.headers}
        return JSONResponse(body, status_code=exc.status, headers=headers or None)

    async def on_validation(request: Request, exc: Exception) -> Response:
        assert isinstance(exc, RequestValidationError)
        code, details = _validation_details(exc, language(request.headers.get("accept-language")))
        return error_response(request, code, details=details)

    async def on_http(request: Request, exc: Exception) -> Response:
        assert isinstance(exc, StarletteHTTPException)
        code = _STATUS_CODES.get(exc.status_code)
        if code is None:
            code = CommonError.INVALID_REQUEST if exc.status_code < 500 else CommonError.INTERNAL_ERROR
            response = error_response(request, code)
            response.status_code = exc.status_code
            return response
        return error_response(request, code)

    async def on_unexpected(request: Request, exc: Exception) -> Response:
        log.exception("unhandled error on %s %s", request.method, request.url.path, exc_info=exc)
        return error_response(request, CommonError.INTERNAL_ERROR)

    app.add_exception_handler(AppError, on_app_error)
    app.add_exception_handler(RequestValidationError, on_validation)
    app.add_exception_handler(StarletteHTTPException, on_http)
    outages.install(app, on_unexpected)  # an outage: 503 with Retry-After, never 500
    app.add_exception_handler(Exception, on_unexpected)


class RequestContextMiddleware:
    """Binds a request id (X-Request-Id in, echoed out) to the logs, runs the request in a server span that
    continues an incoming W3C ``traceparent`` (none or an invalid one: a new trace), named by method and route
    template, and records latency per route."""

    def __init__(self, app: ASGIApp, metrics: Metrics, tracer: Tracer | None = None) -> None:
        self.app = app
        self.metrics = metrics
        self.tracer = tracer or tracing.tracer("kiwishop")

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return
        request_id = ""
        carrier: dict[str, str] = {}
        for name, value in scope.get("headers", ()):
            if name == b"x-request-id":
                request_id = value.decode("latin-1")[: tracing.REQUEST_ID_MAX]
            elif name in _TRACE_HEADERS:
                carrier[_TRACE_HEADERS[name]] = value.decode("latin-1")
        request_id = request_id or uuid.uuid4().hex
        status = 500
        started = time.perf_counter()

        async def send_wrapper(message: Message) -> None:
            nonlocal status
            if message["type"] == "http.response.start":
                status = message["status"]
                message.setdefault("headers", [])
                message["headers"] = [*message["headers"], (b"x-request-id", request_id.encode())]
            await send(message)

        method = scope["method"]
        parent = tracing.extract(carrier) if carrier else None
        with tracing.span(self.tracer, method, tracing.SERVER, parent=parent, request_id=request_id) as traced:
            try:
                await self.app(scope, receive, send_wrapper)
            finally:
                route = scope.get("route")
                template = getattr(route, "path", None) or "unmatched"
                self.metrics.http_latency.labels(method, template, str(status)).observe(time.perf_counter() - started)
                _name_span(traced.span, method, template, status)


_TRACE_HEADERS = {b"traceparent": tracing.TRACEPARENT, b"tracestate": tracing.TRACESTATE}


def _name_span(span: Span, method: str, template: str, status: int) -> None:
    """The server span named once the route is known (``GET /api/orders/{orderId}``), with its outcome."""
    if not span.is_recording():
        return
    span.update_name(f"{method} {template}")
    span.set_attributes({"http.request.method": method, "http.route": template, "http.response.status_code": status})
    if status >= 500:
        span.set_status(StatusCode.ERROR)


def build_app(
    *,
    title: str,
    metrics: Metrics,
    on_startup: Sequence[Hook] = (),
    on_shutdown: Sequence[Hook] = (),
    readiness: Mapping[str, Check] | None = None,
    max_body_bytes: int = DEFAULT_MAX_BODY_BYTES,
    tracer: Tracer | None = None,
    **fastapi_kwargs: Any,
) -> FastAPI:
    """A FastAPI app whose lifespan runs ``on_startup`` in order and ``on_shutdown`` in order; a request body
    above ``max_body_bytes`` is refused with 413 before it is parsed (``limits.BodyLimitMiddleware``); each request
    runs in a server span of ``tracer`` (``platform/tracing.py``)."""
    checks = readiness if readiness is not None else {}

    @asynccontextmanager
    async def lifespan(_: FastAPI) -> AsyncIterator[None]:
        for hook in on_startup:
            await hook()
        try:
            yield
        finally:
            for hook in on_shutdown:
                try:
                    await hook()
                except Exception:
                    log.exception("shutdown hook failed")

    # One schema per model for requests and responses: pydantic's serialization schema would document Decimals
    # as strings, but ``model_response`` sends them as JSON numbers, which the validation schema allows.
    fastapi_kwargs.setdefault("separate_input_output_schemas", False)
    fastapi_kwargs.update(docs_url=None, redoc_url=None)  # openapi.install serves them without a CDN
    app = FastAPI(title=title, lifespan=lifespan, default_response_class=JSONResponse, **fastapi_kwargs)
    app.state.metrics = metrics
    install_error_handlers(app)
    openapi.install(app)
    app.add_middleware(BodyLimitMiddleware, max_body_bytes=max_body_bytes)  # inside: its 413 gets a request id
    app.add_middleware(RequestContextMiddleware, metrics=metrics, tracer=tracer)

    @app.get("/health/live", include_in_schema=False)
    async def live() -> dict[str, str]:
        return {"status": "UP"}

    @app.get("/health/ready", include_in_schema=False)
    async def ready() -> Response:
        results: dict[str, str] = {}
        for name, check in checks.items():
            try:
                await check()
                results[name] = "UP"
            except Exception as exc:
                results[name] = f"DOWN: {type(exc).__name__}"
        up = all(v == "UP" for v in results.values())
        body = {"status": "UP" if up else "DOWN", "checks": results}
        return JSONResponse(body, status_code=200 if up else 503, headers=None if up else outages.retry_after(503))

    @app.get("/metrics", include_in_schema=False)
    async def metrics_endpoint() -> Response:
        return Response(metrics.render(), media_type=CONTENT_TYPE_LATEST)

    return app
