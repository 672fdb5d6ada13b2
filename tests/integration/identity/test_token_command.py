"""`kiwishop token` against an identity service served over real HTTP: its last line is a token that verifies."""

from __future__ import annotations

import asyncio
import sys

import httpx

from kiwishop.identity.app import create_app
from kiwishop.identity.settings import IdentitySettings
from kiwishop.platform.identity import HttpJwksFetcher, Principal, Role, TokenVerifier
from tests.support import dead_url, served_app


async def kiwishop_token(*args: str) -> tuple[int, str, str]:
    proc = await asyncio.create_subprocess_exec(
        sys.executable, "-m", "kiwishop", "token", *args,
        stdout=asyncio.subprocess.PIPE, stderr=asyncio.subprocess.PIPE,
    )  # fmt: skip
    out, err = await asyncio.wait_for(proc.communicate(), timeout=60)
    return proc.returncode or 0, out.decode(), err.decode()


async def test_the_last_line_is_a_token_of_the_seed_account(identity_settings: IdentitySettings) -> None:
    async with served_app(create_app(identity_settings)) as url:
        fetcher = HttpJwksFetcher(f"{url}/.well-known/jwks.json")
        verifier = TokenVerifier(fetcher)
        try:
            for args, expected in [
                (("--member", "2"), Principal(Role.MEMBER, "2", member_no=2)),
                (("--seller", "1"), Principal(Role.SELLER, "4", seller_no=1)),
                (("--ops",), Principal(Role.OPS, "5")),
            ]:
                code, out, err = await kiwishop_token(*args, "--url", url)
                assert code == 0, err
                token = out.strip().splitlines()[-1]
                assert await verifier.verify(token) == expected
                async with httpx.AsyncClient(base_url=url) as client:
                    me = await client.get("/api/auth/me", headers={"Authorization": f"Bearer {token}"})
                assert me.status_code == 200
        finally:
            await fetcher.aclose()
        code, out, err = await kiwishop_token("--member", "99", "--url", url)
        assert code == 1
        assert "401" in err


async def test_it_says_so_when_identity_is_not_running() -> None:
    code, _, err = await kiwishop_token("--ops", "--url", dead_url())
    assert code == 1
    assert "not reachable" in err
