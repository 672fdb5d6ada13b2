"""An infrastructure outage answers 503 with ``Retry-After``, never 500; a real bug still answers 500.

A request that fails because a server it needs is unreachable — MariaDB stopping, restarting or dropping
connections, a pool that cannot hand out a connection in time, Redis, the broker, a peer service — is not
wrong: the same request succeeds once the server is back. ``install`` registers one handler for each kind
of exception such a failure surfaces as (the database's through SQLAlchemy, but also what the driver or the
socket raise outside its wrapping), and that handler answers ``503 {code, message}`` with ``Retry-After``
(seconds), logged once at warning. An exception of those kinds that is *not* an outage (a duplicate key, a
syntax error, a missing table, a file not found) goes to the app's handler of unexpected errors: a 500.

Every 503 the error handlers render carries ``Retry-After`` (``retry_after``): the services' own 503 codes
(catalog, Redis or order unreachable) are outages too.
"""

from __future__ import annotations

import errno
import logging
import socket
from collections.abc import Awaitable, Callable

from aiokafka.errors import KafkaConnectionError, KafkaTimeoutError, NoBrokersAvailable, NodeNotReadyError
from fastapi import FastAPI, Request
from fastapi.responses import Response
from redis import exceptions as redis_errors
from sqlalchemy import exc as sa
from starlette.responses import JSONResponse

from kiwishop.platform.db import is_unavailable
from kiwishop.platform.errors import AppError, CommonError, language
from kiwishop.platform.httpclient import HttpError

log = logging.getLogger("kiwishop.web")

RETRY_AFTER_S = 2  # a MariaDB or Redis restart takes about that long here; clients may wait longer

Handler = Callable[[Request, Exception], Awaitable[Response]]

# The kinds of exception an outage surfaces as; ``is_outage`` decides for the broad ones (DBAPIError, OSError).
OUTAGE_TYPES: tuple[type[Exception], ...] = (
    sa.DBAPIError,  # OperationalError, InterfaceError; other subclasses when the connection was lost
    sa.TimeoutError,  # the pool could not hand out a connection in time
    sa.DisconnectionError,
    OSError,  # ConnectionResetError, BrokenPipeError, TimeoutError …, raised outside the driver's wrapping
    redis_errors.ConnectionError,  # also BusyLoadingError (Redis still loading its data), MaxConnectionsError
    redis_errors.TimeoutError,
    redis_errors.ReadOnlyError,  # a replica during a failover
    redis_errors.MasterDownError,
    redis_errors.TryAgainError,
    KafkaConnectionError,
    KafkaTimeoutError,
    NodeNotReadyError,
    NoBrokersAvailable,
    HttpError,  # a peer service could not be reached (callers usually map this to a code of their own)
    RuntimeError,  # only asyncmy's "the socket went away while connecting" (below); any other is a bug
)
# asyncmy asks the transport for its socket right after connecting; when the server closes the connection in
# that instant (MariaDB shutting down) uvloop's transport has none left, and asyncmy raises this RuntimeError.
_CLOSED_WHILE_CONNECTING = "Transport does not expose socket instance"

# OSErrors of a network that failed, besides ConnectionError and TimeoutError (which are always outages)
_NETWORK_ERRNOS = frozenset(
    getattr(errno, name)
    for name in ("ENETDOWN", "ENETUNREACH", "ENETRESET", "EHOSTDOWN", "EHOSTUNREACH", "ENOTCONN", "ESHUTDOWN")
    if hasattr(errno, name)
)


def is_outage(exc: BaseException) -> bool:
    """A server the request needs could not be reached or dropped it: nothing is wrong with the request."""
    if isinstance(exc, sa.DBAPIError):
        return isinstance(exc, (sa.OperationalError, sa.InterfaceError)) or is_unavailable(exc)
    if isinstance(exc, OSError):
        return isinstance(exc, (ConnectionError, TimeoutError, socket.gaierror)) or exc.errno in _NETWORK_ERRNOS
    if type(exc) is RuntimeError:  # exactly: the broker's errors are RuntimeErrors too, and outages by type
        return str(exc) == _CLOSED_WHILE_CONNECTING
    return isinstance(exc, OUTAGE_TYPES)


def retry_after(status: int) -> dict[str, str] | None:
    """The headers a response of ``status`` adds: ``Retry-After`` on a 503."""
    return {"Retry-After": str(RETRY_AFTER_S)} if status == 503 else None


def unavailable(request: Request) -> Response:
    """``503 SERVICE_UNAVAILABLE`` with ``Retry-After``."""
    err = AppError(CommonError.SERVICE_UNAVAILABLE)
    body = err.body(language(request.headers.get("accept-language")))
    return JSONResponse(body, status_code=err.status, headers=retry_after(err.status))


def install(app: FastAPI, unexpected: Handler) -> None:
    """Answer outages with 503 + ``Retry-After``; ``unexpected`` answers the exceptions of the same kinds that
    are bugs (and logs them as errors)."""

    async def on_outage(request: Request, exc: Exception) -> Response:
        if not is_outage(exc):
            return await unexpected(request, exc)
        cause = exc.orig if isinstance(exc, sa.DBAPIError) and exc.orig is not None else exc  # not the SQL
        log.warning("%s %s answered 503 (unavailable): %s: %s", request.method, request.url.path,
                    type(cause).__name__, cause)  # fmt: skip
        return unavailable(request)

    for kind in OUTAGE_TYPES:
        app.add_exception_handler(kind, on_outage)
