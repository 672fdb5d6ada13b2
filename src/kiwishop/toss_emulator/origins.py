"""Where the payment window may send the buyer back (``allowed_redirect_origins``). Stdlib only.

The window answers with a redirect to the ``successUrl`` or ``failUrl`` it was opened with: without a check, any
page could open the window with its own URLs and use the emulator to bounce a browser anywhere (an open
redirect), with a fresh paymentKey attached. So a URL is accepted only at an allowed origin.

- An entry is an origin, ``scheme://host[:port]`` (http or https, nothing after the port but an optional ``/``):
  ``http://localhost:8080``. A loopback host (``localhost``, ``127.0.0.1``, ``[::1]``) may take the port ``*``
  (any port): tests run their shop on a free port.
- A URL is allowed when its scheme, host and port (the scheme's default when it names none) are an entry's.
- A URL whose authority is more than ``host[:port]`` (a user part, a backslash, a stray character) is never
  allowed: a browser and Python's parser could read different hosts out of it.
"""

from __future__ import annotations

import re
from collections.abc import Sequence
from dataclasses import dataclass
from functools import cache
from urllib.parse import urlsplit

LOOPBACK = frozenset({"localhost", "127.0.0.1", "[::1]"})
DEFAULT_PORTS = {"http": 80, "https": 443}
_HOST = r"(?P<host>[a-z0-9](?:[a-z0-9.-]*[a-z0-9])?|\[[0-9a-f:.]+\])"
_AUTHORITY = re.compile(_HOST + r"(?::(?P<port>[0-9]{1,5}))?")
_ENTRY = re.compile(r"(?P<scheme>https?)://" + _HOST + r"(?::(?P<port>[0-9]{1,5}|\*))?/?")


@dataclass(frozen=True)
class Origin:
    scheme: str
    host: str
    port: int | None  # None: any port (loopback hosts only)

    def admits(self, scheme: str, host: str, port: int) -> bool:
        return (self.scheme, self.host) == (scheme, host) and self.port in (None, port)


def parse_origin(entry: str) -> Origin:
    """One entry of the setting; ``ValueError`` when it is not an origin as described above."""
    match = _ENTRY.fullmatch(entry.strip().lower())
    if match is None:
        raise ValueError(f"{entry!r} is not an origin (scheme://host[:port], http or https)")
    scheme, host, port = match.group("scheme"), match.group("host"), match.group("port")
    if port == "*":
        if host not in LOOPBACK:
            raise ValueError(f"{entry!r}: only a loopback host (localhost, 127.0.0.1, [::1]) may have the port *")
        return Origin(scheme, host, None)
    number = DEFAULT_PORTS[scheme] if port is None else int(port)
    if not 1 <= number <= 65535:
        raise ValueError(f"{entry!r}: the port must be 1-65535")
    return Origin(scheme, host, number)


@cache
def parse_origins(entries: tuple[str, ...]) -> tuple[Origin, ...]:
    return tuple(parse_origin(entry) for entry in entries)


def url_origin(url: str) -> tuple[str, str, int] | None:
    """(scheme, host, port) of an absolute http(s) URL, or None when it has none this module trusts."""
    try:
        parts = urlsplit(url)
    except ValueError:
        return None
    scheme = parts.scheme.lower()
    match = _AUTHORITY.fullmatch(parts.netloc.lower())
    if scheme not in DEFAULT_PORTS or match is None:
        return None
    port = DEFAULT_PORTS[scheme] if match.group("port") is None else int(match.group("port"))
    return (scheme, match.group("host"), port) if 1 <= port <= 65535 else None


def allowed(url: str, origins: Sequence[Origin]) -> bool:
    found = url_origin(url)
    return found is not None and any(origin.admits(*found) for origin in origins)
