"""Toss error codes as data: code, HTTP status, Korean and English message (toss.md A4, order.md §3.4).

Every error the emulator answers on the Toss API has the body ``{"code", "message"}`` and the status of
this table. ``TossError.of(code)`` finds a member by its code (``TossPayments-Test-Code``, ``confirmErrors``).
Two members share the code ``INVALID_REQUEST`` with different messages (a malformed request, and an amount
that differs from the authorised one); ``of`` returns the generic one. ``EmulatorError`` holds the emulator's
own answers, which Toss does not have (the admin token of ``/emulator`` controls, a full store).
Stdlib only (plus the platform's error base).
"""

# ruff: noqa: E501  (the table keeps one code per line)
from __future__ import annotations

from typing import Any

from kiwishop.platform.errors import AppError, ErrorCode


class TossError(ErrorCode):
    # fmt: off
    # --- confirm API (toss.md A4, in the docs' order) ---
    ALREADY_PROCESSED_PAYMENT = ("ALREADY_PROCESSED_PAYMENT", 400, "이미 처리된 결제 입니다.", "This payment has already been processed.")
    ALREADY_COMPLETED_PAYMENT = ("ALREADY_COMPLETED_PAYMENT", 400, "이미 완료된 결제 입니다.", "This payment has already been completed.")
    PROVIDER_ERROR = ("PROVIDER_ERROR", 400, "일시적인 오류가 발생했습니다. 잠시 후 다시 시도해주세요.", "A temporary error occurred. Please try again shortly.")
    EXCEED_MAX_CARD_INSTALLMENT_PLAN = ("EXCEED_MAX_CARD_INSTALLMENT_PLAN", 400, "설정 가능한 최대 할부 개월 수를 초과했습니다.", "Exceeded the maximum installment months.")
    INVALID_REQUEST = ("INVALID_REQUEST", 400, "잘못된 요청입니다.", "The request is invalid.")
    AMOUNT_MISMATCH = ("INVALID_REQUEST", 400, "결제 금액이 승인 요청된 금액과 일치하지 않습니다.", "The amount does not match the authorised amount.")
    NOT_ALLOWED_POINT_USE = ("NOT_ALLOWED_POINT_USE", 400, "포인트 사용이 불가한 카드로 카드 포인트 결제에 실패했습니다.", "Card points cannot be used with this card.")
    INVALID_API_KEY = ("INVALID_API_KEY", 400, "잘못된 시크릿키 연동 정보 입니다.", "Incorrect secret key.")
    INVALID_REJECT_CARD = ("INVALID_REJECT_CARD", 400, "카드 사용이 거절되었습니다. 카드사 문의가 필요합니다.", "The card was declined. Please contact the card issuer.")
    BELOW_MINIMUM_AMOUNT = ("BELOW_MINIMUM_AMOUNT", 400, "신용카드는 결제금액이 100원 이상, 계좌는 200원 이상부터 결제가 가능합니다.", "Card payments start at 100 KRW, account payments at 200 KRW.")
    INVALID_CARD_EXPIRATION = ("INVALID_CARD_EXPIRATION", 400, "카드 정보를 다시 확인해주세요. (유효기간)", "Please check the card's expiry date.")
    INVALID_STOPPED_CARD = ("INVALID_STOPPED_CARD", 400, "정지된 카드 입니다.", "This card is suspended.")
    EXCEED_MAX_DAILY_PAYMENT_COUNT = ("EXCEED_MAX_DAILY_PAYMENT_COUNT", 400, "하루 결제 가능 횟수를 초과했습니다.", "Exceeded the daily number of payments.")
    NOT_SUPPORTED_INSTALLMENT_PLAN_CARD_OR_MERCHANT = ("NOT_SUPPORTED_INSTALLMENT_PLAN_CARD_OR_MERCHANT", 400, "할부가 지원되지 않는 카드 또는 가맹점 입니다.", "Installments are not supported by this card or merchant.")
    INVALID_CARD_INSTALLMENT_PLAN = ("INVALID_CARD_INSTALLMENT_PLAN", 400, "할부 개월 정보가 잘못되었습니다.", "The installment plan is invalid.")
    NOT_SUPPORTED_MONTHLY_INSTALLMENT_PLAN = ("NOT_SUPPORTED_MONTHLY_INSTALLMENT_PLAN", 400, "할부가 지원되지 않는 카드입니다.", "This card does not support installments.")
    EXCEED_MAX_PAYMENT_AMOUNT = ("EXCEED_MAX_PAYMENT_AMOUNT", 400, "하루 결제 가능 금액을 초과했습니다.", "Exceeded the daily payment amount.")
    NOT_FOUND_TERMINAL_ID = ("NOT_FOUND_TERMINAL_ID", 400, "단말기번호(Terminal Id)가 없습니다. 토스페이먼츠로 문의 바랍니다.", "No terminal id. Please contact Toss Payments.")
    INVALID_AUTHORIZE_AUTH = ("INVALID_AUTHORIZE_AUTH", 400, "유효하지 않은 인증 방식입니다.", "Invalid authentication method.")
    INVALID_CARD_LOST_OR_STOLEN = ("INVALID_CARD_LOST_OR_STOLEN", 400, "분실 혹은 도난 카드입니다.", "This card was reported lost or stolen.")
    RESTRICTED_TRANSFER_ACCOUNT = ("RESTRICTED_TRANSFER_ACCOUNT", 400, "계좌는 등록 후 12시간 뒤부터 결제할 수 있습니다.", "An account can be used 12 hours after registration.")
    INVALID_CARD_NUMBER = ("INVALID_CARD_NUMBER", 400, "카드번호를 다시 확인해주세요.", "Please check the card number.")
    INVALID_UNREGISTERED_SUBMALL = ("INVALID_UNREGISTERED_SUBMALL", 400, "등록되지 않은 서브몰입니다.", "The sub-mall is not registered.")
    NOT_REGISTERED_BUSINESS = ("NOT_REGISTERED_BUSINESS", 400, "등록되지 않은 사업자 번호입니다.", "The business number is not registered.")
    EXCEED_MAX_ONE_DAY_WITHDRAW_AMOUNT = ("EXCEED_MAX_ONE_DAY_WITHDRAW_AMOUNT", 400, "1일 출금 한도를 초과했습니다.", "Exceeded the daily withdrawal limit.")
    EXCEED_MAX_ONE_TIME_WITHDRAW_AMOUNT = ("EXCEED_MAX_ONE_TIME_WITHDRAW_AMOUNT", 400, "1회 출금 한도를 초과했습니다.", "Exceeded the per-withdrawal limit.")
    CARD_PROCESSING_ERROR = ("CARD_PROCESSING_ERROR", 400, "카드사에서 오류가 발생했습니다.", "An error occurred at the card company.")
    EXCEED_MAX_AMOUNT = ("EXCEED_MAX_AMOUNT", 400, "거래금액 한도를 초과했습니다.", "Exceeded the transaction amount limit.")
    INVALID_ACCOUNT_INFO_RE_REGISTER = ("INVALID_ACCOUNT_INFO_RE_REGISTER", 400, "유효하지 않은 계좌입니다. 계좌 재등록 후 시도해주세요.", "Invalid account. Please register the account again.")
    NOT_AVAILABLE_PAYMENT = ("NOT_AVAILABLE_PAYMENT", 400, "결제가 불가능한 시간대입니다.", "Payments are not available at this time.")
    UNAPPROVED_ORDER_ID = ("UNAPPROVED_ORDER_ID", 400, "아직 승인되지 않은 주문번호입니다.", "The order id has not been approved yet.")
    UNAUTHORIZED_KEY = ("UNAUTHORIZED_KEY", 401, "인증되지 않은 시크릿 키 혹은 클라이언트 키 입니다.", "Unauthorized secret key or client key.")
    REJECT_ACCOUNT_PAYMENT = ("REJECT_ACCOUNT_PAYMENT", 403, "잔액부족으로 결제에 실패했습니다.", "The payment failed: insufficient balance.")
    REJECT_CARD_PAYMENT = ("REJECT_CARD_PAYMENT", 403, "한도초과 혹은 잔액부족으로 결제에 실패했습니다.", "The payment failed: limit exceeded or insufficient balance.")
    REJECT_CARD_COMPANY = ("REJECT_CARD_COMPANY", 403, "결제 승인이 거절되었습니다.", "Payment confirm is rejected.")
    FORBIDDEN_REQUEST = ("FORBIDDEN_REQUEST", 403, "허용되지 않은 요청입니다.", "This request is not allowed.")
    REJECT_TOSSPAY_INVALID_ACCOUNT = ("REJECT_TOSSPAY_INVALID_ACCOUNT", 403, "선택하신 출금 계좌가 출금이체 등록이 되어 있지 않아요. 계좌를 다시 등록해 주세요.", "The withdrawal account is not registered for debit.")
    EXCEED_MAX_AUTH_COUNT = ("EXCEED_MAX_AUTH_COUNT", 403, "최대 인증 횟수를 초과했습니다. 카드사로 문의해주세요.", "Exceeded the maximum number of authentications.")
    EXCEED_MAX_ONE_DAY_AMOUNT = ("EXCEED_MAX_ONE_DAY_AMOUNT", 403, "일일 한도를 초과했습니다.", "Exceeded the daily limit.")
    NOT_AVAILABLE_BANK = ("NOT_AVAILABLE_BANK", 403, "은행 서비스 시간이 아닙니다.", "The bank is outside its service hours.")
    INVALID_PASSWORD = ("INVALID_PASSWORD", 403, "결제 비밀번호가 일치하지 않습니다.", "The payment password does not match.")
    INCORRECT_BASIC_AUTH_FORMAT = ("INCORRECT_BASIC_AUTH_FORMAT", 403, "잘못된 요청입니다. ':' 를 포함해 인코딩해주세요.", "Invalid request. Encode the key together with ':'.")
    FDS_ERROR = ("FDS_ERROR", 403, "위험거래가 감지되어 결제가 제한됩니다. 발송된 문자의 링크로 본인인증 후 결제가 가능합니다.", "A risky transaction was detected; verify yourself via the link sent by SMS.")
    NOT_FOUND_PAYMENT = ("NOT_FOUND_PAYMENT", 404, "존재하지 않는 결제 입니다.", "The payment does not exist.")
    NOT_FOUND_PAYMENT_SESSION = ("NOT_FOUND_PAYMENT_SESSION", 404, "결제 시간이 만료되어 결제 진행 데이터가 존재하지 않습니다.", "Payment session does not exist because the session time has expired.")
    FAILED_PAYMENT_INTERNAL_SYSTEM_PROCESSING = ("FAILED_PAYMENT_INTERNAL_SYSTEM_PROCESSING", 500, "결제가 완료되지 않았어요. 다시 시도해주세요.", "The payment was not completed. Please try again.")
    FAILED_INTERNAL_SYSTEM_PROCESSING = ("FAILED_INTERNAL_SYSTEM_PROCESSING", 500, "내부 시스템 처리 작업이 실패했습니다. 잠시 후 다시 시도해주세요.", "Internal processing failed. Please try again later.")
    UNKNOWN_PAYMENT_ERROR = ("UNKNOWN_PAYMENT_ERROR", 500, "결제에 실패했어요. 같은 문제가 반복된다면 은행이나 카드사로 문의해주세요.", "The payment failed. If it happens again, contact your bank or card company.")
    # --- idempotency and test headers ---
    INVALID_IDEMPOTENCY_KEY = ("INVALID_IDEMPOTENCY_KEY", 400, "멱등키는 300자 이하여야 합니다.", "The idempotency key must be at most 300 characters.")
    IDEMPOTENT_REQUEST_PROCESSING = ("IDEMPOTENT_REQUEST_PROCESSING", 409, "이전 멱등 요청이 처리중입니다.", "The previous idempotent request is still being processed.")
    INVALID_TEST_CODE = ("INVALID_TEST_CODE", 400, "테스트 코드가 올바르지 않습니다.", "Invalid test code.")
    # --- cancel API (toss.md A4, cancel-side codes) ---
    ALREADY_CANCELED_PAYMENT = ("ALREADY_CANCELED_PAYMENT", 400, "이미 취소된 결제 입니다.", "This payment has already been canceled.")
    NOT_CANCELABLE_AMOUNT = ("NOT_CANCELABLE_AMOUNT", 403, "취소 할 수 없는 금액 입니다.", "This amount cannot be canceled.")
    NOT_CANCELABLE_PAYMENT = ("NOT_CANCELABLE_PAYMENT", 403, "취소 할 수 없는 결제 입니다.", "This payment cannot be canceled.")
    NOT_ALLOWED_PARTIAL_REFUND = ("NOT_ALLOWED_PARTIAL_REFUND", 403, "부분 환불이 불가능한 결제입니다.", "Partial refunds are not allowed for this payment.")
    EXCEED_MAX_REFUND_DUE = ("EXCEED_MAX_REFUND_DUE", 403, "환불 가능한 기간이 지났습니다.", "The refund period has passed.")
    FAILED_REFUND_PROCESS = ("FAILED_REFUND_PROCESS", 500, "은행 응답시간 지연이나 일시적인 오류로 환불요청에 실패했습니다.", "The refund failed because of a bank delay or a temporary error.")
    FAILED_METHOD_HANDLING_CANCEL = ("FAILED_METHOD_HANDLING_CANCEL", 500, "취소 중 결제 시 사용한 결제 수단 처리과정에서 일시적인 에러가 발생했습니다.", "A temporary error occurred while canceling with the payment method.")
    INVALID_REFUND_ACCOUNT_INFO = ("INVALID_REFUND_ACCOUNT_INFO", 400, "환불 계좌번호와 예금주명이 일치하지 않습니다.", "The refund account number and holder do not match.")
    NOT_MATCHES_REFUNDABLE_AMOUNT = ("NOT_MATCHES_REFUNDABLE_AMOUNT", 400, "잔액 결과가 일치하지 않습니다.", "The refundable amount does not match the balance.")
    FORBIDDEN_CONSECUTIVE_REQUEST = ("FORBIDDEN_CONSECUTIVE_REQUEST", 403, "반복적인 요청은 허용되지 않습니다. 잠시 후 다시 시도해주세요.", "Consecutive requests are not allowed. Please try again shortly.")
    ALREADY_REFUND_PAYMENT = ("ALREADY_REFUND_PAYMENT", 400, "이미 환불된 결제입니다.", "This payment has already been refunded.")
    REFUND_REJECTED = ("REFUND_REJECTED", 400, "환불이 거절됐습니다. 결제사에 문의 부탁드립니다.", "The refund was rejected. Please contact the payment company.")
    EXCEED_CANCEL_LIMIT = ("EXCEED_CANCEL_LIMIT", 403, "취소 한도 금액을 초과 하였습니다.", "Exceeded the cancel limit.")
    FAILED_PARTIAL_REFUND = ("FAILED_PARTIAL_REFUND", 500, "부분 환불이 실패했습니다.", "The partial refund failed.")
    COMMON_ERROR = ("COMMON_ERROR", 500, "일시적인 오류가 발생했습니다. 잠시 후 다시 시도해주세요.", "A temporary error occurred. Please try again shortly.")
    # --- payment window (authorisation) ---
    DUPLICATED_ORDER_ID = ("DUPLICATED_ORDER_ID", 400, "이미 승인 및 취소가 진행된 중복된 주문번호 입니다. 다른 주문번호로 진행해주세요.", "This order id was already approved or canceled. Use another order id.")
    PAY_PROCESS_CANCELED = ("PAY_PROCESS_CANCELED", 400, "사용자에 의해 결제가 취소되었습니다.", "The payment was canceled by the user.")
    PAY_PROCESS_ABORTED = ("PAY_PROCESS_ABORTED", 400, "결제 진행 중 승인에 실패하여 결제가 중단되었습니다.", "The payment was aborted because its approval failed.")
    EXPIRED_PAYMENT = ("EXPIRED_PAYMENT", 400, "결제 유효 시간이 지나 만료된 결제입니다.", "The payment expired because it was not confirmed in time.")
    NOT_SUPPORTED_METHOD = ("NOT_SUPPORTED_METHOD", 400, "지원하지 않는 결제 수단입니다.", "This payment method is not supported.")
    INVALID_AMOUNT_VALUE = ("INVALID_AMOUNT_VALUE", 400, "결제 금액이 올바르지 않습니다.", "The amount is invalid.")
    INVALID_ORDER_ID = ("INVALID_ORDER_ID", 400, "주문번호는 6자 이상 64자 이하의 영문, 숫자, -, _, . 로 이루어져야 합니다.", "An order id is 6-64 letters, digits, '-', '_' or '.'.")
    INVALID_ORDER_NAME = ("INVALID_ORDER_NAME", 400, "주문명은 1자 이상 100자 이하여야 합니다.", "An order name is 1-100 characters.")
    INCORRECT_SUCCESS_URL_FORMAT = ("INCORRECT_SUCCESS_URL_FORMAT", 400, "successUrl 은 http:// 또는 https:// 로 시작하는 절대 주소여야 합니다.", "successUrl must be an absolute http(s) URL.")
    INCORRECT_FAIL_URL_FORMAT = ("INCORRECT_FAIL_URL_FORMAT", 400, "failUrl 은 http:// 또는 https:// 로 시작하는 절대 주소여야 합니다.", "failUrl must be an absolute http(s) URL.")
    # --- the emulator's own: a window may only send the buyer back to an allowed origin (allowed_redirect_origins) ---
    NOT_ALLOWED_SUCCESS_URL = ("NOT_ALLOWED_SUCCESS_URL", 400, "successUrl 이 허용된 상점 주소가 아닙니다.", "successUrl is not at an allowed shop origin.")
    NOT_ALLOWED_FAIL_URL = ("NOT_ALLOWED_FAIL_URL", 400, "failUrl 이 허용된 상점 주소가 아닙니다.", "failUrl is not at an allowed shop origin.")
    # fmt: on

    @classmethod
    def of(cls, code: str) -> TossError | None:
        """The member for a code string (the generic one when several share it)."""
        return _BY_CODE.get(code)

    def body(self, lang: str = "ko") -> dict[str, Any]:
        return {"code": self.code, "message": self.message(lang)}


_BY_CODE: dict[str, TossError] = {}
for _member in TossError:
    _BY_CODE.setdefault(_member.code, _member)

# Confirm failures that leave the payment IN_PROGRESS (the PSP may still approve on a retry). An injected
# confirm error with one of these codes is not stored as an idempotent response; any other code aborts
# the payment and is stored. Matches the retryable ("unknown") class of order.md §3.4. (A cancel refused
# as FORBIDDEN_CONSECUTIVE_REQUEST is not stored either: cancels.cancel_amount raises it as transient.)
TRANSIENT_CODES = frozenset(
    {
        "PROVIDER_ERROR",
        "CARD_PROCESSING_ERROR",
        "FAILED_PAYMENT_INTERNAL_SYSTEM_PROCESSING",
        "FAILED_INTERNAL_SYSTEM_PROCESSING",
        "UNKNOWN_PAYMENT_ERROR",
        "IDEMPOTENT_REQUEST_PROCESSING",
    }
)


class EmulatorError(ErrorCode):
    """The emulator's own answers, outside Toss's table: its controls' token, and its stores' caps."""

    # fmt: off
    ADMIN_TOKEN_REQUIRED = ("ADMIN_TOKEN_REQUIRED", 401, "에뮬레이터 관리 토큰이 필요합니다 (Authorization: Bearer …).", "The emulator's admin token is required (Authorization: Bearer …).")
    ADMIN_TOKEN_INVALID = ("ADMIN_TOKEN_INVALID", 403, "에뮬레이터 관리 토큰이 올바르지 않습니다.", "The emulator's admin token is wrong.")
    EMULATOR_FULL = ("EMULATOR_FULL", 503, "진행 중인 결제가 너무 많습니다. 잠시 후 다시 시도해주세요.", "Too many payments are in progress. Please try again shortly.")
    # fmt: on


class TossFailure(AppError):
    """A Toss error answer. ``transient`` failures are never stored as an idempotent response."""

    def __init__(self, error: TossError, *, transient: bool = False) -> None:
        super().__init__(error)
        self.error = error
        self.transient = transient
