from __future__ import annotations

import pytest

from kiwishop.contracts import events
from kiwishop.seller.domain import (
    InvalidMessage,
    RegistrationState,
    SweepAction,
    is_valid_seller_id,
    parse_wallet_reply,
    state_after_reply,
    sweep_action,
    wallet_create_requested,
)

WALLET_CREATED, WALLET_CREATION_FAILED = events.WALLET_CREATED.name, events.WALLET_CREATION_FAILED.name

S = RegistrationState


@pytest.mark.parametrize("seller_id", ["B", "seller-1", "a_b-C9", "x" * 128, "0"])
def test_letters_digits_dash_and_underscore_up_to_128_characters_are_a_valid_seller_id(seller_id: str) -> None:
    assert is_valid_seller_id(seller_id)


@pytest.mark.parametrize(
    "seller_id", ["", " ", "   ", "a b", " B", "B ", "x" * 129, "판매자", "b!", "ｂ", "a\nb", "a.b", "a/b", "é"]
)
def test_blank_too_long_or_other_characters_are_not_a_valid_seller_id(seller_id: str) -> None:
    assert not is_valid_seller_id(seller_id)


def test_a_success_reply_completes_a_waiting_registration_and_a_failure_compensates_it() -> None:
    assert state_after_reply(S.WALLET_REQUESTED, success=True) is S.COMPLETED
    assert state_after_reply(S.WALLET_REQUESTED, success=False) is S.COMPENSATED


@pytest.mark.parametrize("current", [S.COMPLETED, S.COMPENSATED])
@pytest.mark.parametrize("success", [True, False])
def test_a_reply_to_a_finished_registration_changes_nothing(current: RegistrationState, success: bool) -> None:
    assert state_after_reply(current, success) is None


def test_the_sweeper_asks_again_until_the_last_attempt_then_compensates() -> None:
    assert [sweep_action(n, 3) for n in (1, 2, 3, 4)] == [
        SweepAction.RESEND,
        SweepAction.RESEND,
        SweepAction.COMPENSATE,
        SweepAction.COMPENSATE,
    ]
    assert sweep_action(1, 1) is SweepAction.COMPENSATE


def test_the_wallet_request_carries_saga_id_seller_number_and_seller_id() -> None:
    assert wallet_create_requested(7, 42, "B") == {"sagaId": 7, "sellerNo": 42, "sellerId": "B"}


def test_a_created_reply_reads_as_success_with_its_wallet_number() -> None:
    reply = parse_wallet_reply(WALLET_CREATED, {"sagaId": 7, "sellerNo": 42, "walletNo": 99, "success": True})
    assert (reply.saga_id, reply.seller_no, reply.wallet_no, reply.success) == (7, 42, 99, True)


def test_a_failed_reply_reads_as_failure_with_its_reason() -> None:
    reply = parse_wallet_reply(WALLET_CREATION_FAILED, {"sagaId": 7, "sellerNo": 42, "success": False, "reason": "no"})
    assert (reply.success, reply.reason, reply.wallet_no) == (False, "no", None)


@pytest.mark.parametrize(
    ("event_type", "payload"),
    [
        (WALLET_CREATED, {"sagaId": 7, "sellerNo": 42, "walletNo": 99}),  # the flag lost (S1) is not "false"
        (WALLET_CREATED, {"sagaId": 7, "sellerNo": 42, "walletNo": 99, "success": "true"}),
        (WALLET_CREATED, {"sagaId": 7, "sellerNo": 42, "walletNo": 99, "success": False}),
        (WALLET_CREATION_FAILED, {"sagaId": 7, "sellerNo": 42, "success": True}),
        (WALLET_CREATED, {"sellerNo": 42, "walletNo": 99, "success": True}),
        (WALLET_CREATED, {"sagaId": 7, "sellerNo": True, "walletNo": 99, "success": True}),
        (WALLET_CREATED, {"sagaId": 7, "sellerNo": 42, "success": True}),
        ("WALLET_SETTLED", {"sagaId": 7, "sellerNo": 42, "success": True}),
    ],
)
def test_a_reply_with_a_missing_or_contradicting_success_flag_or_ids_is_rejected(
    event_type: str, payload: dict[str, object]
) -> None:
    with pytest.raises(InvalidMessage):
        parse_wallet_reply(event_type, payload)
