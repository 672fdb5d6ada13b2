"""Route dependencies read the app, never the request's query: the OpenAPI document shows only real parameters."""

from __future__ import annotations

from typing import Annotated

import pytest
from fastapi import APIRouter, Depends

from kiwishop.platform.deps import IdsDep, RuntimeDep, app_state
from kiwishop.platform.runtime import Runtime
from kiwishop.platform.settings import ServiceSettings
from tests.support import running_app


class Greeter:
    def greet(self, name: str) -> str:
        return f"hello {name}"


GreeterDep = Annotated[Greeter, Depends(app_state("greeter", Greeter))]
router = APIRouter()


@router.get("/greet/{name}")
async def greet(name: str, greeter: GreeterDep, runtime: RuntimeDep, ids: IdsDep) -> dict[str, object]:
    return {"text": greeter.greet(name), "service": runtime.name, "fresh": ids.next_id() > 0}


@router.get("/wrong")
async def wrong(greeter: Annotated[Greeter, Depends(app_state("settings", Greeter))]) -> str:
    return greeter.greet("x")


def app_with_greeter() -> tuple[Runtime, object]:
    runtime = Runtime("deps-test", ServiceSettings())
    app = runtime.build_app(title="deps", routers=[router])
    app.state.greeter = Greeter()
    app.state.settings = runtime.settings
    return runtime, app


async def test_routes_get_the_runtime_its_parts_and_the_apps_objects() -> None:
    _, app = app_with_greeter()
    async with running_app(app) as client:  # type: ignore[arg-type]
        response = await client.get("/greet/kiwi")
    assert response.json() == {"text": "hello kiwi", "service": "deps-test", "fresh": True}


async def test_an_object_of_another_type_is_an_error_not_a_silent_surprise() -> None:
    _, app = app_with_greeter()
    async with running_app(app) as client:  # type: ignore[arg-type]
        with pytest.raises(TypeError, match=r"app\.state\.settings is a ServiceSettings, not a Greeter"):
            await client.get("/wrong")  # a 500 when served; the test transport raises it


def test_dependencies_add_no_parameter_to_the_openapi_document() -> None:
    _, app = app_with_greeter()
    parameters = app.openapi()["paths"]["/greet/{name}"]["get"]["parameters"]  # type: ignore[attr-defined]
    assert [p["name"] for p in parameters] == ["name"]


def test_an_outbox_asked_for_after_the_start_is_refused_its_relay_would_never_run() -> None:
    runtime, _ = app_with_greeter()
    runtime._started = True
    with pytest.raises(RuntimeError, match="before the app starts"):
        runtime.outbox()
