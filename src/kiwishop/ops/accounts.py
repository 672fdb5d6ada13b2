"""``kiwishop account add``: an account in identity's database, for production, where nothing is seeded — the
operators' own logins (role ops: the console, the APIs' ops routes) and the console's collection login.

The password is read from ``KIWI_NEW_ACCOUNT_PASSWORD`` or, without it, asked on the terminal (never an argument:
it would stay in the shell's history and the process list). It is stored only as identity stores every password
(argon2id, ``identity.handlers.create_account``)."""

from __future__ import annotations

import asyncio
import getpass
import os

from kiwishop.identity.domain import AccountRole
from kiwishop.identity.handlers import create_account
from kiwishop.identity.settings import IdentitySettings
from kiwishop.platform.db import Database
from kiwishop.platform.errors import AppError
from kiwishop.platform.ids import Snowflake

MIN_PASSWORD = 12


def new_password() -> str:
    password = os.environ.get("KIWI_NEW_ACCOUNT_PASSWORD") or getpass.getpass("password: ")
    if len(password) < MIN_PASSWORD:
        raise ValueError(f"a password needs at least {MIN_PASSWORD} characters")
    return password


async def add_account(
    settings: IdentitySettings, *, login_id: str, password: str, role: AccountRole,
    member_no: int | None = None, seller_no: int | None = None,
) -> int:  # fmt: skip
    """The new account's number; ``AppError`` for a login id already taken or numbers that don't fit the role."""
    db = Database.connect(settings.infra, settings.db_name)
    try:
        account = await create_account(
            db, Snowflake(settings.node_id), login_id=login_id, password=password, role=role,
            member_no=member_no, seller_no=seller_no,
        )  # fmt: skip
    finally:
        await db.close()
    return account.account_no


def run(login_id: str, role: str, member_no: int | None, seller_no: int | None) -> int:
    try:
        password, kind = new_password(), AccountRole(role)
        adding = add_account(
            IdentitySettings(),
            login_id=login_id,
            password=password,
            role=kind,
            member_no=member_no,
            seller_no=seller_no,
        )
        number = asyncio.run(adding)
    except (ValueError, AppError) as exc:
        print(f"account add: {exc}")
        return 2
    print(f"account {number}: {login_id} ({role})")
    return 0
