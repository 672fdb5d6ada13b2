"""The pages' session pieces that need no server: where a login may go back to, and the cookies' attributes."""

from __future__ import annotations

import pytest
from fastapi.responses import Response

from kiwishop.order.page_session import (
    drop_session_cookie,
    local_path,
    login_url,
    new_csrf,
    set_csrf_cookie,
    set_session_cookie,
)


@pytest.mark.parametrize(
    "raw",
    [
        None, "", "//evil.example", "/\\evil.example", "https://evil.example/", "evil.example", "javascript:alert(1)",
        "/\t/evil.example", "/\n/evil.example", "/ok\\..\\", "/" + "a" * 2048, "/쇼핑",
    ],
)  # fmt: skip
def test_a_next_that_is_not_a_path_of_this_site_is_the_shop(raw: str | None) -> None:
    assert local_path(raw) == "/"


@pytest.mark.parametrize("raw", ["/", "/my/orders", "/?productNoList=2&productNoList=3", "/success?orderId=a-b_c"])
def test_a_path_of_this_site_is_kept(raw: str) -> None:
    assert local_path(raw) == raw


def test_the_login_url_carries_the_way_back_encoded() -> None:
    assert login_url("/my/orders") == "/login?next=/my/orders"
    assert login_url("/?productNoList=2&x=1") == "/login?next=/%3FproductNoList%3D2%26x%3D1"
    assert login_url("//evil.example") == "/login?next=/"


def _set_cookie(response: Response) -> str:
    [header] = response.headers.getlist("set-cookie")
    return header


@pytest.mark.parametrize("secure", [False, True])
def test_the_cookies_are_http_only_with_their_same_site_and_secure_when_asked(secure: bool) -> None:
    session = Response()
    set_session_cookie(session, "token", 900, secure)
    header = _set_cookie(session)
    assert header.startswith("kiwi_session=token;")
    for part in ("HttpOnly", "Max-Age=900", "Path=/", "SameSite=lax"):
        assert part in header
    assert ("Secure" in header) is secure

    csrf = Response()
    value = new_csrf()
    set_csrf_cookie(csrf, value, secure)
    header = _set_cookie(csrf)
    assert header.startswith(f"kiwi_csrf={value};")
    for part in ("HttpOnly", "Path=/", "SameSite=strict"):
        assert part in header
    assert ("Secure" in header) is secure

    gone = Response()
    drop_session_cookie(gone, secure)
    header = _set_cookie(gone)
    assert header.startswith('kiwi_session="";')
    assert "Max-Age=0" in header


def test_csrf_values_are_random() -> None:
    values = {new_csrf() for _ in range(100)}
    assert len(values) == 100
    assert all(len(v) >= 43 for v in values)
