"""Per-field validation messages (the ``details`` of a 400) in the client's language.

English is pydantic's own message. Korean comes from ``KO``, keyed by pydantic's error type and filled from
the error's context (``{ge}``, ``{max_length}``, …); a type not listed gets a generic Korean message, never
English. A custom error (``PydanticCustomError``) brings its Korean template in its context as ``ko``::

    PydanticCustomError("whole_won", "Must be whole won: {price}", {"price": v, "ko": "원 단위여야 합니다: {price}"})
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

GENERIC_KO = "값이 올바르지 않습니다."

KO: dict[str, str] = {
    "missing": "필수 값입니다.",
    "extra_forbidden": "허용되지 않은 필드입니다.",
    "json_invalid": "JSON 형식이 올바르지 않습니다.",
    "json_type": "JSON 형식이 올바르지 않습니다.",
    "model_type": "객체여야 합니다.",
    "model_attributes_type": "객체여야 합니다.",
    "dict_type": "객체여야 합니다.",
    "list_type": "목록이어야 합니다.",
    "too_short": "항목이 {min_length}개 이상이어야 합니다.",
    "too_long": "항목은 최대 {max_length}개입니다.",
    "int_type": "정수여야 합니다.",
    "int_parsing": "정수여야 합니다.",
    "int_parsing_size": "정수가 너무 큽니다.",
    "int_from_float": "소수 부분이 없는 정수여야 합니다.",
    "float_type": "숫자여야 합니다.",
    "float_parsing": "숫자여야 합니다.",
    "decimal_type": "숫자여야 합니다.",
    "decimal_parsing": "숫자여야 합니다.",
    "decimal_max_digits": "전체 자릿수는 최대 {max_digits}자리입니다.",
    "decimal_max_places": "소수점 아래는 최대 {decimal_places}자리입니다.",
    "decimal_whole_digits": "정수 부분은 최대 {whole_digits}자리입니다.",
    "finite_number": "유한한 숫자여야 합니다.",
    "greater_than": "{gt}보다 커야 합니다.",
    "greater_than_equal": "{ge} 이상이어야 합니다.",
    "less_than": "{lt}보다 작아야 합니다.",
    "less_than_equal": "{le} 이하여야 합니다.",
    "bool_type": "true 또는 false 여야 합니다.",
    "bool_parsing": "true 또는 false 여야 합니다.",
    "string_type": "문자열이어야 합니다.",
    "string_unicode": "올바른 유니코드 문자열이 아닙니다.",
    "string_too_short": "{min_length}자 이상이어야 합니다.",
    "string_too_long": "최대 {max_length}자입니다.",
    "string_pattern_mismatch": "형식이 올바르지 않습니다. 허용 형식: {pattern}",
    "literal_error": "다음 중 하나여야 합니다: {expected}",
    "enum": "다음 중 하나여야 합니다: {expected}",
    "value_error": GENERIC_KO,
}


def validation_message(error: Mapping[str, Any], lang: str) -> str:
    """One pydantic error's message: pydantic's English with ``lang == 'en'``, Korean otherwise."""
    if lang == "en":
        return str(error.get("msg", ""))
    ctx = error.get("ctx") or {}
    custom = ctx.get("ko")
    template = custom if isinstance(custom, str) else KO.get(str(error.get("type", "")), GENERIC_KO)
    try:
        return template.format(**{key: value for key, value in ctx.items() if key != "ko"})
    except (KeyError, IndexError, ValueError):
        return template
