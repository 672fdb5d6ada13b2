"""The saga's wire contract, both ends: what wallet writes is what seller reads (S1, S13)."""

from __future__ import annotations

from kiwishop.contracts import events
from kiwishop.contracts.topics import SELLER, WALLET
from kiwishop.platform.envelope import Envelope
from kiwishop.seller import domain as seller
from kiwishop.wallet import domain as wallet


def over_the_wire(event_type: str, payload: dict[str, object]) -> Envelope:
    sent = Envelope(event_id=1, type=event_type, payload=payload, key="42")
    return Envelope.from_record(b"42", sent.to_json())


def test_the_success_flag_of_a_created_wallet_survives_serialization_as_true() -> None:
    request = wallet.parse_wallet_create_requested(seller.wallet_create_requested(7, 42, "B"))
    received = over_the_wire(events.WALLET_CREATED.name, dict(wallet.wallet_created(request, wallet_no=99)))
    assert b'"success":true' in Envelope(1, received.type, received.payload, "42").to_json()
    reply = seller.parse_wallet_reply(received.type, received.payload)
    assert (reply.success, reply.saga_id, reply.seller_no, reply.wallet_no) == (True, 7, 42, 99)


def test_a_refused_wallet_reads_as_failure_with_the_reason() -> None:
    request = wallet.parse_wallet_create_requested(seller.wallet_create_requested(7, 42, "B"))
    received = over_the_wire(
        events.WALLET_CREATION_FAILED.name, dict(wallet.wallet_creation_failed(request, "refused"))
    )
    reply = seller.parse_wallet_reply(received.type, received.payload)
    assert (reply.success, reply.reason) == (False, "refused")


def test_the_saga_types_are_the_contracts_seller_to_wallet_and_back() -> None:
    assert (events.WALLET_CREATE_REQUESTED.owner, events.WALLET_CREATE_REQUESTED.topic) == ("seller", SELLER)
    for reply in (events.WALLET_CREATED, events.WALLET_CREATION_FAILED):
        assert (reply.owner, reply.topic) == ("wallet", WALLET)
