"""``kiwishop token --member N | --seller N | --ops``: a bearer token for the local stack.

Logs in at the running identity service (``--url``, default ``http://127.0.0.1:<KIWI_IDENTITY_PORT or 8089>``)
with the local seed account's credentials (``member<N>`` / ``member<N>-password``, ``seller<N>`` /
``seller<N>-password``, ``ops`` / ``ops-password``; identity/migrations.py, LOCAL ONLY) and prints one line
about the token, then the token alone on the last line::

    curl -H "Authorization: Bearer $(kiwishop token --member 1 | tail -1)" localhost:8089/api/auth/me
"""

from __future__ import annotations

import json
import sys
import urllib.error
import urllib.request

from kiwishop.identity.settings import IdentitySettings


def seed_credentials(*, member: int | None = None, seller: int | None = None, ops: bool = False) -> tuple[str, str]:
    """The local seed account's login id and password (only members 1-3, seller 1 and ops exist)."""
    if member is not None:
        login_id = f"member{member}"
    elif seller is not None:
        login_id = f"seller{seller}"
    elif ops:
        login_id = "ops"
    else:
        raise ValueError("one of member, seller or ops")
    return login_id, f"{login_id}-password"


def default_url() -> str:
    return f"http://127.0.0.1:{IdentitySettings().port}"


def fetch_token(url: str, login_id: str, password: str, *, timeout_s: float = 10.0) -> dict[str, object]:
    body = json.dumps({"loginId": login_id, "password": password}).encode()
    request = urllib.request.Request(  # noqa: S310 (the URL is the developer's own, http on loopback by default)
        f"{url.rstrip('/')}/api/auth/token",
        data=body,
        headers={"Content-Type": "application/json", "Accept-Language": "en"},
        method="POST",
    )
    with urllib.request.urlopen(request, timeout=timeout_s) as response:  # noqa: S310
        answer: dict[str, object] = json.loads(response.read())
    return answer


def main(*, member: int | None, seller: int | None, ops: bool, url: str | None) -> int:
    login_id, password = seed_credentials(member=member, seller=seller, ops=ops)
    base = url or default_url()
    try:
        answer = fetch_token(base, login_id, password)
    except urllib.error.HTTPError as exc:
        detail = exc.read().decode(errors="replace")[:300]
        print(f"kiwishop token: {base} refused {login_id}: {exc.code} {detail}", file=sys.stderr)
        if exc.code == 401:
            print("  the local seed accounts are member1-3, seller1 and ops", file=sys.stderr)
        return 1
    except (urllib.error.URLError, OSError) as exc:
        print(f"kiwishop token: identity is not reachable at {base} ({exc}); is `make run` up?", file=sys.stderr)
        return 1
    print(f"# {answer['role']} {login_id}: expires in {answer['expiresIn']} s; use as Authorization: Bearer <token>")
    print(answer["accessToken"], flush=True)
    return 0
