"""origins.py: which entries are origins, and which URLs an entry admits."""

from __future__ import annotations

import pytest
from pydantic import ValidationError

from kiwishop.toss_emulator.origins import Origin, allowed, parse_origin, parse_origins, url_origin
from kiwishop.toss_emulator.settings import TossEmulatorSettings


@pytest.mark.parametrize(
    ("entry", "origin"),
    [
        ("http://localhost:8080", Origin("http", "localhost", 8080)),
        (" HTTPS://Shop.Example/ ", Origin("https", "shop.example", 443)),
        ("http://shop.example", Origin("http", "shop.example", 80)),
        ("http://127.0.0.1:*", Origin("http", "127.0.0.1", None)),
        ("http://[::1]:*", Origin("http", "[::1]", None)),
    ],
)
def test_an_entry_is_an_origin(entry: str, origin: Origin) -> None:
    assert parse_origin(entry) == origin


@pytest.mark.parametrize(
    "entry",
    [
        "shop.example",
        "ftp://shop.example",
        "http://shop.example/path",
        "http://user@shop.example",
        "http://shop.example:*",  # any port: loopback only
        "http://shop.example:0",
        "http://shop.example:70000",
        "http://*:8080",
        "",
    ],
)
def test_anything_else_is_refused_and_stops_the_settings(entry: str) -> None:
    with pytest.raises(ValueError, match=r"origin|port"):
        parse_origin(entry)
    with pytest.raises(ValidationError):
        TossEmulatorSettings(allowed_redirect_origins=f"http://localhost:8080,{entry}" if entry else "http://,")


def test_the_setting_takes_a_comma_separated_list_or_json() -> None:
    listed = TossEmulatorSettings(allowed_redirect_origins="http://a.example, http://b.example:81")
    assert listed.allowed_redirect_origins == ("http://a.example", "http://b.example:81")
    assert TossEmulatorSettings(allowed_redirect_origins='["http://a.example"]').allowed_redirect_origins == (
        "http://a.example",
    )


@pytest.mark.parametrize(
    ("url", "found"),
    [
        ("http://localhost:8080/success?x=1#f", ("http", "localhost", 8080)),
        ("https://SHOP.example/s", ("https", "shop.example", 443)),
        ("http://[::1]:9000/s", ("http", "[::1]", 9000)),
        ("http://user:pw@localhost:8080/s", None),
        ("http://evil.example\\@localhost:8080/s", None),
        ("http://localhost:8080\\@evil.example/s", None),
        ("http://localhost:/s", None),
        ("http://localhost:99999/s", None),
        ("javascript://localhost:8080/%0aalert(1)", None),
        ("//localhost:8080/s", None),
        ("http://[::1/s", None),
    ],
)
def test_a_url_has_an_origin_only_when_its_authority_is_plain(url: str, found: tuple[str, str, int] | None) -> None:
    assert url_origin(url) == found


def test_a_url_is_allowed_by_an_entry_with_its_scheme_host_and_port() -> None:
    origins = parse_origins(("http://localhost:8080", "http://127.0.0.1:*"))
    assert allowed("http://localhost:8080/s", origins)
    assert allowed("http://127.0.0.1:1/s", origins)
    assert allowed("http://127.0.0.1/s", origins)
    assert not allowed("http://localhost/s", origins)
    assert not allowed("https://127.0.0.1:8080/s", origins)
    assert not allowed("http://localhost:8080/s", ())
