"""FastAPI dependencies for a service's routes: its ``Runtime``, the parts made by it, and the objects the
service keeps on ``app.state`` (``app_state``). A route takes them as parameters::

    async def get_seller(sellerNo: Id, db: DatabaseDep) -> JSONResponse: ...

Each reads ``request.app`` (or a request header) only, so none of them adds a parameter to the OpenAPI
document. They are coroutines, so FastAPI runs them on the event loop instead of handing each to a worker
thread. ``PageLimit`` is the one query parameter every paged list shares (``limit: PageLimit = 20``).
"""

from __future__ import annotations

from collections.abc import Awaitable, Callable
from typing import Annotated, TypeVar

from fastapi import Depends, Query, Request

from kiwishop.platform.db import Database
from kiwishop.platform.errors import language
from kiwishop.platform.ids import Snowflake
from kiwishop.platform.outbox import Outbox
from kiwishop.platform.params import PAGE_LIMIT_MAX
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


async def language_of(request: Request) -> str:
    """The answer's language: 'en' with ``Accept-Language: en``, Korean ('ko') otherwise."""
    return language(request.headers.get("accept-language"))


RuntimeDep = Annotated[Runtime, Depends(runtime_of)]
DatabaseDep = Annotated[Database, Depends(database_of)]
IdsDep = Annotated[Snowflake, Depends(ids_of)]
OutboxDep = Annotated[Outbox, Depends(outbox_of)]
LanguageDep = Annotated[str, Depends(language_of)]
# The page size of every paged list: 1..PAGE_LIMIT_MAX, anything else a 400 (platform/params.py).
PageLimit = Annotated[int, Query(ge=1, le=PAGE_LIMIT_MAX, description=f"page size, 1 to {PAGE_LIMIT_MAX}")]


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
