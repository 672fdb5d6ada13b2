"""Every service's OpenAPI document tells the truth, and its /docs and /redoc work without the internet.

``install(app)`` (called by ``web.build_app``) rewrites the document FastAPI generates, once, before it is
served:

- FastAPI's 422 goes: a request that fails validation is answered 400 with the shop's error shape
  (``web.install_error_handlers``), so no operation documents 422 and its ``HTTPValidationError`` is dropped.
- Every operation that takes input (a parameter or a body) documents 400, and every one that takes a body 413:
  a body above the service's ``max_body_bytes`` is refused before it is parsed (``limits.py``).
- Every operation that reaches the database through the platform's dependencies (``DatabaseDep``,
  ``OutboxDep``) documents 503: the platform answers 503 while the database is down. A route that reaches the
  database or Redis some other way (a service object on ``app.state``) says so with ``responses=UNAVAILABLE``.
- Every error response (4xx and 5xx) a route documents without a body of its own (``responses={404: {...}}``)
  gets the error shape, ``ErrorOut``: ``{code, message, details?}``.

Routes document their own codes (404, 409, …) with ``responses=`` as usual. ``/docs`` (Swagger UI) and
``/redoc`` load their scripts, styles and icon from ``/docs/assets/``, files the service serves itself from
the ``fastapi-offline`` distribution.
"""

from __future__ import annotations

import json
from collections.abc import Callable, Iterator, Sequence
from pathlib import Path
from typing import Any

import fastapi_offline
from fastapi import FastAPI
from fastapi.openapi.docs import get_redoc_html, get_swagger_ui_html
from fastapi.routing import APIRoute, iter_route_contexts
from fastapi.staticfiles import StaticFiles
from pydantic import BaseModel, Field
from starlette.requests import Request
from starlette.responses import HTMLResponse
from starlette.routing import BaseRoute

Responses = dict[int | str, dict[str, Any]]

DOCS_URL = "/docs"
REDOC_URL = "/redoc"
ASSETS_URL = "/docs/assets"
ASSETS_DIR = Path(fastapi_offline.__file__).parent / "static"
SWAGGER_JS, SWAGGER_CSS, REDOC_JS, FAVICON = (
    "swagger-ui-bundle.js",
    "swagger-ui.css",
    "redoc.standalone.js",
    "favicon.png",
)

BAD_REQUEST = "the request is invalid: a parameter or the body fails validation (INVALID_REQUEST, with `details`), "
BAD_REQUEST += "the body is not JSON (MALFORMED_JSON), or a service rule refuses it (the service's code)"
UNAVAILABLE_TEXT = "a server the service needs (its database, Redis or a peer) cannot be reached right now; retry"
TOO_LARGE_TEXT = "the request body is larger than the service accepts (PAYLOAD_TOO_LARGE); nothing was done"
UNAVAILABLE: Responses = {503: {"description": UNAVAILABLE_TEXT}}
_VALIDATION_SCHEMAS = ("HTTPValidationError", "ValidationError")
_METHODS = ("get", "put", "post", "delete", "options", "head", "patch", "trace")


class FieldErrorOut(BaseModel):
    """One offending field of a request that failed validation."""

    field: str = Field(description="where: a parameter name or a dotted path into the body ('body' for all of it)")
    message: str


class ErrorOut(BaseModel):
    """Every error answer of the shop: a stable code and a message (Korean, or English with
    ``Accept-Language: en``); ``details`` lists the offending fields of a request that failed validation."""

    code: str
    message: str
    details: list[FieldErrorOut] = Field(default_factory=list, description="present for validation errors only")


def _error_content() -> dict[str, Any]:
    return {"application/json": {"schema": {"$ref": "#/components/schemas/ErrorOut"}}}


def _error_schemas() -> dict[str, Any]:
    schema = ErrorOut.model_json_schema(ref_template="#/components/schemas/{model}")
    definitions: dict[str, Any] = schema.pop("$defs", {})
    return {**definitions, "ErrorOut": schema}


def _touches_the_database(dependant: Any) -> bool:
    # deps imports the runtime, which imports web (and web this module): import it when the document is built.
    from kiwishop.platform.deps import database_of, outbox_of

    pending, seen = [dependant], set[int]()
    while pending:
        dependant = pending.pop()
        if dependant.call in (database_of, outbox_of):
            return True
        for child in dependant.dependencies:
            if id(child) not in seen:
                seen.add(id(child))
                pending.append(child)
    return False


def _operations(schema: dict[str, Any]) -> Iterator[tuple[str, str, dict[str, Any]]]:
    for path, item in schema.get("paths", {}).items():
        for method, operation in item.items():
            if method in _METHODS and isinstance(operation, dict):
                yield path, method, operation


def _database_operations(routes: Sequence[BaseRoute]) -> set[tuple[str, str]]:
    """(path, method) of every documented operation whose dependencies reach the database."""
    found: set[tuple[str, str]] = set()
    for route in iter_route_contexts(routes):  # the routes of included routers too, with their prefixes
        path = route.path_format
        documented = isinstance(route.original_route, APIRoute) and route.include_in_schema
        if path and documented and _touches_the_database(route.dependant):
            found.update((path, method.lower()) for method in route.methods or ())
    return found


def document_errors(schema: dict[str, Any], routes: Sequence[BaseRoute]) -> dict[str, Any]:
    """Rewrite ``schema`` (FastAPI's document of ``routes``) in place as the module docstring says; return it."""
    database_routes = _database_operations(routes)
    for path, method, operation in _operations(schema):
        responses: dict[str, Any] = operation.setdefault("responses", {})
        responses.pop("422", None)
        if operation.get("parameters") or "requestBody" in operation:
            responses.setdefault("400", {"description": BAD_REQUEST})
        if "requestBody" in operation:
            responses.setdefault("413", {"description": TOO_LARGE_TEXT})
        if (path, method) in database_routes:
            responses.setdefault("503", {"description": UNAVAILABLE_TEXT})
        for status, response in responses.items():
            if status[:1] in ("4", "5") and "content" not in response:
                response["content"] = _error_content()
        operation["responses"] = dict(sorted(responses.items()))
    components = schema.setdefault("components", {}).setdefault("schemas", {})
    for name in _VALIDATION_SCHEMAS:  # HTTPValidationError first: it refers to ValidationError
        if f'"#/components/schemas/{name}"' not in json.dumps(schema):
            components.pop(name, None)
    components.update(_error_schemas())
    schema["components"]["schemas"] = dict(sorted(components.items()))
    return schema


def _asset(request: Request, name: str) -> str:
    return f"{request.scope.get('root_path', '').rstrip('/')}{ASSETS_URL}/{name}"


def install(app: FastAPI) -> None:
    """The truthful OpenAPI document, and /docs and /redoc served with the service's own assets. The app must
    have been made with ``docs_url=None, redoc_url=None`` (FastAPI's pages load their assets from a CDN)."""
    generate: Callable[[], dict[str, Any]] = app.openapi  # FastAPI's: cached until the routes change
    rewritten: list[dict[str, Any]] = []

    def openapi() -> dict[str, Any]:
        schema = generate()
        if not rewritten or rewritten[0] is not schema:
            rewritten[:] = [document_errors(schema, app.routes)]
        return schema

    app.openapi = openapi  # type: ignore[method-assign]
    app.mount(ASSETS_URL, StaticFiles(directory=ASSETS_DIR), name="docs-assets")

    def openapi_url(request: Request) -> str:
        return f"{request.scope.get('root_path', '').rstrip('/')}{app.openapi_url}"

    @app.get(DOCS_URL, include_in_schema=False)
    async def swagger_ui(request: Request) -> HTMLResponse:
        return get_swagger_ui_html(
            openapi_url=openapi_url(request),
            title=f"{app.title} - Swagger UI",
            swagger_js_url=_asset(request, SWAGGER_JS),
            swagger_css_url=_asset(request, SWAGGER_CSS),
            swagger_favicon_url=_asset(request, FAVICON),
            # no badge from the online validator (another host)
            swagger_ui_parameters={"validatorUrl": None, **(app.swagger_ui_parameters or {})},
        )

    @app.get(REDOC_URL, include_in_schema=False)
    async def redoc(request: Request) -> HTMLResponse:
        return get_redoc_html(
            openapi_url=openapi_url(request),
            title=f"{app.title} - ReDoc",
            redoc_js_url=_asset(request, REDOC_JS),
            redoc_favicon_url=_asset(request, FAVICON),
            with_google_fonts=False,
        )
