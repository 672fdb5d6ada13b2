"""``kiwishop account add``: a production login made from the command line logs in through identity's API with the
role it was given; a taken login id or a short password adds nothing."""

from __future__ import annotations

import httpx
import pytest

from kiwishop.identity.domain import AccountRole
from kiwishop.identity.settings import IdentitySettings
from kiwishop.ops import accounts
from kiwishop.platform.errors import AppError
from tests.support import unique


async def test_an_added_ops_account_logs_in_as_ops(
    identity_settings: IdentitySettings, identity: httpx.AsyncClient
) -> None:
    login_id = unique("console-collector")
    number = await accounts.add_account(
        identity_settings, login_id=login_id, password="a-long-enough-secret", role=AccountRole.OPS
    )
    token = await identity.post("/api/auth/token", json={"loginId": login_id, "password": "a-long-enough-secret"})
    assert token.status_code == 200, token.text
    assert (token.json()["role"], token.json()["memberNo"]) == ("ops", None)
    who = await identity.get("/api/auth/me", headers={"Authorization": f"Bearer {token.json()['accessToken']}"})
    assert who.json()["subject"] == str(number)
    with pytest.raises(AppError):  # the login id is taken
        await accounts.add_account(
            identity_settings, login_id=login_id, password="another-secret-1", role=AccountRole.OPS
        )
    wrong = await identity.post("/api/auth/token", json={"loginId": login_id, "password": "another-secret-1"})
    assert wrong.status_code == 401


def test_a_short_password_is_refused_before_anything_is_written(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("KIWI_NEW_ACCOUNT_PASSWORD", "short")
    assert accounts.run("someone", "ops", None, None) == 2
