"""Which exceptions are outages (503 with ``Retry-After``, logged once at warning) and which are bugs (500, logged
as errors): every kind a MariaDB, Redis or broker outage surfaces as — through SQLAlchemy or past it — on a
route of an app built by ``build_app``. No servers needed."""

from __future__ import annotations

import errno
import logging
from collections.abc import AsyncIterator

import httpx
import pytest
from aiokafka.errors import KafkaConnectionError, KafkaTimeoutError
from asyncmy import errors as my
from fastapi import HTTPException
from redis import exceptions as redis_errors
from sqlalchemy import exc as sa
from sqlalchemy.ext.asyncio import create_async_engine

from kiwishop.platform.db import Database
from kiwishop.platform.errors import AppError, CommonError
from kiwishop.platform.httpclient import HttpError, HttpTimeout
from kiwishop.platform.metrics import Metrics
from kiwishop.platform.outages import RETRY_AFTER_S
from kiwishop.platform.web import build_app

SQL = "SELECT 1"
# asyncmy's AttributeError on a dropped connection, as SQLAlchemy's asyncmy adapter translates it
ATTRIBUTE_ERROR = my.InternalError("network operation failed due to asyncmy attribute error")

OUTAGES: dict[str, Exception] = {
    "lost connection": sa.OperationalError(SQL, {}, my.OperationalError(2013, "Lost connection to MySQL server")),
    "refused": sa.OperationalError(SQL, {}, my.OperationalError(2003, "Can't connect to MySQL server")),
    "server shutdown": sa.OperationalError(SQL, {}, my.OperationalError(1053, "Server shutdown in progress")),
    "not connected": sa.InterfaceError(SQL, {}, my.InterfaceError(0, "Not connected")),
    "driver attribute error": sa.InternalError(SQL, {}, ATTRIBUTE_ERROR, connection_invalidated=True),
    "packet out of sequence": sa.InternalError(
        SQL, {}, my.InternalError("Packet sequence number wrong - got 2 expected 1"), connection_invalidated=True
    ),
    "already closed": sa.DBAPIError(SQL, {}, my.Error("Already closed"), connection_invalidated=True),
    "killed (as ProgrammingError)": sa.ProgrammingError(SQL, {}, my.ProgrammingError(1927, "Connection killed")),
    "read-only failover": sa.InternalError(SQL, {}, my.InternalError(1290, "--read-only")),
    "pool timeout": sa.TimeoutError("QueuePool limit of size 10 overflow 10 reached, connection timed out"),
    "disconnection": sa.DisconnectionError("connection invalidated"),
    "connection reset": ConnectionResetError(errno.ECONNRESET, "Connection reset by peer"),
    "broken pipe": BrokenPipeError(errno.EPIPE, "Broken pipe"),
    "refused socket": ConnectionRefusedError(errno.ECONNREFUSED, "Connection refused"),
    "timeout": TimeoutError(),
    "no route": OSError(errno.EHOSTUNREACH, "No route to host"),
    "redis down": redis_errors.ConnectionError("Error 111 connecting to 127.0.0.1:6379. Connection refused."),
    "redis timeout": redis_errors.TimeoutError("Timeout reading from socket"),
    "redis loading": redis_errors.BusyLoadingError("Redis is loading the dataset in memory"),
    "redis read-only": redis_errors.ReadOnlyError("You can't write against a read only replica."),
    "broker down": KafkaConnectionError("No connection to node 1"),
    "broker timeout": KafkaTimeoutError(),
    "peer down": HttpError("GET /products: ClientConnectorError"),
    "peer silent": HttpTimeout("GET /products: no answer in time"),
    # asyncmy connecting while MariaDB shuts down: uvloop's transport has no socket left (seen in the drill)
    "closed while connecting": RuntimeError("Transport does not expose socket instance"),
}
BUGS: dict[str, Exception] = {
    "duplicate key": sa.IntegrityError(SQL, {}, my.IntegrityError(1062, "Duplicate entry")),
    "no such table": sa.ProgrammingError(SQL, {}, my.ProgrammingError(1146, "Table 'x.y' doesn't exist")),
    "syntax error": sa.ProgrammingError(SQL, {}, my.ProgrammingError(1064, "You have an error in your SQL syntax")),
    "bad data": sa.DataError(SQL, {}, my.DataError(1406, "Data too long")),
    "pending rollback": sa.PendingRollbackError("Can't reconnect until invalid transaction is rolled back"),
    "file not found": FileNotFoundError(errno.ENOENT, "No such file"),
    "permission": PermissionError(errno.EACCES, "Permission denied"),
    "redis wrong type": redis_errors.ResponseError("WRONGTYPE Operation against a key holding the wrong kind"),
    "value error": ValueError("a bug"),
    "key error": KeyError("a bug"),
    "runtime error": RuntimeError("a bug"),
}


@pytest.fixture(scope="module")
async def client() -> AsyncIterator[httpx.AsyncClient]:
    app = build_app(title="outages", metrics=Metrics("outage_mapping_test"))

    @app.get("/raise/{kind}/{name}")
    async def raising(kind: str, name: str) -> None:
        raise (OUTAGES if kind == "outage" else BUGS)[name]

    @app.get("/app-error/{status}")
    async def app_error(status: int) -> None:
        raise AppError(CommonError.SERVICE_UNAVAILABLE if status == 503 else CommonError.CONFLICT)

    @app.get("/http-exception")
    async def http_exception() -> None:
        raise HTTPException(503)

    transport = httpx.ASGITransport(app=app, raise_app_exceptions=False)
    async with httpx.AsyncClient(transport=transport, base_url="http://test") as http:
        yield http


def assert_unavailable(response: httpx.Response) -> None:
    assert response.status_code == 503, response.text
    assert response.headers["retry-after"] == str(RETRY_AFTER_S)
    assert int(response.headers["retry-after"]) >= 1
    assert set(response.json()) == {"code", "message"}


@pytest.mark.parametrize("name", OUTAGES)
async def test_an_outage_answers_503_with_retry_after_logged_once_at_warning(
    client: httpx.AsyncClient, name: str, caplog: pytest.LogCaptureFixture
) -> None:
    caplog.set_level(logging.DEBUG)
    response = await client.get(f"/raise/outage/{name}", headers={"Accept-Language": "en"})
    assert_unavailable(response)
    assert response.json() == {"code": "SERVICE_UNAVAILABLE", "message": "The service is temporarily unavailable."}
    logged = [r for r in caplog.records if r.levelno >= logging.WARNING]
    assert [r.levelno for r in logged] == [logging.WARNING], [r.getMessage() for r in logged]
    assert "answered 503" in logged[0].getMessage()
    assert "SELECT 1" not in logged[0].getMessage()  # the driver's error, not the statement and its parameters


@pytest.mark.parametrize("name", BUGS)
async def test_a_bug_is_still_a_500_logged_as_an_error(
    client: httpx.AsyncClient, name: str, caplog: pytest.LogCaptureFixture
) -> None:
    response = await client.get(f"/raise/bug/{name}")
    assert response.status_code == 500, response.text
    assert response.json()["code"] == "INTERNAL_ERROR"
    assert "retry-after" not in response.headers
    assert [r.levelno for r in caplog.records if r.name == "kiwishop.web"] == [logging.ERROR]


async def test_every_503_an_error_handler_renders_carries_retry_after(client: httpx.AsyncClient) -> None:
    assert_unavailable(await client.get("/app-error/503"))  # a service's own "X cannot be reached" code
    assert_unavailable(await client.get("/http-exception"))
    conflict = await client.get("/app-error/409")
    assert conflict.status_code == 409
    assert "retry-after" not in conflict.headers


async def test_a_failing_outbox_commit_listener_does_not_fail_the_committed_work(
    caplog: pytest.LogCaptureFixture,
) -> None:
    db = Database(create_async_engine("mysql+asyncmy://nobody:x@127.0.0.1:9/none"))
    woken: list[str] = []

    def broken() -> None:
        raise RuntimeError("listener bug")

    db.on_outbox_commit(broken)
    db.on_outbox_commit(lambda: woken.append("relay"))
    db.notify_outbox_commit()  # after a commit: must not raise
    assert woken == ["relay"]
    assert any("listener failed" in r.getMessage() for r in caplog.records if r.levelno == logging.ERROR)
    await db.close()
