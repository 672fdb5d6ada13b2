"""FastAPI dependencies for a service's routes: its ``Runtime``, the parts made by it, and the objects the
service keeps on ``app.state`` (``app_state``). A route takes them as parameters::

    async def get_seller(sellerNo: Id, db: DatabaseDep) -> JSONResponse: ...

Each reads ``request.app`` only, so none of them adds a parameter to the OpenAPI document. They are
coroutines, so FastAPI runs them on the event loop instead of handing each to a worker thread.
"""

from __future__ import annotations

from collections.abc import Awaitable, Callable
from typing import Annotated, TypeVar

from fastapi import Depends, Request

from kiwishop.platform.db import Database
from kiwishop.platform.ids import Snowflake
from kiwishop.platform.outbox import Outbox
from kiwishop.platform.runtime import Runtime

T = TypeVar("T")


async def runtime_of(request: Request) -> Runtime:
    runtime: Runtime = request.app.state.runtime
    return runtime


async def database_of(request: Request) -> Database:
    return (await runtime_of(request)).database()


async def ids_of(request: Request) -> Snowflake:
    return (await runtime_of(request)).ids


async def outbox_of(request: Request) -> Outbox:
    """The outbox the service asked for while building the app (asking first here raises: no relay would run)."""
    return (await runtime_of(request)).outbox()


RuntimeDep = Annotated[Runtime, Depends(runtime_of)]
DatabaseDep = Annotated[Database, Depends(database_of)]
IdsDep = Annotated[Snowflake, Depends(ids_of)]
OutboxDep = Annotated[Outbox, Depends(outbox_of)]


def app_state(name: str, kind: type[T]) -> Callable[[Request], Awaitable[T]]:
    """A dependency returning ``app.state.<name>``, which the service's ``create_app`` set to a ``kind``::

    SettingsDep = Annotated[WalletSettings, Depends(app_state("settings", WalletSettings))]
    """

    async def dependency(request: Request) -> T:
        value = getattr(request.app.state, name)
        if not isinstance(value, kind):
            raise TypeError(f"app.state.{name} is a {type(value).__name__}, not a {kind.__name__}")
        return value

    dependency.__name__ = f"app_state_{name}"
    return dependency
