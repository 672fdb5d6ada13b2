"""One trace per payment across HTTP and Kafka: OpenTelemetry spans, propagated by hand as W3C trace context.

A request's ``traceparent`` is continued by its server span (``web.py``), sent on outbound calls
(``httpclient.py``), stored with each outbox row the request's transaction writes (``outbox.py``: the column
``trace_context``), sent by the relay as Kafka headers (``relay.py``) and continued by a consumer span around the
whole handling of the record (``consumer.py``), whose outbox rows carry it on. Done by hand because
aiokafka's auto-instrumentation cannot: its consumer span closes before the handler runs, and the outbox hop
(a row written now, published later by another task) is invisible to it.

Spans are always made — their ids go into every log line (``trace_id``, ``span_id``, next to ``request_id``)
and into the headers — but exported only when ``KIWI_OTEL_EXPORTER`` says so: ``none`` (default), ``console``
(one JSON line per span on stderr, so stdout stays the JSON log stream) or ``otlp`` (OTLP/HTTP to
``KIWI_OTEL_EXPORTER_OTLP_ENDPOINT``). One tracer provider per service name and process, made on the first
call: tests run several services in one process, and building an app twice must not stack exporters. The global
OpenTelemetry provider is left unset on purpose: FastAPI's own telemetry switches itself on when one is set
(a second server span, and spans per dependency and serialization, on every request).
"""

from __future__ import annotations

import random
import sys
import threading
from collections.abc import Iterable, Mapping, Sequence
from contextvars import Token
from types import TracebackType
from typing import Any

import orjson
from opentelemetry import context as otel_context
from opentelemetry import trace
from opentelemetry.context import Context
from opentelemetry.sdk.resources import Resource
from opentelemetry.sdk.trace import TracerProvider
from opentelemetry.sdk.trace.export import BatchSpanProcessor, ConsoleSpanExporter, SpanExporter
from opentelemetry.trace import Link, NonRecordingSpan, NoOpTracer, Span, SpanContext, SpanKind, TraceFlags, Tracer
from opentelemetry.trace.propagation.tracecontext import TraceContextTextMapPropagator
from opentelemetry.trace.status import Status, StatusCode
from opentelemetry.util.types import Attributes

from kiwishop.platform import logs
from kiwishop.platform.settings import InfraSettings

TRACEPARENT = "traceparent"
TRACESTATE = "tracestate"
REQUEST_ID = "x-request-id"
REQUEST_ID_MAX = 64  # longer request ids are cut (they go into logs, headers and the outbox)
SERVER, CONSUMER = SpanKind.SERVER, SpanKind.CONSUMER
_WANTED = frozenset({TRACEPARENT, TRACESTATE, REQUEST_ID})
_MAX_STORED = 512  # the outbox column's size (``outbox.OUTBOX_TRACE_STATEMENTS``)

_PROPAGATOR = TraceContextTextMapPropagator()
_ROOT = Context()  # the parent of a span that starts a trace (never whatever happens to be current)
_tracers: dict[str, Tracer] = {}
_providers: list[TracerProvider] = []
_record_names: dict[str, str] = {}  # topic → its consumer spans' name, made once
# A new trace's flags, as the SDK sets them: sampled (a collector downstream keeps it), ids random (W3C level 2).
_ROOT_FLAGS = TraceFlags(TraceFlags.SAMPLED | TraceFlags.RANDOM_TRACE_ID)
_lock = threading.Lock()


def tracer(service: str, infra: InfraSettings | None = None) -> Tracer:
    """The tracer of ``service`` (the ``service.name`` of its spans), made on the first call for that name in this
    process from ``infra``'s exporter setting (no ``infra``: ``none``); later calls return the same one."""
    with _lock:
        found = _tracers.get(service)
        if found is None:
            exporter = _exporter(infra)
            if exporter is None:
                found = IdsOnlyTracer()
            else:
                resource = Resource.create({"service.name": service, "service.namespace": "kiwishop"})
                provider = TracerProvider(resource=resource)
                provider.add_span_processor(BatchSpanProcessor(exporter))
                _providers.append(provider)
                found = provider.get_tracer("kiwishop")
            _tracers[service] = found
    return found


def flush(timeout_ms: int = 5000) -> None:
    """Export the spans still buffered (a stopping service; tests). Each provider also does so at exit."""
    for provider in list(_providers):
        provider.force_flush(timeout_ms)


class IdsOnlyTracer(NoOpTracer):
    """The tracer when nothing is exported: its spans have ids — a child keeps its parent's trace id, flags and
    tracestate — but record nothing. The SDK's recording span would cost ~9 µs more per request or record
    (measured), only to be dropped."""

    def start_span(
        self,
        name: str,
        context: Context | None = None,
        kind: SpanKind = SpanKind.INTERNAL,
        attributes: Attributes = None,
        links: Sequence[Link] | None = None,
        start_time: int | None = None,
        record_exception: bool = True,
        set_status_on_exception: bool = True,
    ) -> Span:
        parent = trace.get_current_span(context).get_span_context()
        if parent.is_valid:
            ids = SpanContext(parent.trace_id, _new_id(64), False, parent.trace_flags, parent.trace_state)
        else:
            ids = SpanContext(_new_id(128), _new_id(64), False, _ROOT_FLAGS)
        return NonRecordingSpan(ids)


def _new_id(bits: int) -> int:
    """A random non-zero id, as the SDK's ``RandomIdGenerator`` makes them."""
    return random.getrandbits(bits) or 1


def _exporter(infra: InfraSettings | None) -> SpanExporter | None:
    if infra is None or infra.otel_exporter == "none":
        return None
    if infra.otel_exporter == "console":
        return ConsoleSpanExporter(out=sys.stderr, formatter=lambda span: span.to_json(indent=None) + "\n")
    from opentelemetry.exporter.otlp.proto.http.trace_exporter import OTLPSpanExporter  # only where it is used

    return OTLPSpanExporter(endpoint=infra.otel_exporter_otlp_endpoint)


def extract(headers: Mapping[str, str]) -> Context | None:
    """The remote parent named by ``headers`` (lower-case names: ``traceparent``, ``tracestate``), or None when
    there is none or it is not valid W3C trace context: the span then starts a new trace (never an error)."""
    if TRACEPARENT not in headers:
        return None
    found = _PROPAGATOR.extract(headers, _ROOT)
    return None if found is _ROOT else found  # the propagator hands back the context it was given: nothing valid


def inject(headers: dict[str, str]) -> None:
    """Add the current span's ``traceparent`` (and ``tracestate``) to outgoing ``headers``; nothing outside a span."""
    _PROPAGATOR.inject(headers)


def current_traceparent() -> str | None:
    """The W3C ``traceparent`` of the current span, None outside a span."""
    ctx = trace.get_current_span().get_span_context()
    if not ctx.is_valid:
        return None
    return f"00-{ctx.trace_id:032x}-{ctx.span_id:016x}-{ctx.trace_flags:02x}"


def current_request_id() -> str | None:
    """The request id of the request or record being handled (``span(request_id=…)``, ``logs.bind``), or None."""
    return logs.request_id()


def stored_context() -> str | None:
    """What an outbox row keeps of the transaction that wrote it: the current span's ``traceparent`` and
    ``tracestate`` and the request id, as the JSON of the Kafka headers the relay will send (None: nothing)."""
    carrier: dict[str, str] = {}
    _PROPAGATOR.inject(carrier)
    request_id = logs.request_id()
    if request_id:
        carrier[REQUEST_ID] = request_id
    if not carrier:
        return None
    stored = orjson.dumps(carrier).decode()
    if len(stored) > _MAX_STORED:  # only a huge tracestate gets here: W3C lets a hop drop it
        carrier.pop(TRACESTATE, None)
        stored = orjson.dumps(carrier).decode()
    return stored


def kafka_headers(stored: str | None) -> tuple[tuple[str, bytes], ...]:
    """The Kafka headers of an outbox row's ``trace_context`` (``stored_context``); none for a row without."""
    if not stored:
        return ()
    try:
        carrier = orjson.loads(stored)
    except orjson.JSONDecodeError:
        return ()
    if not isinstance(carrier, dict):
        return ()
    return tuple((k, v.encode()) for k, v in carrier.items() if k in _WANTED and isinstance(v, str))


def from_headers(headers: Iterable[tuple[str, bytes]] | None) -> tuple[Context | None, str | None]:
    """The remote parent and the request id in a Kafka record's headers; (None, None) for a record without."""
    if not headers:
        return None, None
    found: dict[str, str] = {}
    for key, value in headers:
        if key in _WANTED and value is not None:
            found[key] = value.decode("latin-1")
    request_id = found.get(REQUEST_ID)
    return extract(found), request_id[:REQUEST_ID_MAX] if request_id else None


class SpanScope:
    """A started span made current, its ids (and the request id) bound into the logs; ``with`` ends it, restores
    what was current and bound before, and marks the span failed when an exception leaves it."""

    __slots__ = ("_bound", "_otel_token", "span", "trace_id")

    def __init__(self, span: Span, request_id: str | None) -> None:
        self.span = span
        ids = span.get_span_context()
        self.trace_id = f"{ids.trace_id:032x}"
        self._otel_token: Token[Any] = otel_context.attach(trace.set_span_in_context(span))
        if request_id:
            self._bound = logs.bind_scoped(trace_id=self.trace_id, span_id=f"{ids.span_id:016x}", request_id=request_id)
        else:
            self._bound = logs.bind_scoped(trace_id=self.trace_id, span_id=f"{ids.span_id:016x}")

    def __enter__(self) -> SpanScope:
        return self

    def __exit__(
        self, exc_type: type[BaseException] | None, exc: BaseException | None, tb: TracebackType | None
    ) -> None:
        if exc is not None and self.span.is_recording():
            self.span.set_status(Status(StatusCode.ERROR, f"{type(exc).__name__}: {exc}"))
        self.span.end()
        logs.reset(self._bound)
        otel_context.detach(self._otel_token)


def span(
    tracer_: Tracer,
    name: str,
    kind: SpanKind,
    *,
    parent: Context | None = None,
    request_id: str | None = None,
    attributes: Mapping[str, str | int] | None = None,
) -> SpanScope:
    """Start a span: a child of ``parent`` (``extract``/``from_headers``), or the first span of a new trace."""
    started = tracer_.start_span(name, context=_ROOT if parent is None else parent, kind=kind, attributes=attributes)
    return SpanScope(started, request_id)


def record_span(tracer_: Tracer, topic: str, headers: Iterable[tuple[str, bytes]] | None) -> SpanScope:
    """The consumer span of one Kafka record (``process <topic>``): a child of the context in its headers, with
    their request id; a record without (an older one, a poison drill's) starts a new trace."""
    parent, request_id = from_headers(headers)
    name = _record_names.get(topic)
    if name is None:
        name = _record_names[topic] = f"process {topic}"
    return span(tracer_, name, CONSUMER, parent=parent, request_id=request_id)
