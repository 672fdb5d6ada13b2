"""platform/tracing.py without servers: W3C trace context in and out, the outbox's stored context, Kafka headers,
and the ids bound into the logs for exactly as long as a span lasts."""

from __future__ import annotations

import re

import pytest
import structlog
from opentelemetry.trace import Tracer

from kiwishop.ops.dlt import Parked
from kiwishop.ops.redrive import redriven
from kiwishop.platform import tracing
from kiwishop.platform.settings import InfraSettings

TRACE = "4bf92f3577b34da6a3ce929d0e0e4736"
PARENT_SPAN = "00f067aa0ba902b7"
TRACEPARENT = f"00-{TRACE}-{PARENT_SPAN}-01"
HEX32, HEX16 = re.compile(r"[0-9a-f]{32}"), re.compile(r"[0-9a-f]{16}")


@pytest.fixture(params=["none", "console"])
def tracer(request: pytest.FixtureRequest) -> Tracer:
    """Both kinds of tracer: ids only (nothing exported) and the SDK's (spans recorded and exported)."""
    return tracing.tracer(f"unit-{request.param}", InfraSettings(otel_exporter=request.param))


def bound() -> dict[str, object]:
    return dict(structlog.contextvars.get_contextvars())


def test_a_span_continues_an_incoming_traceparent_and_sends_it_on(tracer: Tracer) -> None:
    parent = tracing.extract({"traceparent": TRACEPARENT, "tracestate": "vendor=abc"})
    assert parent is not None
    with tracing.span(tracer, "GET /x", tracing.SERVER, parent=parent) as scope:
        sent: dict[str, str] = {}
        tracing.inject(sent)
        assert scope.trace_id == TRACE
        assert tracing.current_traceparent() == sent["traceparent"]
    version, trace_id, span_id, flags = sent["traceparent"].split("-")
    assert (version, trace_id, flags) == ("00", TRACE, "01")
    assert HEX16.fullmatch(span_id)
    assert span_id != PARENT_SPAN
    assert sent["tracestate"] == "vendor=abc"
    assert tracing.current_traceparent() is None  # nothing current once the span ended


@pytest.mark.parametrize(
    "header",
    [
        "garbage",
        f"00-{'0' * 32}-{PARENT_SPAN}-01",  # all-zero trace id
        f"00-{TRACE}-{'0' * 16}-01",  # all-zero span id
        f"ff-{TRACE}-{PARENT_SPAN}-01",  # the forbidden version
        f"00-{TRACE.upper()}-{PARENT_SPAN}-01",  # upper-case hex
        f"00-{TRACE}-{PARENT_SPAN}-01-extra",  # version 00 has exactly four fields
        f"00-{TRACE}-{PARENT_SPAN}-01" + "x" * 600,
        "",
    ],
)
def test_an_invalid_traceparent_starts_a_new_trace_and_is_no_error(tracer: Tracer, header: str) -> None:
    assert tracing.extract({"traceparent": header}) is None
    with tracing.span(tracer, "GET /x", tracing.SERVER, parent=None) as scope:
        assert HEX32.fullmatch(scope.trace_id)
        assert scope.trace_id not in (TRACE, "0" * 32)
        assert tracing.current_traceparent() is not None


def test_two_new_traces_have_different_ids(tracer: Tracer) -> None:
    with tracing.span(tracer, "a", tracing.SERVER) as first:
        pass
    with tracing.span(tracer, "b", tracing.SERVER) as second:
        pass
    assert first.trace_id != second.trace_id


def test_the_span_binds_its_ids_and_the_request_id_into_the_logs_and_unbinds_them_after(tracer: Tracer) -> None:
    assert not {"trace_id", "span_id", "request_id"} & bound().keys()
    with tracing.span(tracer, "GET /x", tracing.SERVER, request_id="req-1") as scope:
        inside = bound()
        assert inside["trace_id"] == scope.trace_id
        assert HEX32.fullmatch(str(inside["trace_id"]))
        assert HEX16.fullmatch(str(inside["span_id"]))
        assert inside["request_id"] == tracing.current_request_id() == "req-1"
    assert not {"trace_id", "span_id", "request_id"} & bound().keys()
    assert tracing.current_request_id() is None


def test_a_nested_span_restores_the_outer_ids_when_it_ends(tracer: Tracer) -> None:
    with tracing.span(tracer, "outer", tracing.SERVER, request_id="outer-req") as outer:
        outer_span_id = bound()["span_id"]
        with tracing.span(tracer, "inner", tracing.CONSUMER, parent=None, request_id="inner-req") as inner:
            assert bound()["request_id"] == "inner-req"
            assert inner.trace_id != outer.trace_id
        assert bound() == {"trace_id": outer.trace_id, "span_id": outer_span_id, "request_id": "outer-req"}


def test_the_ids_are_unbound_when_an_exception_leaves_the_span(tracer: Tracer) -> None:
    with pytest.raises(ZeroDivisionError), tracing.span(tracer, "boom", tracing.SERVER, request_id="r"):
        _ = 1 / 0
    assert not {"trace_id", "span_id", "request_id"} & bound().keys()
    assert tracing.current_traceparent() is None


def test_the_stored_context_becomes_the_kafka_headers_and_a_consumer_continues_it(tracer: Tracer) -> None:
    assert tracing.stored_context() is None  # outside a span: a row without trace context
    with tracing.span(tracer, "POST /confirm", tracing.SERVER, parent=tracing.extract({"traceparent": TRACEPARENT}),
                      request_id="req-9"):  # fmt: skip
        stored = tracing.stored_context()
        writer = tracing.current_traceparent()
    assert stored is not None
    assert len(stored) <= 512
    headers = tracing.kafka_headers(stored)
    assert dict(headers) == {"traceparent": str(writer).encode(), "x-request-id": b"req-9"}
    _, request_id = tracing.from_headers(headers)
    assert request_id == "req-9"
    with tracing.record_span(tracer, "payments", headers) as scope:
        assert scope.trace_id == TRACE
        assert bound()["request_id"] == "req-9"
        assert tracing.current_traceparent() != writer  # the consumer's own span, in the writer's trace


def test_a_record_without_headers_or_with_broken_ones_starts_a_new_trace() -> None:
    assert tracing.from_headers(None) == (None, None)
    assert tracing.from_headers(()) == (None, None)
    assert tracing.from_headers([("traceparent", b"nope"), ("other", b"x")]) == (None, None)
    assert tracing.kafka_headers(None) == tracing.kafka_headers("not json") == tracing.kafka_headers("[1]") == ()
    assert tracing.kafka_headers('{"traceparent": 5, "evil": "x"}') == ()


def test_a_huge_tracestate_is_dropped_from_the_stored_context_but_the_trace_is_kept(tracer: Tracer) -> None:
    state = ",".join(f"k{i}=" + "v" * 12 for i in range(30))
    parent = tracing.extract({"traceparent": TRACEPARENT, "tracestate": state})
    with tracing.span(tracer, "x", tracing.SERVER, parent=parent, request_id="r" * 64):
        stored = tracing.stored_context()
    assert stored is not None
    assert len(stored) <= 512
    assert set(dict(tracing.kafka_headers(stored))) == {"traceparent", "x-request-id"}


def test_a_long_request_id_from_a_record_is_cut() -> None:
    _, request_id = tracing.from_headers([("x-request-id", b"r" * 500)])
    assert request_id == "r" * tracing.REQUEST_ID_MAX


def test_setting_up_a_service_twice_gives_the_same_tracer() -> None:
    infra = InfraSettings(otel_exporter="console")
    first = tracing.tracer("unit-twice", infra)
    assert tracing.tracer("unit-twice", infra) is first
    assert tracing.tracer("unit-twice") is first  # the first call's settings hold for the process


def test_only_the_console_and_otlp_settings_export() -> None:
    from opentelemetry.exporter.otlp.proto.http.trace_exporter import OTLPSpanExporter
    from opentelemetry.sdk.trace.export import ConsoleSpanExporter

    assert tracing._exporter(None) is None
    assert tracing._exporter(InfraSettings()) is None  # the default: nothing exported
    assert isinstance(tracing._exporter(InfraSettings(otel_exporter="console")), ConsoleSpanExporter)
    otlp = InfraSettings(otel_exporter="otlp", otel_exporter_otlp_endpoint="http://127.0.0.1:4318/v1/traces")
    assert isinstance(tracing._exporter(otlp), OTLPSpanExporter)


def test_the_console_exporter_writes_each_span_as_one_json_line_on_stderr(capfd: pytest.CaptureFixture[str]) -> None:
    traced = tracing.tracer("unit-console-lines", InfraSettings(otel_exporter="console"))
    parent = tracing.extract({"traceparent": TRACEPARENT})
    with tracing.span(traced, "GET /x", tracing.SERVER, parent=parent):
        pass
    tracing.flush()
    lines = [line for line in capfd.readouterr().err.splitlines() if "unit-console-lines" in line]
    assert len(lines) == 1
    assert f'"trace_id": "0x{TRACE}"' in lines[0]
    assert '"name": "GET /x"' in lines[0]


def test_a_redriven_record_carries_its_trace_context_back() -> None:
    headers = (
        ("traceparent", TRACEPARENT.encode()),
        ("tracestate", b"vendor=abc"),
        ("x-request-id", b"req-1"),
        ("kiwi.dlt.error", b"PermanentError: x"),
        ("kiwi.dlt.original.topic", b"kiwi-shop-payment"),
    )
    out = redriven(Parked("kiwi-shop-payment.DLT", 0, 3, b"order-1", b"{}", headers))
    assert dict(out.headers)["traceparent"] == TRACEPARENT.encode()
    assert dict(out.headers)["tracestate"] == b"vendor=abc"
    assert dict(out.headers)["x-request-id"] == b"req-1"
