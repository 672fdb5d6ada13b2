"""Errors are data: ``raise AppError(SomeCode.X)``; one handler renders ``{"code", "message"}``.

Every service defines its codes as an ``ErrorCode`` enum whose values are
``(code, http_status, korean_message, english_message)``. Messages may hold ``{name}`` placeholders
filled from ``AppError(..., name=value)``. Korean is the default language; ``Accept-Language: en``
selects English.
"""

from __future__ import annotations

import enum
from collections.abc import Mapping
from typing import Any


class ErrorCode(enum.Enum):
    """Base for every service's error enum (members are 4-tuples)."""

    def __init__(self, code: str, status: int, ko: str, en: str) -> None:
        self.code = code
        self.status = status
        self.ko = ko
        self.en = en

    def message(self, lang: str, params: dict[str, Any] | None = None) -> str:
        template = self.en if lang == "en" else self.ko
        if not params:
            return template
        try:
            return template.format(**params)
        except (KeyError, IndexError):
            return template


class CommonError(ErrorCode):
    INVALID_REQUEST = ("INVALID_REQUEST", 400, "요청 값이 올바르지 않습니다.", "The request is invalid.")
    MALFORMED_JSON = (
        "MALFORMED_JSON",
        400,
        "JSON 형식이 올바르지 않습니다.",
        "The request body is not valid JSON.",
    )
    NOT_FOUND = ("NOT_FOUND", 404, "요청한 경로를 찾을 수 없습니다.", "No such resource.")
    METHOD_NOT_ALLOWED = ("METHOD_NOT_ALLOWED", 405, "허용되지 않은 메서드입니다.", "Method not allowed.")
    NOT_ACCEPTABLE = ("NOT_ACCEPTABLE", 406, "지원하지 않는 응답 형식입니다.", "Not acceptable.")
    UNSUPPORTED_MEDIA_TYPE = (
        "UNSUPPORTED_MEDIA_TYPE",
        415,
        "지원하지 않는 Content-Type 입니다.",
        "Unsupported media type.",
    )
    PAYLOAD_TOO_LARGE = (
        "PAYLOAD_TOO_LARGE",
        413,
        "요청 본문이 너무 큽니다 (최대 {limit}바이트).",
        "The request body is too large (at most {limit} bytes).",
    )
    TOO_MANY_REQUESTS = (
        "TOO_MANY_REQUESTS",
        429,
        "요청이 너무 많습니다. {retry_after}초 후에 다시 시도해 주세요.",
        "Too many requests: try again in {retry_after} s.",
    )
    CONFLICT = (
        "CONFLICT",
        409,
        "요청이 현재 상태와 충돌합니다.",
        "The request conflicts with the current state.",
    )
    INTERNAL_ERROR = ("INTERNAL_ERROR", 500, "서버 내부 오류가 발생했습니다.", "Internal server error.")
    SERVICE_UNAVAILABLE = (
        "SERVICE_UNAVAILABLE",
        503,
        "일시적으로 서비스를 이용할 수 없습니다.",
        "The service is temporarily unavailable.",
    )


class AppError(Exception):
    """A business error with a stable code; rendered as JSON by the app's error handler."""

    def __init__(
        self,
        code: ErrorCode,
        *,
        details: list[dict[str, Any]] | None = None,
        headers: Mapping[str, str] | None = None,
        **params: Any,
    ) -> None:
        super().__init__(code.code)
        self.code = code
        self.params = params
        self.details = details
        self.headers = dict(headers or {})  # sent with the answer (e.g. Retry-After on a 429)

    @property
    def status(self) -> int:
        return self.code.status

    def body(self, lang: str = "ko") -> dict[str, Any]:
        body: dict[str, Any] = {"code": self.code.code, "message": self.code.message(lang, self.params)}
        if self.details:
            body["details"] = self.details
        return body


def language(accept_language: str | None) -> str:
    """'en' when the client prefers English, otherwise Korean."""
    if not accept_language:
        return "ko"
    first = accept_language.split(",")[0].strip().lower()
    return "en" if first.startswith("en") else "ko"
