"""What a redrive sends and what it may commit, without a broker."""

from __future__ import annotations

from aiokafka import TopicPartition

from kiwishop.ops.dlt import Parked, dlt_name
from kiwishop.ops.redrive import _acknowledged, redriven, render_value, safe_text


def parked(offset: int = 7, partition: int = 2, **headers: str) -> Parked:
    pairs = tuple((k.replace("_", "."), v.encode()) for k, v in headers.items())
    return Parked("kiwi-shop-wallet.DLT", partition, offset, b"seller-1", b'{"eventId": 1}', pairs)


def test_a_topic_is_named_with_or_without_its_dlt_suffix() -> None:
    assert dlt_name("kiwi-shop-payment") == dlt_name("kiwi-shop-payment.DLT") == "kiwi-shop-payment.DLT"


def test_a_redriven_record_keeps_its_own_headers_and_counts_one_more_redrive() -> None:
    record = parked(
        trace="t-1",
        kiwi_redrive_count="1",
        kiwi_redrive_from="kiwi-shop-wallet.DLT:0:3",
        kiwi_dlt_error="PermanentError: no wallet",
        kiwi_dlt_original_topic="kiwi-shop-payment",
    )
    out = redriven(record)
    assert (out.topic, out.key, out.value) == ("kiwi-shop-payment", "seller-1", b'{"eventId": 1}')
    assert out.headers == (
        ("trace", b"t-1"),
        ("kiwi.redrive.count", b"2"),
        ("kiwi.redrive.from", b"kiwi-shop-wallet.DLT:2:7"),
    )


def test_a_record_without_an_original_topic_header_goes_to_the_dlt_name_minus_its_suffix() -> None:
    out = redriven(parked(kiwi_redrive_count="garbage"))
    assert out.topic == "kiwi-shop-wallet"
    assert dict(out.headers)["kiwi.redrive.count"] == b"1"


def test_only_the_acknowledged_prefix_of_each_partition_may_be_committed() -> None:
    batch = [parked(0, 0), parked(1, 0), parked(2, 0), parked(0, 1), parked(1, 1)]
    failure = OSError("broker gone")
    offsets, done = _acknowledged(batch, [None, failure, None, None, None])
    assert offsets == {TopicPartition("kiwi-shop-wallet.DLT", 0): 1, TopicPartition("kiwi-shop-wallet.DLT", 1): 2}
    assert [(p.partition, p.offset) for p in done] == [(0, 0), (1, 0), (1, 1)]


def test_values_and_keys_are_printed_without_raw_control_bytes() -> None:
    assert safe_text(b"\x1b[2Jhi") == repr(b"\x1b[2Jhi")
    assert safe_text(b"\xff") == repr(b"\xff")
    assert safe_text("상품A".encode()) == "상품A"
    assert render_value('{"name": "상품A"}'.encode()) == '{\n  "name": "상품A"\n}'
    assert render_value(b'{"name": "\\u001b[2J"}') == '{\n  "name": "\\u001b[2J"\n}'
