"""JSON logs through structlog; request id, trace and span ids and event id travel in context variables."""

from __future__ import annotations

import contextvars
import logging
import sys
from collections.abc import Mapping
from typing import Any

import structlog

_SHARED: list[structlog.types.Processor] = [
    structlog.contextvars.merge_contextvars,
    structlog.stdlib.add_log_level,
    structlog.stdlib.add_logger_name,
    structlog.processors.TimeStamper(fmt="iso", utc=True),
]
# The bound request id again, for the code that forwards it (one lookup, not a scan of every bound value).
_request_id: contextvars.ContextVar[str | None] = contextvars.ContextVar("kiwishop_request_id", default=None)


def json_formatter(json: bool = True) -> structlog.stdlib.ProcessorFormatter:
    """The formatter of every log line: a structlog line or a standard library record, rendered with the context
    variables bound where it was logged (request id, trace and span ids, event id)."""
    renderer: structlog.types.Processor = (
        structlog.processors.JSONRenderer() if json else structlog.dev.ConsoleRenderer(colors=False)
    )
    return structlog.stdlib.ProcessorFormatter(
        foreign_pre_chain=_SHARED,
        processors=[
            structlog.stdlib.ProcessorFormatter.remove_processors_meta,
            structlog.processors.format_exc_info,
            renderer,
        ],
    )


def configure_logging(level: str = "INFO", json: bool = True) -> None:
    structlog.configure(
        processors=[*_SHARED, structlog.stdlib.ProcessorFormatter.wrap_for_formatter],
        logger_factory=structlog.stdlib.LoggerFactory(),
        wrapper_class=structlog.stdlib.BoundLogger,
        cache_logger_on_first_use=True,
    )
    formatter = json_formatter(json)
    handler = logging.StreamHandler(sys.stdout)
    handler.setFormatter(formatter)
    root = logging.getLogger()
    root.handlers[:] = [handler]
    root.setLevel(level.upper())
    for noisy in ("aiokafka", "uvicorn.access"):
        logging.getLogger(noisy).setLevel(logging.WARNING)
    # asyncmy logs every server warning, e.g. the expected "already exists" of CREATE ... IF NOT EXISTS.
    logging.getLogger("asyncmy").setLevel(logging.ERROR)


def bind(**values: object) -> None:
    structlog.contextvars.bind_contextvars(**values)
    if "request_id" in values:
        _request_id.set(str(values["request_id"]))


def unbind(*keys: str) -> None:
    structlog.contextvars.unbind_contextvars(*keys)
    if "request_id" in keys:
        _request_id.set(None)


def request_id() -> str | None:
    """The request id bound now (``bind``/``bind_scoped``), read without collecting every bound value: outbound
    calls and outbox rows carry it."""
    return _request_id.get()


Scoped = tuple[Mapping[str, contextvars.Token[Any]], contextvars.Token[str | None] | None]


def bind_scoped(**values: object) -> Scoped:
    """Bind ``values`` until ``reset(bound)``, which restores what was bound before (nested scopes stay right)."""
    tokens = structlog.contextvars.bind_contextvars(**values)
    value = values.get("request_id")
    return tokens, (_request_id.set(str(value)) if value is not None else None)


def reset(bound: Scoped) -> None:
    tokens, request_token = bound
    structlog.contextvars.reset_contextvars(**tokens)
    if request_token is not None:
        _request_id.reset(request_token)
