"""A failed payment's message in the client's language, chosen when an answer is rendered.

Order stores what decided a FAILURE (``failure_code``, ``failure_message``): the PSP's code and its own words
(Toss answers in Korean), or order's words for a verdict of its own (``PSP_AMOUNT_MISMATCH``, …, in English).
Answers show it in the language the client asked for (``Accept-Language``, Korean by default):

- Korean: the PSP's own Korean words when it gave some (they may be more specific than this table), else the
  table's Korean text for the code, else a generic Korean message naming the code;
- English: the table's English text for the code, else the stored words when they are English, else a
  generic English message naming the code.

The stored row is never changed. Stdlib only.
"""

from __future__ import annotations

import re

GENERIC_KO = "결제에 실패했습니다. ({code})"
GENERIC_EN = "The payment failed. ({code})"
_HANGUL = re.compile(r"[\uac00-\ud7a3]")

# code → (Korean, English). Toss's failure codes (order.md §3.4), then the codes order gives its own verdicts.
PSP_MESSAGES: dict[str, tuple[str, str]] = {
    "ALREADY_PROCESSED_PAYMENT": ("이미 처리된 결제 입니다.", "This payment has already been processed."),
    "ALREADY_COMPLETED_PAYMENT": ("이미 완료된 결제 입니다.", "This payment has already been completed."),
    "PROVIDER_ERROR": (
        "일시적인 오류가 발생했습니다. 잠시 후 다시 시도해주세요.",
        "A temporary error occurred. Please try again shortly.",
    ),
    "EXCEED_MAX_CARD_INSTALLMENT_PLAN": (
        "설정 가능한 최대 할부 개월 수를 초과했습니다.",
        "Exceeded the maximum installment months.",
    ),
    "INVALID_REQUEST": ("잘못된 요청입니다.", "The request is invalid."),
    "NOT_ALLOWED_POINT_USE": (
        "포인트 사용이 불가한 카드로 카드 포인트 결제에 실패했습니다.",
        "Card points cannot be used with this card.",
    ),
    "INVALID_API_KEY": ("잘못된 시크릿키 연동 정보 입니다.", "Incorrect secret key."),
    "INVALID_REJECT_CARD": (
        "카드 사용이 거절되었습니다. 카드사 문의가 필요합니다.",
        "The card was declined. Please contact the card issuer.",
    ),
    "BELOW_MINIMUM_AMOUNT": (
        "신용카드는 결제금액이 100원 이상, 계좌는 200원 이상부터 결제가 가능합니다.",
        "Card payments start at 100 KRW, account payments at 200 KRW.",
    ),
    "INVALID_CARD_EXPIRATION": ("카드 정보를 다시 확인해주세요. (유효기간)", "Please check the card's expiry date."),
    "INVALID_STOPPED_CARD": ("정지된 카드 입니다.", "This card is suspended."),
    "EXCEED_MAX_DAILY_PAYMENT_COUNT": ("하루 결제 가능 횟수를 초과했습니다.", "Exceeded the daily number of payments."),
    "NOT_SUPPORTED_INSTALLMENT_PLAN_CARD_OR_MERCHANT": (
        "할부가 지원되지 않는 카드 또는 가맹점 입니다.",
        "Installments are not supported by this card or merchant.",
    ),
    "INVALID_CARD_INSTALLMENT_PLAN": ("할부 개월 정보가 잘못되었습니다.", "The installment plan is invalid."),
    "NOT_SUPPORTED_MONTHLY_INSTALLMENT_PLAN": (
        "할부가 지원되지 않는 카드입니다.",
        "This card does not support installments.",
    ),
    "EXCEED_MAX_PAYMENT_AMOUNT": ("하루 결제 가능 금액을 초과했습니다.", "Exceeded the daily payment amount."),
    "NOT_FOUND_TERMINAL_ID": (
        "단말기번호(Terminal Id)가 없습니다. 토스페이먼츠로 문의 바랍니다.",
        "No terminal id. Please contact Toss Payments.",
    ),
    "INVALID_AUTHORIZE_AUTH": ("유효하지 않은 인증 방식입니다.", "Invalid authentication method."),
    "INVALID_CARD_LOST_OR_STOLEN": ("분실 혹은 도난 카드입니다.", "This card was reported lost or stolen."),
    "RESTRICTED_TRANSFER_ACCOUNT": (
        "계좌는 등록 후 12시간 뒤부터 결제할 수 있습니다.",
        "An account can be used 12 hours after registration.",
    ),
    "INVALID_CARD_NUMBER": ("카드번호를 다시 확인해주세요.", "Please check the card number."),
    "INVALID_UNREGISTERED_SUBMALL": ("등록되지 않은 서브몰입니다.", "The sub-mall is not registered."),
    "NOT_REGISTERED_BUSINESS": ("등록되지 않은 사업자 번호입니다.", "The business number is not registered."),
    "EXCEED_MAX_ONE_DAY_WITHDRAW_AMOUNT": ("1일 출금 한도를 초과했습니다.", "Exceeded the daily withdrawal limit."),
    "EXCEED_MAX_ONE_TIME_WITHDRAW_AMOUNT": ("1회 출금 한도를 초과했습니다.", "Exceeded the per-withdrawal limit."),
    "CARD_PROCESSING_ERROR": ("카드사에서 오류가 발생했습니다.", "An error occurred at the card company."),
    "EXCEED_MAX_AMOUNT": ("거래금액 한도를 초과했습니다.", "Exceeded the transaction amount limit."),
    "INVALID_ACCOUNT_INFO_RE_REGISTER": (
        "유효하지 않은 계좌입니다. 계좌 재등록 후 시도해주세요.",
        "Invalid account. Please register the account again.",
    ),
    "NOT_AVAILABLE_PAYMENT": ("결제가 불가능한 시간대입니다.", "Payments are not available at this time."),
    "UNAPPROVED_ORDER_ID": ("아직 승인되지 않은 주문번호입니다.", "The order id has not been approved yet."),
    "UNAUTHORIZED_KEY": (
        "인증되지 않은 시크릿 키 혹은 클라이언트 키 입니다.",
        "Unauthorized secret key or client key.",
    ),
    "REJECT_ACCOUNT_PAYMENT": ("잔액부족으로 결제에 실패했습니다.", "The payment failed: insufficient balance."),
    "REJECT_CARD_PAYMENT": (
        "한도초과 혹은 잔액부족으로 결제에 실패했습니다.",
        "The payment failed: limit exceeded or insufficient balance.",
    ),
    "REJECT_CARD_COMPANY": ("결제 승인이 거절되었습니다.", "The card company refused the payment."),
    "FORBIDDEN_REQUEST": ("허용되지 않은 요청입니다.", "This request is not allowed."),
    "REJECT_TOSSPAY_INVALID_ACCOUNT": (
        "선택하신 출금 계좌가 출금이체 등록이 되어 있지 않아요. 계좌를 다시 등록해 주세요.",
        "The withdrawal account is not registered for debit.",
    ),
    "EXCEED_MAX_AUTH_COUNT": (
        "최대 인증 횟수를 초과했습니다. 카드사로 문의해주세요.",
        "Exceeded the maximum number of authentications.",
    ),
    "EXCEED_MAX_ONE_DAY_AMOUNT": ("일일 한도를 초과했습니다.", "Exceeded the daily limit."),
    "NOT_AVAILABLE_BANK": ("은행 서비스 시간이 아닙니다.", "The bank is outside its service hours."),
    "INVALID_PASSWORD": ("결제 비밀번호가 일치하지 않습니다.", "The payment password does not match."),
    "INCORRECT_BASIC_AUTH_FORMAT": (
        "잘못된 요청입니다. ':' 를 포함해 인코딩해주세요.",
        "Invalid request. Encode the key together with ':'.",
    ),
    "FDS_ERROR": (
        "위험거래가 감지되어 결제가 제한됩니다. 발송된 문자의 링크로 본인인증 후 결제가 가능합니다.",
        "A risky transaction was detected; verify yourself via the link sent by SMS.",
    ),
    "NOT_FOUND_PAYMENT": ("존재하지 않는 결제 입니다.", "The payment does not exist."),
    "NOT_FOUND_PAYMENT_SESSION": (
        "결제 시간이 만료되어 결제 진행 데이터가 존재하지 않습니다.",
        "The payment session expired.",
    ),
    "FAILED_PAYMENT_INTERNAL_SYSTEM_PROCESSING": (
        "결제가 완료되지 않았어요. 다시 시도해주세요.",
        "The payment was not completed. Please try again.",
    ),
    "FAILED_INTERNAL_SYSTEM_PROCESSING": (
        "내부 시스템 처리 작업이 실패했습니다. 잠시 후 다시 시도해주세요.",
        "Internal processing failed. Please try again later.",
    ),
    "UNKNOWN_PAYMENT_ERROR": (
        "결제에 실패했어요. 같은 문제가 반복된다면 은행이나 카드사로 문의해주세요.",
        "The payment failed. If it happens again, contact your bank or card company.",
    ),
    "PAY_PROCESS_CANCELED": ("사용자에 의해 결제가 취소되었습니다.", "The payment was canceled by the user."),
    "PAY_PROCESS_ABORTED": (
        "결제 진행 중 승인에 실패하여 결제가 중단되었습니다.",
        "The payment was aborted because its approval failed.",
    ),
    "EXPIRED_PAYMENT": (
        "결제 유효 시간이 지나 만료된 결제입니다.",
        "The payment expired because it was not confirmed in time.",
    ),
    # Toss's cancel codes (toss.md A4, cancel side)
    "ALREADY_CANCELED_PAYMENT": ("이미 취소된 결제 입니다.", "This payment has already been canceled."),
    "NOT_CANCELABLE_AMOUNT": ("취소 할 수 없는 금액 입니다.", "This amount cannot be canceled."),
    "NOT_CANCELABLE_PAYMENT": ("취소 할 수 없는 결제 입니다.", "This payment cannot be canceled."),
    "NOT_ALLOWED_PARTIAL_REFUND": (
        "부분 환불이 불가능한 결제입니다.",
        "Partial refunds are not allowed for this payment.",
    ),
    "EXCEED_MAX_REFUND_DUE": ("환불 가능한 기간이 지났습니다.", "The refund period has passed."),
    "NOT_MATCHES_REFUNDABLE_AMOUNT": (
        "잔액 결과가 일치하지 않습니다.",
        "The refundable amount does not match the balance.",
    ),
    "INVALID_REFUND_ACCOUNT_INFO": (
        "환불 계좌번호와 예금주명이 일치하지 않습니다.",
        "The refund account number and holder do not match.",
    ),
    # order's own verdicts (order/verdicts.py)
    "PAYMENT_ABORTED": ("결제가 중단되었습니다.", "The payment was aborted."),
    "PAYMENT_EXPIRED": ("결제 유효 시간이 지나 만료된 결제입니다.", "The payment expired."),
    "PAYMENT_CANCELED": ("결제가 취소되었습니다.", "The payment was canceled."),
    "PSP_AMOUNT_MISMATCH": (
        "결제사가 이 주문과 다른 금액을 승인해 그 결제를 취소했습니다.",
        "The PSP approved another amount for this order; that payment was canceled.",
    ),
    "PSP_KEY_MISMATCH": (
        "결제사가 이 주문을 다른 결제로 승인해 그 결제를 취소했습니다.",
        "The PSP approved this order with another payment; that payment was canceled.",
    ),
}


def failure_text(code: str, stored: str | None, lang: str) -> str:
    """The message of a failure with this code (and the words stored with it) in ``lang`` ('en' or Korean)."""
    known = PSP_MESSAGES.get(code)
    if lang == "en":
        if known:
            return known[1]
        if stored and stored.isascii():
            return stored
        return GENERIC_EN.format(code=code)
    if stored and _HANGUL.search(stored):
        return stored
    if known:
        return known[0]
    return GENERIC_KO.format(code=code)
