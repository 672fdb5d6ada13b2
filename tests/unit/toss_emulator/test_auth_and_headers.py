from __future__ import annotations

import base64

import pytest

from kiwishop.toss_emulator.domain import Caller, authenticate, check_idempotency_key, forced_error
from kiwishop.toss_emulator.errors import TossError, TossFailure

SECRET = "test_sk_zXLkKEypNArWmo50nX3lmeaxYG5R"
KEYS = (SECRET, "live_sk_abcdefghijklmnop")


def basic(text: str) -> str:
    return "Basic " + base64.b64encode(text.encode()).decode()


def failure_of(header: str | None) -> TossError:
    with pytest.raises(TossFailure) as caught:
        authenticate(header, KEYS)
    return caught.value.error


def test_the_secret_key_with_a_trailing_colon_authenticates_in_test_mode() -> None:
    caller = authenticate(basic(SECRET + ":"), KEYS)
    assert caller == Caller(SECRET)
    assert caller.test_mode


def test_a_live_key_authenticates_outside_test_mode() -> None:
    assert not authenticate(basic("live_sk_abcdefghijklmnop:"), KEYS).test_mode


def test_the_scheme_name_is_case_insensitive() -> None:
    assert authenticate("basic " + basic(SECRET + ":").split()[1], KEYS) == Caller(SECRET)


def test_a_key_without_the_colon_is_an_incorrect_basic_auth_format() -> None:
    assert failure_of(basic(SECRET)) is TossError.INCORRECT_BASIC_AUTH_FORMAT
    assert TossError.INCORRECT_BASIC_AUTH_FORMAT.status == 403


def test_text_that_is_not_base64_is_an_incorrect_basic_auth_format() -> None:
    assert failure_of("Basic %%%not-base64%%%") is TossError.INCORRECT_BASIC_AUTH_FORMAT


@pytest.mark.parametrize(
    "header",
    [
        None,
        "",
        "   ",
        "Bearer " + base64.b64encode(f"{SECRET}:".encode()).decode(),
        "Basic",
        basic("test_sk_unknown:"),
        basic("test_ck_D5GePWvyJnrK0W0k6q8gLzN97Eoq:"),
        basic("\ufeff" + SECRET + ":"),  # a BOM before the key (the encoded text starts with 77u/)
    ],
)
def test_a_missing_or_unknown_key_is_unauthorized(header: str | None) -> None:
    assert failure_of(header) is TossError.UNAUTHORIZED_KEY
    assert TossError.UNAUTHORIZED_KEY.status == 401


def test_a_test_code_header_forces_that_error_for_a_test_key() -> None:
    assert forced_error(Caller(SECRET), "REJECT_CARD_COMPANY") is TossError.REJECT_CARD_COMPANY
    assert forced_error(Caller(SECRET), None) is None


def test_a_live_key_ignores_the_test_code_header() -> None:
    assert forced_error(Caller("live_sk_abcdefghijklmnop"), "REJECT_CARD_COMPANY") is None


def test_an_unknown_test_code_is_an_invalid_test_code() -> None:
    with pytest.raises(TossFailure) as caught:
        forced_error(Caller(SECRET), "NO_SUCH_CODE")
    assert caught.value.error is TossError.INVALID_TEST_CODE
    assert caught.value.status == 400


def test_an_idempotency_key_may_have_up_to_300_characters() -> None:
    assert check_idempotency_key("k" * 300) == "k" * 300
    assert check_idempotency_key(None) is None
    for bad in ("k" * 301, ""):
        with pytest.raises(TossFailure) as caught:
            check_idempotency_key(bad)
        assert caught.value.error is TossError.INVALID_IDEMPOTENCY_KEY
