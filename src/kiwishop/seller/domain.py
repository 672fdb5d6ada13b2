"""Seller rules: what a valid sellerId is, the registration saga's states and guarded transitions, and the
messages exchanged with wallet (docs/events.md). Standard library only."""

from __future__ import annotations

import datetime as dt
import enum
import re
from dataclasses import dataclass
from typing import Any

from kiwishop.contracts.events import (
    WALLET_CREATED,
    WALLET_CREATION_FAILED,
    SellerDeregisteredV1,
    SellerRegisteredV1,
    WalletCreateRequestedV1,
)
from kiwishop.platform.errors import ErrorCode
from kiwishop.platform.params import MAX_ID

SELLER_ID_MAX_LENGTH = 128
_SELLER_ID = re.compile(r"[A-Za-z0-9_-]+")

# The reason announced for a seller deleted before lifecycle events existed and without a saga error.
DELETED_BEFORE_EVENTS = "seller was deleted before seller lifecycle events were published"


class SellerError(ErrorCode):
    INVALID_SELLER_ID = (
        "SLR0001",
        400,
        "sellerId 는 1~128자의 영문, 숫자, '-', '_' 로만 이루어져야 합니다.",
        "sellerId must be 1 to 128 characters, letters, digits, '-' or '_' only.",
    )
    DUPLICATE_SELLER_ID = (
        "SLR0002",
        409,
        "이미 등록된 판매자 ID 입니다: {sellerId}",
        "Seller id {sellerId} is already registered.",
    )
    SELLER_NOT_FOUND = ("SLR0003", 404, "판매자가 존재하지 않습니다.", "The seller does not exist.")
    REGISTRATION_NOT_FOUND = (
        "SLR0004",
        404,
        "판매자 등록 요청이 존재하지 않습니다.",
        "The seller registration does not exist.",
    )


def is_valid_seller_id(value: str) -> bool:
    """Non-blank, at most 128 characters, ASCII letters, digits, '-' and '_' only."""
    return 0 < len(value) <= SELLER_ID_MAX_LENGTH and _SELLER_ID.fullmatch(value) is not None


class RegistrationState(enum.StrEnum):
    WALLET_REQUESTED = "WALLET_REQUESTED"
    COMPLETED = "COMPLETED"
    COMPENSATED = "COMPENSATED"


def state_after_reply(current: RegistrationState, success: bool) -> RegistrationState | None:
    """Where a wallet reply moves a registration; None for a duplicate or late reply (nothing changes)."""
    if current is not RegistrationState.WALLET_REQUESTED:
        return None
    return RegistrationState.COMPLETED if success else RegistrationState.COMPENSATED


class SweepAction(enum.Enum):
    RESEND = "RESEND"
    COMPENSATE = "COMPENSATE"


def sweep_action(attempts: int, max_attempts: int) -> SweepAction:
    """A registration whose latest request timed out: ask again, or give up after ``max_attempts`` requests."""
    return SweepAction.RESEND if attempts < max_attempts else SweepAction.COMPENSATE


def timeout_reason(attempts: int) -> str:
    return f"wallet did not answer {attempts} wallet creation request(s)"


@dataclass(frozen=True)
class Seller:
    seller_no: int
    seller_id: str
    is_deleted: bool
    created_at: dt.datetime


@dataclass(frozen=True)
class Registration:
    registration_id: int
    seller_id: str
    seller_no: int
    state: RegistrationState
    attempts: int
    last_error: str | None


class InvalidMessage(ValueError):
    """A reply no retry can fix (malformed, or inconsistent with the saga it names)."""


@dataclass(frozen=True)
class WalletReply:
    saga_id: int
    seller_no: int
    success: bool
    wallet_no: int | None = None
    reason: str | None = None


def wallet_create_requested(saga_id: int, seller_no: int, seller_id: str) -> WalletCreateRequestedV1:
    return {"sagaId": saga_id, "sellerNo": seller_no, "sellerId": seller_id}


def seller_registered(seller_no: int, seller_id: str, registration_id: int | None) -> SellerRegisteredV1:
    """SELLER_REGISTERED; ``registrationId`` is None for a seller without a registration (the seed seller)."""
    return {"sellerNo": seller_no, "sellerId": seller_id, "registrationId": registration_id}


def seller_deregistered(seller_no: int, seller_id: str, reason: str) -> SellerDeregisteredV1:
    return {"sellerNo": seller_no, "sellerId": seller_id, "reason": reason[:500]}


def _positive_int(payload: dict[str, Any], name: str) -> int:
    value = payload.get(name)
    if isinstance(value, str) and value.isdigit():
        value = int(value)
    if not isinstance(value, int) or isinstance(value, bool) or not 1 <= value <= MAX_ID:
        raise InvalidMessage(f"{name} must be a positive integer, got {value!r}")
    return value


def parse_wallet_reply(event_type: str, payload: dict[str, Any]) -> WalletReply:
    """WALLET_CREATED / WALLET_CREATION_FAILED; the explicit ``success`` flag must agree with the type (S1)."""
    expected = {WALLET_CREATED.name: True, WALLET_CREATION_FAILED.name: False}.get(event_type)
    if expected is None:
        raise InvalidMessage(f"not a wallet reply: {event_type}")
    success = payload.get("success")
    if success is not expected:
        raise InvalidMessage(f"{event_type} must carry success={str(expected).lower()}, got {success!r}")
    saga_id = _positive_int(payload, "sagaId")
    seller_no = _positive_int(payload, "sellerNo")
    if success:
        return WalletReply(saga_id, seller_no, True, wallet_no=_positive_int(payload, "walletNo"))
    reason = payload.get("reason")
    return WalletReply(saga_id, seller_no, False, reason=str(reason)[:500] if reason else "wallet refused")
